import { describe, expect, it } from 'vitest';
import { Prng } from '../../common/prng';
import { expectEveryPrefixFails, expectOnlyOwnErrors } from '../../../test/utils/xdr-codec-checks';
import { XdrDecodeError, XdrReader, XdrWriter } from '../xdr/xdr';
import {
  decodeMapping,
  decodePmapList,
  decodeRpcb,
  decodeRpcbList,
  decodeUniversalAddress,
  encodeMapping,
  encodePmapList,
  encodeRpcb,
  encodeRpcbList,
  fromUniversalAddress,
  type Mapping,
  netidOfProt,
  protOfNetid,
  type Rpcb,
  toUniversalAddress,
} from './codec';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const enc = (f: (w: XdrWriter) => void) => {
  const w = new XdrWriter(4);
  f(w);
  return w.toBuffer();
};

// Written by hand from RFC 1833: MOUNT v3 over TCP on port 20048 (0x4e50), NFS v3 over UDP on 2049 (0x801).
const MOUNT_TCP: Mapping = { prog: 100005, vers: 3, prot: 6, port: 20048 };
const NFS_UDP: Mapping = { prog: 100003, vers: 3, prot: 17, port: 2049 };
const MAPPING_BYTES = hex('000186a5 00000003 00000006 00004e50');
const PMAPLIST_BYTES = hex(`
  00000001 000186a5 00000003 00000006 00004e50
  00000001 000186a3 00000003 00000011 00000801
  00000000`);
const RPCB: Rpcb = { r_prog: 100003, r_vers: 3, r_netid: 'tcp', r_addr: '127.0.0.1.8.1', r_owner: '0' };
const RPCB_BYTES = hex(`
  000186a3 00000003
  00000003 74637000
  0000000d 3132372e 302e302e 312e382e 31000000
  00000001 30000000`);

describe('portmap codec: reference bytes (RFC 1833)', () => {
  it('mapping', () => {
    expect(enc((w) => encodeMapping(w, MOUNT_TCP))).toEqual(MAPPING_BYTES);
    expect(decodeMapping(new XdrReader(MAPPING_BYTES))).toEqual(MOUNT_TCP);
  });

  it('pmaplist as a bool-chained list, and the empty list', () => {
    expect(enc((w) => encodePmapList(w, [MOUNT_TCP, NFS_UDP]))).toEqual(PMAPLIST_BYTES);
    expect(decodePmapList(new XdrReader(PMAPLIST_BYTES))).toEqual([MOUNT_TCP, NFS_UDP]);
    expect(enc((w) => encodePmapList(w, []))).toEqual(hex('00000000'));
  });

  it('rpcb and rpcblist', () => {
    expect(enc((w) => encodeRpcb(w, RPCB))).toEqual(RPCB_BYTES);
    expect(decodeRpcb(new XdrReader(RPCB_BYTES))).toEqual(RPCB);
    const list = Buffer.concat([hex('00000001'), RPCB_BYTES, hex('00000000')]);
    expect(enc((w) => encodeRpcbList(w, [RPCB]))).toEqual(list);
    expect(decodeRpcbList(new XdrReader(list))).toEqual([RPCB]);
  });

  it('universal addresses: "h1.h2.h3.h4.p1.p2" and IPv6', () => {
    expect(toUniversalAddress('127.0.0.1', 2049)).toBe('127.0.0.1.8.1');
    expect(toUniversalAddress('0.0.0.0', 111)).toBe('0.0.0.0.0.111');
    expect(toUniversalAddress('::1', 20048)).toBe('::1.78.80');
    expect(fromUniversalAddress('10.1.2.3.8.1')).toEqual({ host: '10.1.2.3', port: 2049 });
    expect(fromUniversalAddress('fe80::1.255.255')).toEqual({ host: 'fe80::1', port: 65535 });
    expect(fromUniversalAddress('::ffff:127.0.0.1.0.111')).toEqual({ host: '::ffff:127.0.0.1', port: 111 });
    expect(decodeUniversalAddress(new XdrReader(hex('0000000d 3132372e 302e302e 312e382e 31000000')))).toEqual({ host: '127.0.0.1', port: 2049 });
    expect(decodeUniversalAddress(new XdrReader(hex('00000000')))).toBeNull();
  });

  it('netids of the port mapper protocol numbers', () => {
    expect([netidOfProt(6), netidOfProt(17), netidOfProt(132)]).toEqual(['tcp', 'udp', undefined]);
    expect([protOfNetid('tcp'), protOfNetid('udp'), protOfNetid('tcp6')]).toEqual([6, 17, undefined]);
  });
});

describe('portmap codec: round trips', () => {
  it('random mappings and rpcb lists', () => {
    const prng = new Prng(8);
    for (let i = 0; i < 200; i++) {
      const maps = Array.from({ length: prng.int(0, 6) }, () => ({ prog: prng.int(0, 2 ** 32), vers: prng.int(0, 9), prot: prng.int(0, 256), port: prng.int(0, 65536) }));
      const r1 = new XdrReader(enc((w) => encodePmapList(w, maps)));
      expect(decodePmapList(r1)).toEqual(maps);
      r1.done();
      const rpcbs = maps.map((m) => ({ r_prog: m.prog, r_vers: m.vers, r_netid: ['tcp', 'udp', 'tcp6', ''][m.prot & 3], r_addr: toUniversalAddress(`10.0.0.${m.prot}`, m.port), r_owner: String(m.port) }));
      const r2 = new XdrReader(enc((w) => encodeRpcbList(w, rpcbs)));
      expect(decodeRpcbList(r2)).toEqual(rpcbs);
      r2.done();
      for (const b of rpcbs) expect(fromUniversalAddress(b.r_addr)).toEqual({ host: b.r_addr.split('.').slice(0, 4).join('.'), port: Number(b.r_owner) });
    }
  });
});

describe('portmap codec: truncated at every position', () => {
  it('every prefix of a list or rpcb is XdrDecodeError', () => {
    expectEveryPrefixFails([
      [PMAPLIST_BYTES, decodePmapList],
      [RPCB_BYTES, decodeRpcb],
      [MAPPING_BYTES, decodeMapping],
    ]);
  });
});

describe('portmap codec: malformed input', () => {
  it('names what is wrong', () => {
    expect(() => decodePmapList(new XdrReader(hex('00000002')))).toThrow(new XdrDecodeError('pmaplist next must be 0 or 1, got 2'));
    expect(() => decodeRpcb(new XdrReader(hex('00000001 00000001 00000401')))).toThrow(new XdrDecodeError('r_netid of 1025 bytes exceeds its limit of 1024'));
    expect(() => decodeUniversalAddress(new XdrReader(hex('00000005 6c6f6c7a 7a000000')))).toThrow(new XdrDecodeError("universal address 'lolzz' is not a universal address"));
  });

  it('refuses strings that are not universal addresses', () => {
    for (const bad of ['', '1.2.3.4', '1.2.3.4.5', '1.2.3.4.256.1', '300.1.1.1.0.1', 'host.0.111', '.1.1', '1.2.3.4.1.-1']) expect(fromUniversalAddress(bad)).toBeUndefined();
    expect(() => toUniversalAddress('1.2.3.4', 65536)).toThrow(RangeError);
  });
});

describe('portmap codec: random bytes', () => {
  it('never throw anything but XdrDecodeError', () => {
    expectOnlyOwnErrors(31, [PMAPLIST_BYTES, RPCB_BYTES], [decodePmapList, decodeRpcbList, decodeRpcb, decodeUniversalAddress]);
  });
});
