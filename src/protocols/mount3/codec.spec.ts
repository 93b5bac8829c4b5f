import { describe, expect, it } from 'vitest';
import { Prng } from '../../common/prng';
import { expectEveryPrefixFails, expectOnlyOwnErrors } from '../../../test/utils/xdr-codec-checks';
import { XdrDecodeError, XdrReader, XdrWriter } from '../xdr/xdr';
import { MountStat3 } from './constants';
import {
  decodeDirpath,
  decodeExports,
  decodeMountList,
  decodeMountRes3,
  encodeDirpath,
  encodeExports,
  encodeMountList,
  encodeMountRes3,
  type ExportNode,
  type MountBody,
  type MountRes3,
} from './codec';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const enc = (f: (w: XdrWriter) => void) => {
  const w = new XdrWriter(4);
  f(w);
  return w.toBuffer();
};

// Written by hand from RFC 1813 appendix I.
const DIRPATH = hex('00000007 2f657870 6f727400');
const MNT_OK: MountRes3 = { fhs_status: MountStat3.MNT3_OK, fhandle: hex('0102030405060708'), auth_flavors: [1] };
const MNT_OK_BYTES = hex('00000000 00000008 01020304 05060708 00000001 00000001');
const MNT_ACCES_BYTES = hex('0000000d');
const MOUNTLIST: MountBody[] = [{ ml_hostname: '10.0.0.5', ml_directory: '/export' }];
const MOUNTLIST_BYTES = hex('00000001 00000008 31302e30 2e302e35 00000007 2f657870 6f727400 00000000');
const EXPORTS: ExportNode[] = [
  { ex_dir: '/a', ex_groups: ['10.0.0.0/8', 'ws1'] },
  { ex_dir: '/b', ex_groups: [] },
];
const EXPORTS_BYTES = hex(`
  00000001 00000002 2f610000
    00000001 0000000a 31302e30 2e302e30 2f380000
    00000001 00000003 77733100
    00000000
  00000001 00000002 2f620000
    00000000
  00000000`);

describe('MOUNT v3 codec: reference bytes (RFC 1813 appendix I)', () => {
  it('dirpath', () => {
    expect(decodeDirpath(new XdrReader(DIRPATH))).toBe('/export');
    expect(enc((w) => encodeDirpath(w, '/export'))).toEqual(DIRPATH);
  });

  it('mountres3: MNT3_OK with handle and flavors, and an error status alone', () => {
    expect(enc((w) => encodeMountRes3(w, MNT_OK))).toEqual(MNT_OK_BYTES);
    expect(decodeMountRes3(new XdrReader(MNT_OK_BYTES))).toEqual(MNT_OK);
    expect(enc((w) => encodeMountRes3(w, { fhs_status: MountStat3.MNT3ERR_ACCES }))).toEqual(MNT_ACCES_BYTES);
    expect(decodeMountRes3(new XdrReader(MNT_ACCES_BYTES))).toEqual({ fhs_status: MountStat3.MNT3ERR_ACCES });
  });

  it('mountlist', () => {
    expect(enc((w) => encodeMountList(w, MOUNTLIST))).toEqual(MOUNTLIST_BYTES);
    expect(decodeMountList(new XdrReader(MOUNTLIST_BYTES))).toEqual(MOUNTLIST);
  });

  it('exports with groups', () => {
    expect(enc((w) => encodeExports(w, EXPORTS))).toEqual(EXPORTS_BYTES);
    expect(decodeExports(new XdrReader(EXPORTS_BYTES))).toEqual(EXPORTS);
  });
});

describe('MOUNT v3 codec: round trips', () => {
  it('random results, mount lists and exports', () => {
    const prng = new Prng(13);
    const name = (max: number) => 'x'.repeat(prng.int(0, max + 1));
    for (let i = 0; i < 200; i++) {
      const res: MountRes3 = prng.int(0, 2)
        ? { fhs_status: MountStat3.MNT3_OK, fhandle: prng.bytes(prng.int(0, 65)), auth_flavors: Array.from({ length: prng.int(0, 5) }, () => prng.int(0, 400)) }
        : { fhs_status: MountStat3.MNT3ERR_NOENT };
      const list = Array.from({ length: prng.int(0, 4) }, () => ({ ml_hostname: name(255), ml_directory: '/' + name(1023) }));
      const exps = Array.from({ length: prng.int(0, 4) }, () => ({ ex_dir: '/' + name(1023), ex_groups: Array.from({ length: prng.int(0, 4) }, () => name(255)) }));
      const r = new XdrReader(
        enc((w) => {
          encodeMountRes3(w, res);
          encodeMountList(w, list);
          encodeExports(w, exps);
        }),
      );
      expect(decodeMountRes3(r)).toEqual(res);
      expect(decodeMountList(r)).toEqual(list);
      expect(decodeExports(r)).toEqual(exps);
      r.done();
    }
  });
});

describe('MOUNT v3 codec: truncated at every position', () => {
  it('every prefix is XdrDecodeError', () => {
    expectEveryPrefixFails([
      [DIRPATH, decodeDirpath],
      [MNT_OK_BYTES, decodeMountRes3],
      [MOUNTLIST_BYTES, decodeMountList],
      [EXPORTS_BYTES, decodeExports],
    ]);
  });
});

describe('MOUNT v3 codec: malformed input', () => {
  it('names what is wrong', () => {
    expect(() => decodeDirpath(new XdrReader(hex('00000401')))).toThrow(new XdrDecodeError('dirpath of 1025 bytes exceeds its limit of 1024'));
    expect(() => decodeMountRes3(new XdrReader(hex('00000003')))).toThrow(new XdrDecodeError('mountstat3 3 is not a known value'));
    expect(() => decodeMountRes3(new XdrReader(hex('00000000 00000041')))).toThrow(new XdrDecodeError('fhandle3 of 65 bytes exceeds its limit of 64'));
    expect(() => decodeMountList(new XdrReader(hex('00000001 00000100')))).toThrow(new XdrDecodeError('ml_hostname of 256 bytes exceeds its limit of 255'));
    expect(() => decodeExports(new XdrReader(hex('00000001 00000000 00000002')))).toThrow(new XdrDecodeError('groups next must be 0 or 1, got 2'));
  });

  it('refuses to encode what the XDR cannot carry', () => {
    expect(() => enc((w) => encodeMountRes3(w, { ...MNT_OK, fhandle: Buffer.alloc(65) } as MountRes3))).toThrow('fhandle3 of 65 bytes exceeds 64');
    expect(() => enc((w) => encodeDirpath(w, '/' + 'a'.repeat(1024)))).toThrow('dirpath of 1025 bytes exceeds 1024');
    expect(() => enc((w) => encodeExports(w, [{ ex_dir: '/', ex_groups: ['g'.repeat(256)] }]))).toThrow('gr_name of 256 bytes exceeds 255');
  });
});

describe('MOUNT v3 codec: random bytes', () => {
  it('never throw anything but XdrDecodeError', () => {
    expectOnlyOwnErrors(77, [MNT_OK_BYTES, MOUNTLIST_BYTES, EXPORTS_BYTES], [decodeDirpath, decodeMountRes3, decodeMountList, decodeExports]);
  });
});
