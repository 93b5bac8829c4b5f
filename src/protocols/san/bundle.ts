import { Reader } from './buffer-io';
import { Kind, SbpDecodeError, Status } from './constants';

/*
 * BUNDLE payload (docs/san-protocol.md, section 2.1): several small segments
 * of one session in one sealed datagram, so a burst of 4 KiB calls or replies
 * costs one seal, one CRC and one system call instead of one each.
 *
 * Repeated until the payload ends:
 * offset size field
 *  0     1    kind            CALL_SEG, REPLY_SEG, ACK or ERROR
 *  1     1    reserved        0
 *  2     2    payload length
 *  4     4    xid
 *  8     2    segment
 * 10     2    segments
 * 12     4    message length
 * 16     n    payload
 */
export const BUNDLE_ENTRY_HEADER = 16;

/** The kinds a bundle may carry: everything of an established session. */
const BUNDLED = new Set<number>([Kind.CALL_SEG, Kind.REPLY_SEG, Kind.ACK, Kind.ERROR]);

export interface BundleEntry {
  kind: Kind;
  xid: number;
  segment: number;
  segments: number;
  messageLength: number;
  payload: Buffer;
}

/** Bytes an entry takes in a bundle. */
export const bundledSize = (payloadLength: number): number => BUNDLE_ENTRY_HEADER + payloadLength;

export function encodeBundle(entries: readonly BundleEntry[]): Buffer {
  let size = 0;
  for (const e of entries) size += bundledSize(e.payload.length);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const e of entries) {
    if (!BUNDLED.has(e.kind)) throw new RangeError(`kind ${e.kind} cannot travel in a bundle`);
    out[at] = e.kind;
    out[at + 1] = 0;
    out.writeUInt16BE(e.payload.length, at + 2);
    out.writeUInt32BE(e.xid >>> 0, at + 4);
    out.writeUInt16BE(e.segment, at + 8);
    out.writeUInt16BE(e.segments, at + 10);
    out.writeUInt32BE(e.messageLength >>> 0, at + 12);
    e.payload.copy(out, at + BUNDLE_ENTRY_HEADER);
    at += bundledSize(e.payload.length);
  }
  return out;
}

/** The entries of a bundle, payloads as views; GARBAGE for anything malformed (the whole datagram is refused). */
export function decodeBundle(buf: Buffer): BundleEntry[] {
  const r = new Reader(buf, 'bundle');
  const entries: BundleEntry[] = [];
  while (r.remaining > 0) {
    const kind = r.u8('kind');
    if (!BUNDLED.has(kind)) throw new SbpDecodeError(Status.GARBAGE, `bundle: entry ${entries.length} has kind ${kind}, which cannot be bundled`);
    if (r.u8('reserved') !== 0) throw new SbpDecodeError(Status.GARBAGE, `bundle: entry ${entries.length} has a non-zero reserved byte`);
    const length = r.u16('payload length');
    const xid = r.u32('xid');
    const segment = r.u16('segment');
    const segments = r.u16('segments');
    const messageLength = r.u32('message length');
    if (segments === 0 || segment >= segments) throw new SbpDecodeError(Status.GARBAGE, `bundle: entry ${entries.length} is segment ${segment} of ${segments}`);
    if (length > messageLength) throw new SbpDecodeError(Status.GARBAGE, `bundle: entry ${entries.length} carries ${length} bytes of a ${messageLength}-byte message`);
    entries.push({ kind: kind as Kind, xid, segment, segments, messageLength, payload: r.bytes(length, 'payload') });
  }
  if (entries.length === 0) throw new SbpDecodeError(Status.GARBAGE, 'bundle: empty');
  return entries;
}
