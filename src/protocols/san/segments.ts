import { HEADER_SIZE, SbpDecodeError, Status, TAG_SIZE } from './constants';

/** Payload bytes one datagram of `datagramSize` can carry, sealed. */
export function segmentCapacity(datagramSize: number): number {
  return datagramSize - HEADER_SIZE - TAG_SIZE;
}

/**
 * Cut a message into segment payloads. The message may come as pieces that
 * make it when joined (a WRITE's fields, then its data): a segment that lies
 * within one piece is a view of it, and only one that straddles pieces is
 * copied, so a large WRITE's data goes out from the caller's buffer.
 */
export function segment(message: Buffer | readonly Buffer[], capacity: number): Buffer[] {
  const pieces = Buffer.isBuffer(message) ? [message] : message;
  let length = 0;
  for (const p of pieces) length += p.length;
  const count = Math.max(1, Math.ceil(length / capacity));
  if (count > 0xffff) throw new RangeError(`a ${length}-byte message needs ${count} segments, more than 65535`);
  const parts: Buffer[] = [];
  let piece = 0;
  let at = 0;
  for (let i = 0; i < count; i++) {
    const want = Math.min(capacity, length - i * capacity);
    while (piece < pieces.length && at === pieces[piece].length) {
      piece++;
      at = 0;
    }
    if (piece < pieces.length && pieces[piece].length - at >= want) {
      parts.push(pieces[piece].subarray(at, at + want));
      at += want;
      continue;
    }
    const out = Buffer.allocUnsafe(want);
    for (let filled = 0; filled < want; ) {
      while (at === pieces[piece].length) {
        piece++;
        at = 0;
      }
      const n = Math.min(want - filled, pieces[piece].length - at);
      pieces[piece].copy(out, filled, at, at + n);
      filled += n;
      at += n;
    }
    parts.push(out);
  }
  return parts;
}

/**
 * Collects the segments of one message. Every segment but the last carries
 * exactly `capacity` bytes, so each has one place; anything else is GARBAGE.
 */
/**
 * Where a message's bytes go when the receiver already has a buffer for
 * them: the first `skip` bytes (a reply's header) are kept apart, the rest
 * land straight in `into` (a READ's destination), with no message buffer
 * and no second copy. `into.length` must be the message's length − `skip`.
 */
export interface Placement {
  skip: number;
  into: Buffer;
}

export class Reassembly {
  readonly received: Uint8Array;
  private missing: number;
  private readonly buf: Buffer;
  private readonly place: Placement | undefined;

  constructor(
    readonly segments: number,
    readonly length: number,
    private readonly capacity: number,
    place?: Placement,
  ) {
    if (segments !== Math.max(1, Math.ceil(length / capacity))) {
      throw new SbpDecodeError(Status.GARBAGE, `a ${length}-byte message cannot have ${segments} segments of up to ${capacity} bytes`);
    }
    this.received = new Uint8Array(segments);
    this.missing = segments;
    // A placement that does not fit this message is not used: it is reassembled whole, and the receiver sees why.
    this.place = place && place.skip <= length && place.into.length === length - place.skip ? place : undefined;
    this.buf = Buffer.allocUnsafe(this.place ? this.place.skip : length);
  }

  /** Whether the bytes after the header went to the placement's buffer (message() is then the header alone). */
  get placed(): boolean {
    return this.place !== undefined;
  }

  /** True when this segment completed the message; a duplicate is ignored. */
  add(index: number, payload: Buffer): boolean {
    if (index >= this.segments) throw new SbpDecodeError(Status.GARBAGE, `segment ${index} of ${this.segments}`);
    const expected = index === this.segments - 1 ? this.length - index * this.capacity : this.capacity;
    if (payload.length !== expected) {
      throw new SbpDecodeError(Status.GARBAGE, `segment ${index} has ${payload.length} bytes, expected ${expected}`);
    }
    if (this.received[index]) return false;
    const at = index * this.capacity;
    if (!this.place) {
      payload.copy(this.buf, at);
    } else {
      const { skip, into } = this.place;
      if (at < skip) payload.copy(this.buf, at, 0, Math.min(payload.length, skip - at));
      if (at + payload.length > skip) payload.copy(into, Math.max(0, at - skip), Math.max(0, skip - at));
    }
    this.received[index] = 1;
    return --this.missing === 0;
  }

  get complete(): boolean {
    return this.missing === 0;
  }

  message(): Buffer {
    if (this.missing !== 0) throw new Error(`message incomplete: ${this.missing} segments missing`);
    return this.buf;
  }
}
