/**
 * XDR (RFC 4506): big-endian, every item padded to a multiple of 4 bytes.
 *
 * The reader hands out views into its buffer (no copies): a decoded opaque is
 * only valid while the caller keeps the request buffer. The writer gathers
 * small items into one growing buffer and keeps large payloads (a READ reply's
 * data) as references, so `toBuffers()` can be written with one writev.
 */

/** Input that is not valid XDR for the expected type: the RPC layer answers GARBAGE_ARGS. */
export class XdrDecodeError extends Error {
  override name = 'XdrDecodeError';
}

const pad = (n: number): number => (4 - (n & 3)) & 3;

/** Largest value a JS number carries exactly; hyper values beyond it decode as bigint in readUHyperBig. */
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export class XdrReader {
  private pos: number;

  constructor(
    private readonly buf: Buffer,
    offset = 0,
    private readonly end = buf.length,
  ) {
    this.pos = offset;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throw unless every byte has been consumed (trailing garbage is malformed). */
  done(what = 'message'): void {
    if (this.pos !== this.end) throw new XdrDecodeError(`${this.end - this.pos} unexpected bytes after the ${what}`);
  }

  private take(n: number, what: string): number {
    if (n > this.end - this.pos) throw new XdrDecodeError(`truncated ${what}: need ${n} bytes, ${this.end - this.pos} left`);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  uint32(what = 'unsigned int'): number {
    return this.buf.readUInt32BE(this.take(4, what));
  }

  int32(what = 'int'): number {
    return this.buf.readInt32BE(this.take(4, what));
  }

  /** An unsigned hyper as a number; values above 2^53-1 are refused (no file or volume is that large). */
  uhyper(what = 'unsigned hyper'): number {
    const v = this.uhyperBig(what);
    if (v > MAX_SAFE) throw new XdrDecodeError(`${what} ${v} exceeds 2^53-1`);
    return Number(v);
  }

  /**
   * An unsigned hyper as a number, values above 2^53-1 clamped to 2^53: for offsets and sizes a peer may
   * send beyond any real file (the handler answers FBIG or EOF instead of the call failing to decode).
   */
  uhyperClamped(what = 'unsigned hyper'): number {
    const v = this.uhyperBig(what);
    return v > MAX_SAFE ? 2 ** 53 : Number(v);
  }

  uhyperBig(what = 'unsigned hyper'): bigint {
    return this.buf.readBigUInt64BE(this.take(8, what));
  }

  hyperBig(what = 'hyper'): bigint {
    return this.buf.readBigInt64BE(this.take(8, what));
  }

  bool(what = 'bool'): boolean {
    const v = this.uint32(what);
    if (v > 1) throw new XdrDecodeError(`${what} must be 0 or 1, got ${v}`);
    return v === 1;
  }

  /** An enum value that must be one of `allowed`. */
  enumOf<T extends number>(allowed: ReadonlySet<number>, what: string): T {
    const v = this.int32(what);
    if (!allowed.has(v)) throw new XdrDecodeError(`${what} ${v} is not a known value`);
    return v as T;
  }

  /** opaque x[n]: a view of n bytes, padding checked to be present. */
  fixedOpaque(n: number, what = 'fixed opaque'): Buffer {
    const at = this.take(n + pad(n), what);
    return this.buf.subarray(at, at + n);
  }

  /** opaque x<max>: a view of the bytes. */
  varOpaque(max = 0xffffffff, what = 'opaque'): Buffer {
    const n = this.uint32(`${what} length`);
    if (n > max) throw new XdrDecodeError(`${what} of ${n} bytes exceeds its limit of ${max}`);
    return this.fixedOpaque(n, what);
  }

  /** string x<max>, decoded as UTF-8. */
  string(max = 0xffffffff, what = 'string'): string {
    return this.varOpaque(max, what).toString('utf8');
  }

  /** T x<max>: a counted array. */
  array<T>(item: (r: XdrReader) => T, max = 0xffffffff, what = 'array'): T[] {
    const n = this.uint32(`${what} count`);
    if (n > max) throw new XdrDecodeError(`${what} of ${n} items exceeds its limit of ${max}`);
    // Each item takes at least 4 bytes: refuse counts the input cannot hold before looping.
    if (n * 4 > this.remaining) throw new XdrDecodeError(`truncated ${what}: ${n} items cannot fit in ${this.remaining} bytes`);
    const out: T[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = item(this);
    return out;
  }

  /** T *x: an optional item (bool then the item). */
  optional<T>(item: (r: XdrReader) => T, what = 'optional'): T | undefined {
    return this.bool(what) ? item(this) : undefined;
  }

  /**
   * A linked list, `struct *list { T item; list next; }`: TRUE before each
   * item, FALSE at the end (the RFCs' way to send lists of unknown length).
   */
  list<T>(item: (r: XdrReader) => T, max = 0xffffffff, what = 'list'): T[] {
    const out: T[] = [];
    while (this.bool(`${what} next`)) {
      if (out.length >= max) throw new XdrDecodeError(`${what} exceeds its limit of ${max} items`);
      out.push(item(this));
    }
    return out;
  }
}

/** Payloads at least this large are kept by reference instead of copied. */
const REF_THRESHOLD = 512;

export class XdrWriter {
  private buf: Buffer;
  private pos = 0;
  /** Finished pieces (copied buffers and referenced payloads) before `buf`. */
  private readonly chunks: Buffer[] = [];
  private flushedBytes = 0;

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.flushedBytes + this.pos;
  }

  private room(n: number): number {
    if (this.pos + n > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
      this.buf.copy(next, 0, 0, this.pos);
      this.buf = next;
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  uint32(v: number): this {
    const at = this.room(4);
    this.buf.writeUInt32BE(v >>> 0, at);
    return this;
  }

  int32(v: number): this {
    const at = this.room(4);
    this.buf.writeInt32BE(v | 0, at);
    return this;
  }

  uhyper(v: number | bigint): this {
    const at = this.room(8);
    // Two words for a safe integer: BigInt conversion costs about three times as much, five times per fattr3.
    if (typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER) {
      this.buf.writeUInt32BE(Math.floor(v / 4294967296), at);
      this.buf.writeUInt32BE(v >>> 0, at + 4);
    } else this.buf.writeBigUInt64BE(BigInt(v), at);
    return this;
  }

  hyper(v: number | bigint): this {
    const at = this.room(8);
    this.buf.writeBigInt64BE(BigInt(v), at);
    return this;
  }

  bool(v: boolean): this {
    return this.uint32(v ? 1 : 0);
  }

  /** opaque x[n]: the caller guarantees data.length is the fixed size. */
  fixedOpaque(data: Buffer): this {
    if (data.length >= REF_THRESHOLD) {
      this.cut();
      this.chunks.push(data);
      this.flushedBytes += data.length;
      const p = pad(data.length);
      if (p) {
        const at = this.room(p);
        this.buf.fill(0, at, this.pos);
      }
      return this;
    }
    const at = this.room(data.length + pad(data.length));
    data.copy(this.buf, at);
    this.buf.fill(0, at + data.length, this.pos);
    return this;
  }

  varOpaque(data: Buffer): this {
    return this.uint32(data.length).fixedOpaque(data);
  }

  string(s: string): this {
    const n = Buffer.byteLength(s, 'utf8');
    this.uint32(n);
    const at = this.room(n + pad(n));
    this.buf.write(s, at, 'utf8');
    this.buf.fill(0, at + n, this.pos);
    return this;
  }

  array<T>(items: readonly T[], item: (w: XdrWriter, v: T) => void): this {
    this.uint32(items.length);
    for (const v of items) item(this, v);
    return this;
  }

  optional<T>(v: T | undefined, item: (w: XdrWriter, v: T) => void): this {
    this.bool(v !== undefined);
    if (v !== undefined) item(this, v);
    return this;
  }

  /** A linked list (see XdrReader.list): TRUE before each item, FALSE at the end. */
  list<T>(items: readonly T[], item: (w: XdrWriter, v: T) => void): this {
    for (const v of items) item(this.bool(true), v);
    return this.bool(false);
  }

  /** Reserve a uint32 to fill in later (a count or length known only at the end). */
  placeholder(): (v: number) => void {
    const logical = this.length;
    this.room(4);
    return (v: number) => this.patch(logical, v);
  }

  private patch(logical: number, v: number): void {
    let base = 0;
    for (const c of this.chunks) {
      if (logical < base + c.length) return void c.writeUInt32BE(v >>> 0, logical - base);
      base += c.length;
    }
    this.buf.writeUInt32BE(v >>> 0, logical - base);
  }

  /** Move the bytes gathered so far into the chunk list (before a referenced payload). */
  private cut(): void {
    if (this.pos === 0) return;
    this.chunks.push(this.buf.subarray(0, this.pos));
    this.flushedBytes += this.pos;
    this.buf = Buffer.allocUnsafe(Math.max(256, this.buf.length - this.pos));
    this.pos = 0;
  }

  /** The encoded bytes as pieces to write in order (no copy of referenced payloads). */
  toBuffers(): Buffer[] {
    return this.pos > 0 ? [...this.chunks, this.buf.subarray(0, this.pos)] : [...this.chunks];
  }

  /** The encoded bytes as one buffer (copies when payloads were referenced). */
  toBuffer(): Buffer {
    if (this.chunks.length === 0) return this.buf.subarray(0, this.pos);
    return Buffer.concat(this.toBuffers(), this.length);
  }
}
