import { createCipheriv, createDecipheriv } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { Flag, HEADER_SIZE, KNOWN_FLAGS, Kind, MAGIC, MAX_KIND, SbpDecodeError, Status, TAG_SIZE, VERSION } from './constants';

/*
 * offset size field            (docs/san-protocol.md, section 2)
 *  0     2    magic 0x5342
 *  2     1    version
 *  3     1    kind
 *  4     1    flags            SEALED, CLEAR
 *  5     1    reserved
 *  6     2    payload length   (tag excluded)
 *  8     4    session id
 * 12     4    xid
 * 16     2    segment
 * 18     2    segments
 * 20     4    message length
 * 24     8    packet number
 * 32     4    credits
 * 36     4    crc32            of bytes 0..35 then the payload; of bytes 0..35 only when SEALED
 * 40     n    payload
 * 40+n  16    GCM tag          when SEALED
 */

export interface DatagramHeader {
  version: number;
  kind: Kind;
  flags: number;
  sessionId: number;
  xid: number;
  segment: number;
  segments: number;
  messageLength: number;
  packetNumber: bigint;
  credits: number;
}

export interface Datagram {
  header: DatagramHeader;
  /** As sent: ciphertext when sealed and not CLEAR. */
  payload: Buffer;
  tag?: Buffer;
}

const CRC_AT = 36;

function writeHeader(h: DatagramHeader, payloadLength: number, out: Buffer, flags = h.flags): void {
  out.writeUInt16BE(MAGIC, 0);
  out[2] = h.version;
  out[3] = h.kind;
  out[4] = flags;
  out[5] = 0;
  out.writeUInt16BE(payloadLength, 6);
  out.writeUInt32BE(h.sessionId >>> 0, 8);
  out.writeUInt32BE(h.xid >>> 0, 12);
  out.writeUInt16BE(h.segment, 16);
  out.writeUInt16BE(h.segments, 18);
  out.writeUInt32BE(h.messageLength >>> 0, 20);
  out.writeBigUInt64BE(h.packetNumber, 24);
  out.writeUInt32BE(h.credits >>> 0, 32);
}

/**
 * The CRC of an unsealed datagram covers header and payload; a SEALED one's
 * covers the header only, since the GCM tag already covers every payload byte
 * (a second pass over 64 KB of payload per datagram bought nothing but CPU).
 */
function checksum(buf: Buffer, payloadEnd: number, sealed: boolean): number {
  const head = crc32(buf.subarray(0, CRC_AT));
  return sealed ? head : crc32(buf.subarray(HEADER_SIZE, payloadEnd), head);
}

/** An unsealed datagram (login, errors, and tests). */
export function encodeDatagram(h: DatagramHeader, payload: Buffer): Buffer {
  if ((h.flags & Flag.SEALED) !== 0) throw new Error('encodeDatagram: use sealDatagram for SEALED datagrams');
  if (payload.length > 0xffff) throw new RangeError('payload longer than 65535 bytes');
  const out = Buffer.allocUnsafe(HEADER_SIZE + payload.length);
  writeHeader(h, payload.length, out);
  payload.copy(out, HEADER_SIZE);
  out.writeUInt32BE(checksum(out, out.length, false), CRC_AT);
  return out;
}

/** The 12-byte GCM nonce: direction (1 client→server, 2 server→client) and the packet number, never reused under a key. */
function nonce(direction: 1 | 2, packetNumber: bigint): Buffer {
  const n = Buffer.allocUnsafe(12);
  n.writeUInt32BE(direction, 0);
  n.writeBigUInt64BE(packetNumber, 4);
  return n;
}

/**
 * A SEALED datagram as the pieces it is sent in (header, payload, tag), so
 * the 64 KB ciphertext goes to the socket as the cipher produced it instead
 * of being copied into one more buffer: AES-256-GCM with header bytes 0..35
 * as associated data; with `clear` the payload travels in clear and is only
 * authenticated.
 */
export function sealDatagramParts(key: Buffer, direction: 1 | 2, h: DatagramHeader, plaintext: Buffer, clear = false): [Buffer, Buffer, Buffer] {
  if (plaintext.length > 0xffff) throw new RangeError('payload longer than 65535 bytes');
  const flags = (h.flags & ~Flag.CLEAR) | Flag.SEALED | (clear ? Flag.CLEAR : 0);
  const head = Buffer.allocUnsafe(HEADER_SIZE);
  writeHeader(h, plaintext.length, head, flags);
  const gcm = createCipheriv('aes-256-gcm', key, nonce(direction, h.packetNumber));
  gcm.setAAD(head.subarray(0, CRC_AT));
  let body: Buffer;
  if (clear) {
    // Two AAD updates hash exactly as their concatenation would (GHASH keeps partial blocks).
    gcm.setAAD(plaintext);
    body = plaintext;
  } else {
    body = gcm.update(plaintext);
  }
  gcm.final();
  head.writeUInt32BE(checksum(head, HEADER_SIZE, true), CRC_AT);
  return [head, body, gcm.getAuthTag()];
}

/** A SEALED datagram in one buffer (WELCOME, kept for retransmission; tests). */
export function sealDatagram(key: Buffer, direction: 1 | 2, h: DatagramHeader, plaintext: Buffer, clear = false): Buffer {
  return Buffer.concat(sealDatagramParts(key, direction, h, plaintext, clear));
}

/** The plaintext of a SEALED datagram; AUTH_FAILED when forged, its payload corrupted (the CRC covers only its header), or under another key. */
export function openDatagram(key: Buffer, direction: 1 | 2, d: Datagram, raw: Buffer): Buffer {
  if ((d.header.flags & Flag.SEALED) === 0 || !d.tag) throw new SbpDecodeError(Status.AUTH_FAILED, 'datagram is not sealed');
  const clear = (d.header.flags & Flag.CLEAR) !== 0;
  const gcm = createDecipheriv('aes-256-gcm', key, nonce(direction, d.header.packetNumber));
  gcm.setAuthTag(d.tag);
  try {
    gcm.setAAD(raw.subarray(0, CRC_AT));
    if (clear) {
      gcm.setAAD(d.payload);
      gcm.final();
      return d.payload;
    }
    const plain = gcm.update(d.payload);
    gcm.final();
    return plain;
  } catch {
    throw new SbpDecodeError(Status.AUTH_FAILED, 'datagram failed authentication');
  }
}

/**
 * Parse and check one datagram. Checks run cheapest first, and the CRC comes
 * before version and kind so that only an intact datagram earns an ERROR reply.
 */
export function decodeDatagram(buf: Buffer): Datagram {
  if (buf.length < HEADER_SIZE) {
    throw new SbpDecodeError(Status.GARBAGE, `datagram of ${buf.length} bytes is shorter than the ${HEADER_SIZE}-byte header`);
  }
  if (buf.readUInt16BE(0) !== MAGIC) throw new SbpDecodeError(Status.GARBAGE, 'bad magic: not an SBP datagram');
  const flags = buf[4];
  const sealed = (flags & Flag.SEALED) !== 0;
  const payloadLength = buf.readUInt16BE(6);
  const expected = HEADER_SIZE + payloadLength + (sealed ? TAG_SIZE : 0);
  if (buf.length !== expected) {
    throw new SbpDecodeError(Status.GARBAGE, `datagram is ${buf.length} bytes, its header says ${expected}`);
  }
  const end = HEADER_SIZE + payloadLength;
  if (buf.readUInt32BE(CRC_AT) !== checksum(buf, end, sealed)) throw new SbpDecodeError(Status.GARBAGE, 'CRC mismatch: datagram corrupted');
  const version = buf[2];
  if (version !== VERSION) throw new SbpDecodeError(Status.BAD_VERSION, `version ${version} is not spoken (supported: ${VERSION}..${VERSION})`);
  const kind = buf[3];
  if (kind < 1 || kind > MAX_KIND) throw new SbpDecodeError(Status.BAD_KIND, `unknown datagram kind ${kind}`);
  if ((flags & ~KNOWN_FLAGS) !== 0 || ((flags & Flag.CLEAR) !== 0 && !sealed) || buf[5] !== 0) {
    throw new SbpDecodeError(Status.GARBAGE, `bad flags 0x${flags.toString(16)} or reserved byte`);
  }
  const segment = buf.readUInt16BE(16);
  const segments = buf.readUInt16BE(18);
  const messageLength = buf.readUInt32BE(20);
  if (segments === 0 || segment >= segments) throw new SbpDecodeError(Status.GARBAGE, `segment ${segment} of ${segments}`);
  if (payloadLength > messageLength) throw new SbpDecodeError(Status.GARBAGE, `segment of ${payloadLength} bytes in a ${messageLength}-byte message`);
  return {
    header: {
      version,
      kind: kind as Kind,
      flags,
      sessionId: buf.readUInt32BE(8),
      xid: buf.readUInt32BE(12),
      segment,
      segments,
      messageLength,
      packetNumber: buf.readBigUInt64BE(24),
      credits: buf.readUInt32BE(32),
    },
    payload: buf.subarray(HEADER_SIZE, end),
    ...(sealed ? { tag: buf.subarray(end, end + TAG_SIZE) } : {}),
  };
}
