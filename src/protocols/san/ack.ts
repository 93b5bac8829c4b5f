import { Reader, Writer } from './buffer-io';
import { SbpDecodeError, Status } from './constants';

/*
 * ACK payload: u16 count | count × (u16 first, u16 last) — segments received,
 * inclusive ranges, ascending and disjoint (docs/san-protocol.md, section 6).
 * ERROR payload: u8 status | u8 min version | u8 max version | str message.
 */

export type SegmentRange = readonly [first: number, last: number];

/** Ranges of set bits in `received` (one flag per segment), ascending. */
export function rangesOf(received: ArrayLike<boolean | number>, count = received.length): SegmentRange[] {
  const ranges: SegmentRange[] = [];
  for (let i = 0; i < count; i++) {
    if (!received[i]) continue;
    let j = i;
    while (j + 1 < count && received[j + 1]) j++;
    ranges.push([i, j]);
    i = j;
  }
  return ranges;
}

export function encodeAck(ranges: readonly SegmentRange[]): Buffer {
  const w = new Writer(2 + 4 * ranges.length).u16(ranges.length);
  for (const [first, last] of ranges) w.u16(first).u16(last);
  return w.done();
}

export function decodeAck(buf: Buffer, segments: number): SegmentRange[] {
  const r = new Reader(buf, 'ack');
  const count = r.u16('range count');
  const ranges: SegmentRange[] = [];
  let floor = -1;
  for (let i = 0; i < count; i++) {
    const first = r.u16('first');
    const last = r.u16('last');
    if (first > last || first <= floor || last >= segments) {
      throw new SbpDecodeError(Status.GARBAGE, `ack: range [${first}, ${last}] is out of order or beyond ${segments} segments`);
    }
    ranges.push([first, last]);
    floor = last;
  }
  r.end();
  return ranges;
}

export interface ErrorPayload {
  status: Status;
  minVersion: number;
  maxVersion: number;
  message: string;
}

export function encodeError(e: ErrorPayload): Buffer {
  return new Writer(3 + 2 + Buffer.byteLength(e.message)).u8(e.status).u8(e.minVersion).u8(e.maxVersion).str(e.message).done();
}

export function decodeError(buf: Buffer): ErrorPayload {
  const r = new Reader(buf, 'error');
  const e = { status: r.u8('status'), minVersion: r.u8('min version'), maxVersion: r.u8('max version'), message: r.str('message') };
  r.end();
  return e;
}
