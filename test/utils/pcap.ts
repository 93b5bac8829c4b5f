/**
 * A pcap file (the classic libpcap format, microsecond timestamps) of TCP connections, made up from the
 * bytes a proxy saw each way, for tshark to dissect without capture privileges. Pure: every function
 * returns bytes; PcapRecorder (pcap-recorder.ts) does the I/O.
 *
 * Packets are raw IPv4 (LINKTYPE_RAW) carrying TCP: a SYN, SYN-ACK, ACK handshake with a window scale
 * option (so tshark never sees a full window), PSH|ACK segments of at most MAX_SEGMENT bytes, an ACK from
 * the receiver after each chunk, FIN|ACK and its ACK at the end. Sequence numbers advance per direction as
 * a real stack's would; IP and TCP checksums are computed, so tshark's checksum checks pass too.
 */

/* https://www.tcpdump.org/linktypes.html: LINKTYPE_RAW, the packet begins with an IPv4 or IPv6 header. */
export const LINKTYPE_RAW = 101;
const PCAP_MAGIC_US = 0xa1b2c3d4;
export const SNAPLEN = 262_144;

/** Largest TCP payload per segment: an IPv4 packet's total length is 16 bits. */
export const MAX_SEGMENT = 60_000;

export const enum TcpFlag {
  FIN = 0x01,
  SYN = 0x02,
  RST = 0x04,
  PSH = 0x08,
  ACK = 0x10,
}

/** Window field and the scale announced in the handshake: 65535 << 7, about 8 MiB. */
const WINDOW = 0xffff;
const WINDOW_SHIFT = 7;

export interface Endpoint {
  ip: string;
  port: number;
}

/*
 * struct pcap_hdr { uint32 magic_number; uint16 version_major; uint16 version_minor; int32 thiszone;
 *   uint32 sigfigs; uint32 snaplen; uint32 network; };   (little-endian here: the magic says which)
 */
export function pcapGlobalHeader(linktype = LINKTYPE_RAW): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt32LE(PCAP_MAGIC_US, 0);
  b.writeUInt16LE(2, 4);
  b.writeUInt16LE(4, 6);
  b.writeInt32LE(0, 8);
  b.writeUInt32LE(0, 12);
  b.writeUInt32LE(SNAPLEN, 16);
  b.writeUInt32LE(linktype, 20);
  return b;
}

/* struct pcaprec_hdr { uint32 ts_sec; uint32 ts_usec; uint32 incl_len; uint32 orig_len; }; then the packet. */
export function pcapRecord(micros: number, packet: Buffer): Buffer {
  if (packet.length > SNAPLEN) throw new Error(`packet of ${packet.length} bytes exceeds the snap length`);
  const h = Buffer.alloc(16);
  h.writeUInt32LE(Math.floor(micros / 1e6), 0);
  h.writeUInt32LE(Math.floor(micros % 1e6), 4);
  h.writeUInt32LE(packet.length, 8);
  h.writeUInt32LE(packet.length, 12);
  return Buffer.concat([h, packet]);
}

/** RFC 1071: the ones' complement of the ones' complement sum of 16-bit words (an odd byte padded with zero). */
export function internetChecksum(parts: Buffer[]): number {
  let sum = 0;
  let odd: number | undefined;
  for (const p of parts) {
    let i = 0;
    if (odd !== undefined && p.length > 0) {
      sum += (odd << 8) | p[0];
      odd = undefined;
      i = 1;
    }
    for (; i + 1 < p.length; i += 2) sum += (p[i] << 8) | p[i + 1];
    if (i < p.length) odd = p[i];
    // Fold now and then so the sum stays a small integer.
    if (sum > 0x7fffffff) sum = (sum & 0xffff) + (sum >>> 16);
  }
  if (odd !== undefined) sum += odd << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function ipBytes(ip: string): Buffer {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((n) => !Number.isInteger(n) || n < 0 || n > 255)) throw new Error(`not an IPv4 address: ${ip}`);
  return Buffer.from(parts);
}

export interface Segment {
  src: Endpoint;
  dst: Endpoint;
  seq: number;
  ack: number;
  flags: number;
  /** IPv4 identification. */
  id: number;
  payload?: Buffer;
  /** TCP options, a multiple of 4 bytes. */
  options?: Buffer;
}

/** One IPv4 packet (RFC 791, no options, DF set, TTL 64) carrying one TCP segment (RFC 9293). */
export function ipv4TcpPacket(s: Segment): Buffer {
  const payload = s.payload ?? Buffer.alloc(0);
  const options = s.options ?? Buffer.alloc(0);
  if (options.length % 4 !== 0) throw new Error('TCP options must fill whole words');
  const tcpLen = 20 + options.length;
  const total = 20 + tcpLen + payload.length;
  if (total > 0xffff) throw new Error(`segment of ${payload.length} bytes does not fit an IPv4 packet`);
  const src = ipBytes(s.src.ip);
  const dst = ipBytes(s.dst.ip);

  const ip = Buffer.alloc(20);
  ip[0] = 0x45; // version 4, 5 words
  ip.writeUInt16BE(total, 2);
  ip.writeUInt16BE(s.id & 0xffff, 4);
  ip.writeUInt16BE(0x4000, 6); // DF, fragment offset 0
  ip[8] = 64;
  ip[9] = 6; // TCP
  src.copy(ip, 12);
  dst.copy(ip, 16);
  ip.writeUInt16BE(internetChecksum([ip]), 10);

  const tcp = Buffer.alloc(tcpLen);
  tcp.writeUInt16BE(s.src.port, 0);
  tcp.writeUInt16BE(s.dst.port, 2);
  tcp.writeUInt32BE(s.seq >>> 0, 4);
  tcp.writeUInt32BE(s.flags & TcpFlag.ACK ? s.ack >>> 0 : 0, 8);
  tcp[12] = (tcpLen / 4) << 4;
  tcp[13] = s.flags;
  tcp.writeUInt16BE(WINDOW, 14);
  options.copy(tcp, 20);
  // The checksum covers a pseudo-header: source, destination, zero, protocol, TCP length.
  const pseudo = Buffer.alloc(12);
  src.copy(pseudo, 0);
  dst.copy(pseudo, 4);
  pseudo[9] = 6;
  pseudo.writeUInt16BE(tcpLen + payload.length, 10);
  tcp.writeUInt16BE(internetChecksum([pseudo, tcp, payload]), 16);
  return Buffer.concat([ip, tcp, payload]);
}

/* NOP, then window scale (kind 3, length 3, shift): RFC 7323 section 2. */
const SYN_OPTIONS = Buffer.from([1, 3, 3, WINDOW_SHIFT]);

export type Side = 'client' | 'server';

/**
 * Initial sequence numbers for the n-th conversation of a capture, 64 MiB apart: a client that reuses
 * its port (libnfs binds reserved ports and does reuse them) must not start where the previous stream
 * on the same addresses started, or tshark takes the new stream's bytes for retransmissions and drops them.
 * They repeat every 64 conversations, and a stream of more than 64 MiB runs into the next one's numbers:
 * both harmless unless the same port comes back exactly then, which the specs' small captures never see.
 */
export function conversationIsn(n: number): Record<Side, number> {
  return { client: (0x1000_0000 + n * 0x0400_0000) >>> 0, server: (0x9000_0000 + n * 0x0400_0000) >>> 0 };
}

/**
 * The packets of one TCP connection, as the proxy learns what went through it: each method returns the
 * IPv4 packets to append, in order.
 */
export class TcpConversation {
  private readonly next: Record<Side, number>;
  private readonly ipId: Record<Side, number> = { client: 1, server: 1 };

  constructor(
    private readonly client: Endpoint,
    private readonly server: Endpoint,
    isn: Record<Side, number> = { client: 0x1000_0000, server: 0x2000_0000 },
  ) {
    this.next = { ...isn };
  }

  private seg(from: Side, flags: number, payload?: Buffer, options?: Buffer): Buffer {
    const to: Side = from === 'client' ? 'server' : 'client';
    const s = ipv4TcpPacket({ src: this[from], dst: this[to], seq: this.next[from], ack: this.next[to], flags, id: this.ipId[from]++, payload, options });
    const len = (payload?.length ?? 0) + (flags & (TcpFlag.SYN | TcpFlag.FIN) ? 1 : 0);
    this.next[from] = (this.next[from] + len) >>> 0;
    return s;
  }

  /** SYN, SYN-ACK, ACK. */
  open(): Buffer[] {
    return [this.seg('client', TcpFlag.SYN, undefined, SYN_OPTIONS), this.seg('server', TcpFlag.SYN | TcpFlag.ACK, undefined, SYN_OPTIONS), this.seg('client', TcpFlag.ACK)];
  }

  /** `bytes` from one side in PSH|ACK segments of at most MAX_SEGMENT, then the other side's ACK. */
  data(from: Side, bytes: Buffer): Buffer[] {
    const out: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += MAX_SEGMENT) out.push(this.seg(from, TcpFlag.PSH | TcpFlag.ACK, bytes.subarray(at, at + MAX_SEGMENT)));
    if (out.length > 0) out.push(this.seg(from === 'client' ? 'server' : 'client', TcpFlag.ACK));
    return out;
  }

  /** One side's FIN|ACK and the other side's ACK of it. */
  fin(from: Side): Buffer[] {
    return [this.seg(from, TcpFlag.FIN | TcpFlag.ACK), this.seg(from === 'client' ? 'server' : 'client', TcpFlag.ACK)];
  }
}
