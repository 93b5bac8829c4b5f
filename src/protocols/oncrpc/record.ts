/*
 * Record marking for RPC over a byte stream (RFC 5531 section 11):
 *
 *   A record is composed of one or more record fragments. A record
 *   fragment is a four-byte header followed by 0 to (2**31) - 1 bytes of
 *   fragment data. The bytes encode an unsigned binary number; as with
 *   XDR integers, the byte order is from highest to lowest. The number
 *   encodes two values -- a boolean that indicates whether the fragment
 *   is the last fragment of the record (bit value 1 implies the fragment
 *   is the last fragment) and a 31-bit unsigned binary value that is the
 *   length in bytes of the fragment's data.
 */
import { LAST_FRAGMENT, MAX_FRAGMENT } from './constants';

/** A byte stream that breaks record marking: the connection cannot be resynchronised and is closed. */
export class RecordMarkingError extends Error {
  override name = 'RecordMarkingError';
}

/** Above this many gathered pieces, a record in progress is compacted so tiny fragments cannot pile up views. */
const COMPACT_PIECES = 64;

/**
 * Splits a byte stream into records. `push(chunk)` returns the records the
 * chunk completes, keeping any partial header, fragment or record for the
 * next chunk. A record that arrives whole inside one chunk is returned as a
 * view of that chunk (no copy); others are gathered once. With
 * `reusedChunks` the caller overwrites each chunk after push returns (one
 * read buffer for every read), so no view of a chunk is kept or returned:
 * every record's bytes are copied once, straight into a buffer of the
 * record's size.
 */
export class RecordDecoder {
  private readonly header = Buffer.alloc(4);
  private headerHave = 0;
  /** Data bytes still expected in the current fragment; -1 while reading a header. */
  private fragLeft = -1;
  private fragLast = false;
  private pieces: Buffer[] = [];
  /** With reusedChunks: the record in progress, `filled` bytes of it so far. */
  private assembly: Buffer | null = null;
  private filled = 0;
  private recordBytes = 0;
  private fragments = 0;
  private failed: RecordMarkingError | null = null;

  /**
   * @param maxRecord the largest record accepted, in data bytes (headers excluded)
   * @param maxFragments the most fragments one record may have
   */
  constructor(
    readonly maxRecord: number,
    readonly maxFragments = 65536,
    readonly reusedChunks = false,
  ) {
    if (!(maxRecord >= 0 && maxRecord <= MAX_FRAGMENT * 2)) throw new RangeError(`maxRecord ${maxRecord} is out of range`);
  }

  /** Bytes of the record in progress held so far (for accounting). */
  get pending(): number {
    return this.recordBytes - Math.max(this.fragLeft, 0) + this.headerHave;
  }

  /** True when no partial record is held (a clean place for the stream to end). */
  get idle(): boolean {
    return this.fragLeft < 0 && this.headerHave === 0 && this.fragments === 0;
  }

  push(chunk: Buffer): Buffer[] {
    if (this.failed) throw this.failed;
    const out: Buffer[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.fragLeft < 0) {
        // A whole header in the chunk is the common case; otherwise gather it byte-wise.
        let word: number;
        if (this.headerHave === 0 && chunk.length - at >= 4) {
          word = chunk.readUInt32BE(at);
          at += 4;
        } else {
          const take = Math.min(4 - this.headerHave, chunk.length - at);
          chunk.copy(this.header, this.headerHave, at, at + take);
          this.headerHave += take;
          at += take;
          if (this.headerHave < 4) break;
          this.headerHave = 0;
          word = this.header.readUInt32BE(0);
        }
        this.startFragment(word);
        if (this.fragLeft === 0) this.endFragment(out);
        continue;
      }
      const take = Math.min(this.fragLeft, chunk.length - at);
      if (this.reusedChunks) this.gather(chunk, at, take);
      else {
        this.pieces.push(chunk.subarray(at, at + take));
        if (this.pieces.length > COMPACT_PIECES) this.pieces = [Buffer.concat(this.pieces)];
      }
      this.fragLeft -= take;
      at += take;
      if (this.fragLeft === 0) this.endFragment(out);
    }
    return out;
  }

  /**
   * Copy `take` bytes of `chunk` into the record in progress. Its buffer is
   * sized by the fragment headers seen so far (within maxRecord), so a
   * single-fragment record is copied once; a later fragment grows it.
   */
  private gather(chunk: Buffer, at: number, take: number): void {
    if (this.assembly === null || this.assembly.length < this.recordBytes) {
      const next = Buffer.allocUnsafe(this.assembly === null ? this.recordBytes : Math.min(this.maxRecord, Math.max(this.recordBytes, this.assembly.length * 2)));
      this.assembly?.copy(next, 0, 0, this.filled);
      this.assembly = next;
    }
    chunk.copy(this.assembly, this.filled, at, at + take);
    this.filled += take;
  }

  private startFragment(word: number): void {
    const length = word & MAX_FRAGMENT;
    this.fragLast = (word & LAST_FRAGMENT) !== 0;
    this.fragments++;
    if (this.recordBytes + length > this.maxRecord) {
      throw this.fail(
        `record of at least ${this.recordBytes + length} bytes (fragment ${this.fragments} of ${length} bytes) exceeds the limit of ${this.maxRecord} bytes`,
      );
    }
    if (this.fragments > this.maxFragments) throw this.fail(`record has more than ${this.maxFragments} fragments`);
    this.fragLeft = length;
    this.recordBytes += length;
  }

  private endFragment(out: Buffer[]): void {
    this.fragLeft = -1;
    if (!this.fragLast) return;
    if (this.reusedChunks) {
      out.push(this.assembly ? this.assembly.subarray(0, this.filled) : Buffer.alloc(0));
      this.assembly = null;
      this.filled = 0;
    } else {
      const p = this.pieces;
      out.push(p.length === 1 ? p[0] : p.length === 0 ? Buffer.alloc(0) : Buffer.concat(p, this.recordBytes));
    }
    this.pieces = [];
    this.recordBytes = 0;
    this.fragments = 0;
  }

  private fail(message: string): RecordMarkingError {
    this.failed = new RecordMarkingError(message);
    this.pieces = [];
    this.assembly = null;
    return this.failed;
  }
}

/** The four-byte header of a fragment of `length` data bytes. */
export function encodeFragmentHeader(length: number, last = true): Buffer {
  if (!Number.isInteger(length) || length < 0 || length > MAX_FRAGMENT) throw new RangeError(`fragment length ${length} is out of range`);
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE((last ? LAST_FRAGMENT : 0) + length, 0);
  return b;
}

/**
 * A record as buffers to write in order: the payload pieces (kept by
 * reference) behind fragment headers, cut into fragments of at most
 * `maxFragment` bytes.
 */
export function frameRecord(payload: readonly Buffer[], maxFragment = MAX_FRAGMENT): Buffer[] {
  if (!(maxFragment >= 1 && maxFragment <= MAX_FRAGMENT)) throw new RangeError(`maxFragment ${maxFragment} is out of range`);
  const total = payload.reduce((n, b) => n + b.length, 0);
  if (total <= maxFragment) return [encodeFragmentHeader(total, true), ...payload];
  const out: Buffer[] = [];
  let left = total;
  let fragLeft = 0;
  for (const piece of payload) {
    let at = 0;
    while (at < piece.length) {
      if (fragLeft === 0) {
        fragLeft = Math.min(maxFragment, left);
        left -= fragLeft;
        out.push(encodeFragmentHeader(fragLeft, left === 0));
      }
      const take = Math.min(fragLeft, piece.length - at);
      out.push(piece.subarray(at, at + take));
      at += take;
      fragLeft -= take;
    }
  }
  return out;
}
