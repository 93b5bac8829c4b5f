import { SbpDecodeError, Status } from './constants';

/** Bounds-checked big-endian reads; running off the end is GARBAGE, never a RangeError. */
export class Reader {
  private pos = 0;

  constructor(
    private readonly buf: Buffer,
    private readonly what: string,
  ) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number, field: string): number {
    if (this.buf.length - this.pos < n) {
      throw new SbpDecodeError(Status.GARBAGE, `${this.what}: truncated at ${field} (need ${n} bytes at ${this.pos}, have ${this.buf.length - this.pos})`);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(field: string): number {
    return this.buf[this.need(1, field)];
  }
  u16(field: string): number {
    return this.buf.readUInt16BE(this.need(2, field));
  }
  u32(field: string): number {
    return this.buf.readUInt32BE(this.need(4, field));
  }
  /** u64 as a number: offsets and sizes stay below 2^53 (8 PiB). */
  u64(field: string): number {
    const at = this.need(8, field);
    const hi = this.buf.readUInt32BE(at);
    if (hi >= 0x200000) throw new SbpDecodeError(Status.GARBAGE, `${this.what}: ${field} exceeds 2^53`);
    return hi * 0x1_0000_0000 + this.buf.readUInt32BE(at + 4);
  }
  u64big(field: string): bigint {
    return this.buf.readBigUInt64BE(this.need(8, field));
  }
  bytes(n: number, field: string): Buffer {
    const at = this.need(n, field);
    return this.buf.subarray(at, at + n);
  }
  str(field: string): string {
    const n = this.u16(`${field} length`);
    const raw = this.bytes(n, field);
    const text = raw.toString('utf8');
    if (Buffer.byteLength(text) !== n) throw new SbpDecodeError(Status.GARBAGE, `${this.what}: ${field} is not UTF-8`);
    return text;
  }
  /** Everything left: a message's data. */
  rest(): Buffer {
    return this.bytes(this.remaining, 'data');
  }
  end(): void {
    if (this.remaining !== 0) throw new SbpDecodeError(Status.GARBAGE, `${this.what}: ${this.remaining} trailing bytes`);
  }
}

/** Big-endian writes into a buffer sized up front by the caller, or into the caller's own buffer from its start. */
export class Writer {
  private pos = 0;
  readonly buf: Buffer;

  constructor(sizeOrBuffer: number | Buffer) {
    this.buf = typeof sizeOrBuffer === 'number' ? Buffer.allocUnsafe(sizeOrBuffer) : sizeOrBuffer;
  }

  u8(v: number): this {
    this.buf[this.pos++] = v;
    return this;
  }
  u16(v: number): this {
    this.pos = this.buf.writeUInt16BE(v, this.pos);
    return this;
  }
  u32(v: number): this {
    this.pos = this.buf.writeUInt32BE(v >>> 0, this.pos);
    return this;
  }
  u64(v: number | bigint): this {
    this.pos = this.buf.writeBigUInt64BE(BigInt(v), this.pos);
    return this;
  }
  bytes(b: Buffer): this {
    this.pos += b.copy(this.buf, this.pos);
    return this;
  }
  str(s: string): this {
    const n = Buffer.byteLength(s);
    if (n > 0xffff) throw new RangeError('string longer than 65535 bytes');
    this.u16(n);
    this.pos += this.buf.write(s, this.pos, 'utf8');
    return this;
  }
  done(): Buffer {
    if (this.pos !== this.buf.length) throw new Error(`writer sized ${this.buf.length}, wrote ${this.pos}`);
    return this.buf;
  }
}

export const strSize = (s: string) => 2 + Buffer.byteLength(s);
