/*
 * Port mapper v2 and rpcbind v3/v4 arguments and results (RFC 1833), and
 * universal addresses (RFC 1833 section 2.1, RFC 5665).
 */
import { XdrDecodeError, type XdrReader, type XdrWriter } from '../xdr/xdr';
import { IPPROTO_TCP, IPPROTO_UDP } from './constants';

/** Netids, addresses and owners are short; refuse absurd lengths early. */
const MAX_RPCB_STRING = 1024;

/*
 * struct mapping {
 *    unsigned int prog;
 *    unsigned int vers;
 *    unsigned int prot;
 *    unsigned int port;
 * };
 */
export interface Mapping {
  prog: number;
  vers: number;
  prot: number;
  port: number;
}

export function decodeMapping(r: XdrReader): Mapping {
  return { prog: r.uint32('prog'), vers: r.uint32('vers'), prot: r.uint32('prot'), port: r.uint32('port') };
}

export function encodeMapping(w: XdrWriter, m: Mapping): void {
  w.uint32(m.prog).uint32(m.vers).uint32(m.prot).uint32(m.port);
}

/*
 * struct *pmaplist {
 *    mapping map;
 *    pmaplist next;
 * };
 * -- on the wire: a bool before each item, FALSE at the end
 */
export function encodePmapList(w: XdrWriter, list: readonly Mapping[]): void {
  w.list(list, encodeMapping);
}

export function decodePmapList(r: XdrReader): Mapping[] {
  return r.list(decodeMapping, undefined, 'pmaplist');
}

/*
 * struct rpcb {
 *    rpcprog_t r_prog;     -- program number
 *    rpcvers_t r_vers;     -- version number
 *    string r_netid<>;     -- network id
 *    string r_addr<>;      -- universal address
 *    string r_owner<>;     -- owner of this service
 * };
 */
export interface Rpcb {
  r_prog: number;
  r_vers: number;
  r_netid: string;
  r_addr: string;
  r_owner: string;
}

export function decodeRpcb(r: XdrReader): Rpcb {
  return {
    r_prog: r.uint32('r_prog'),
    r_vers: r.uint32('r_vers'),
    r_netid: r.string(MAX_RPCB_STRING, 'r_netid'),
    r_addr: r.string(MAX_RPCB_STRING, 'r_addr'),
    r_owner: r.string(MAX_RPCB_STRING, 'r_owner'),
  };
}

export function encodeRpcb(w: XdrWriter, b: Rpcb): void {
  w.uint32(b.r_prog).uint32(b.r_vers).string(b.r_netid).string(b.r_addr).string(b.r_owner);
}

/*
 * struct rp__list {
 *    rpcb rpcb_map;
 *    struct rp__list *rpcb_next;
 * };
 * typedef rp__list *rpcblist_ptr;
 */
export function encodeRpcbList(w: XdrWriter, list: readonly Rpcb[]): void {
  w.list(list, encodeRpcb);
}

export function decodeRpcbList(r: XdrReader): Rpcb[] {
  return r.list(decodeRpcb, undefined, 'rpcblist');
}

/*
 * A universal address for TCP/UDP over IP: the host's text form followed by
 * the port as two decimal octets, "h1.h2.h3.h4.p1.p2" (IPv6: "x:...:x.p1.p2").
 */
export function toUniversalAddress(host: string, port: number): string {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port ${port} is out of range`);
  return `${host}.${port >> 8}.${port & 255}`;
}

/** The host and port of a universal address, or undefined when it is not one. */
export function fromUniversalAddress(uaddr: string): { host: string; port: number } | undefined {
  const m = /^(.+)\.(\d{1,3})\.(\d{1,3})$/.exec(uaddr);
  if (!m) return undefined;
  const hi = Number(m[2]);
  const lo = Number(m[3]);
  if (hi > 255 || lo > 255) return undefined;
  const host = m[1];
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (v4 ? v4.slice(1).some((o) => Number(o) > 255) : !/^[0-9a-fA-F:.]*:[0-9a-fA-F:.]*$/.test(host)) return undefined;
  return { host, port: hi * 256 + lo };
}

/** The netid of a port mapper protocol number (tcp, udp), or undefined for others. */
export function netidOfProt(prot: number): 'tcp' | 'udp' | undefined {
  return prot === IPPROTO_TCP ? 'tcp' : prot === IPPROTO_UDP ? 'udp' : undefined;
}

export function protOfNetid(netid: string): number | undefined {
  return netid === 'tcp' ? IPPROTO_TCP : netid === 'udp' ? IPPROTO_UDP : undefined;
}

/** A reader's string that must be a universal address; XdrDecodeError otherwise (client side, for GETADDR results). */
export function decodeUniversalAddress(r: XdrReader, what = 'universal address'): { host: string; port: number } | null {
  const s = r.string(MAX_RPCB_STRING, what);
  if (s === '') return null;
  const a = fromUniversalAddress(s);
  if (!a) throw new XdrDecodeError(`${what} '${s}' is not a universal address`);
  return a;
}
