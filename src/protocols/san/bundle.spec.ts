import { describe, expect, it } from 'vitest';
import { Prng } from '../../common/prng';
import { decodeBundle, encodeBundle, type BundleEntry } from './bundle';
import { Kind, SbpDecodeError } from './constants';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// Written by hand from docs/san-protocol.md section 2.1: a REPLY_SEG of 3 bytes, then an ACK of 6.
const ENTRIES: BundleEntry[] = [
  { kind: Kind.REPLY_SEG, xid: 0x01020304, segment: 0, segments: 1, messageLength: 3, payload: hex('aabbcc') },
  { kind: Kind.ACK, xid: 7, segment: 0, segments: 1, messageLength: 6, payload: hex('0001 0000 0003') },
];
const BYTES = hex(`
  02 00 0003 01020304 0000 0001 00000003 aabbcc
  03 00 0006 00000007 0000 0001 00000006 000100000003`);

describe('SBP BUNDLE payload', () => {
  it('encodes to the hand-written bytes and decodes them back', () => {
    expect(encodeBundle(ENTRIES)).toEqual(BYTES);
    expect(decodeBundle(BYTES)).toEqual(ENTRIES);
  });

  it('round-trips random entries', () => {
    const prng = new Prng(3);
    const kinds = [Kind.CALL_SEG, Kind.REPLY_SEG, Kind.ACK, Kind.ERROR];
    for (let i = 0; i < 300; i++) {
      const entries: BundleEntry[] = Array.from({ length: prng.int(1, 8) }, () => {
        const segments = prng.int(1, 40);
        const payload = prng.bytes(prng.int(0, 600));
        return { kind: kinds[prng.int(0, 4)], xid: prng.int(0, 2 ** 32), segment: prng.int(0, segments), segments, messageLength: payload.length + prng.int(0, 10_000), payload };
      });
      expect(decodeBundle(encodeBundle(entries))).toEqual(entries);
    }
  });

  it('refuses every truncation with GARBAGE', () => {
    for (let n = 0; n < BYTES.length; n++) {
      if (n === 19) continue; // the first entry alone is a valid bundle
      expect(() => decodeBundle(BYTES.subarray(0, n)), `prefix ${n}`).toThrow(SbpDecodeError);
    }
    expect(decodeBundle(BYTES.subarray(0, 19))).toEqual([ENTRIES[0]]);
  });

  it('names what is wrong', () => {
    expect(() => decodeBundle(Buffer.alloc(0))).toThrow('bundle: empty');
    expect(() => decodeBundle(hex('04 00 0000 00000001 0000 0001 00000000'))).toThrow('entry 0 has kind 4, which cannot be bundled');
    expect(() => decodeBundle(hex('02 01 0000 00000001 0000 0001 00000000'))).toThrow('non-zero reserved byte');
    expect(() => decodeBundle(hex('02 00 0000 00000001 0001 0001 00000000'))).toThrow('segment 1 of 1');
    expect(() => decodeBundle(hex('02 00 0002 00000001 0000 0001 00000001 ffff'))).toThrow('carries 2 bytes of a 1-byte message');
    expect(() => encodeBundle([{ ...ENTRIES[0], kind: Kind.LOGIN }])).toThrow(RangeError);
  });

  it('decoding random and mutated input only ever throws SbpDecodeError', () => {
    const prng = new Prng(4);
    for (let i = 0; i < 20_000; i++) {
      const input = i % 2 ? prng.bytes(prng.int(0, 80)) : Buffer.from(BYTES);
      if (i % 2 === 0) for (let k = 0; k < 2; k++) input[prng.int(0, input.length)] = prng.int(0, 256);
      try {
        decodeBundle(input);
      } catch (e) {
        expect(e).toBeInstanceOf(SbpDecodeError);
      }
    }
  });
});
