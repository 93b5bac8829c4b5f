import { describe, expect, it } from 'vitest';
import { Prng } from '../../common/prng';
import { XdrDecodeError, XdrReader, XdrWriter } from './xdr';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** A struct used across the tests: { unsigned id; string name<16>; opaque data<>; hyper size; bool ro; unsigned gids<4>; } */
interface Sample {
  id: number;
  name: string;
  data: Buffer;
  size: bigint;
  ro: boolean;
  gids: number[];
}
const encodeSample = (w: XdrWriter, s: Sample): XdrWriter =>
  w.uint32(s.id).string(s.name).varOpaque(s.data).hyper(s.size).bool(s.ro).array(s.gids, (x, g) => x.uint32(g));
const decodeSample = (r: XdrReader): Sample => ({
  id: r.uint32('id'),
  name: r.string(16, 'name'),
  data: Buffer.from(r.varOpaque(1 << 20, 'data')),
  size: r.hyperBig('size'),
  ro: r.bool('ro'),
  gids: r.array((x) => x.uint32('gid'), 4, 'gids'),
});

// Written by hand from RFC 4506 sections 4.1–4.13, not by the codec.
const SAMPLE: Sample = { id: 7, name: 'abcde', data: Buffer.from([0xde, 0xad]), size: -2n, ro: true, gids: [0, 100] };
const SAMPLE_BYTES = hex(`
  00000007
  00000005 61626364 65000000
  00000002 dead0000
  ffffffff fffffffe
  00000001
  00000002 00000000 00000064`);

describe('XDR reference bytes (RFC 4506)', () => {
  it('encodes the sample struct to the hand-written bytes', () => {
    expect(encodeSample(new XdrWriter(4), SAMPLE).toBuffer().equals(SAMPLE_BYTES)).toBe(true);
  });

  it('decodes the hand-written bytes', () => {
    const r = new XdrReader(SAMPLE_BYTES);
    expect(decodeSample(r)).toEqual(SAMPLE);
    r.done();
  });

  it('pads fixed opaque data with zeros to a multiple of four', () => {
    expect(new XdrWriter().fixedOpaque(Buffer.from([1, 2, 3, 4, 5])).toBuffer()).toEqual(hex('0102030405000000'));
    expect(new XdrWriter().string('').toBuffer()).toEqual(hex('00000000'));
  });

  it('encodes unsigned hyper and int edge values', () => {
    expect(new XdrWriter().uhyper(2 ** 53 - 1).int32(-1).uint32(0xffffffff).toBuffer()).toEqual(hex('001fffffffffffff ffffffff ffffffff'));
  });
});

describe('XDR round trips', () => {
  it('round-trips random samples, large payloads kept by reference', () => {
    const prng = new Prng(11);
    for (let i = 0; i < 300; i++) {
      const s: Sample = {
        id: prng.int(0, 0xffffffff),
        name: 'n'.repeat(prng.int(0, 17)),
        data: prng.bytes(prng.int(0, 3000)),
        size: BigInt(prng.int(0, 2 ** 31)) * (prng.int(0, 2) ? 1n : -1n),
        ro: prng.int(0, 2) === 1,
        gids: Array.from({ length: prng.int(0, 5) }, () => prng.int(0, 65536)),
      };
      const w = encodeSample(new XdrWriter(8), s);
      const parts = w.toBuffers();
      expect(parts.reduce((n, p) => n + p.length, 0)).toBe(w.length);
      if (s.data.length >= 512) expect(parts.some((p) => p === s.data)).toBe(true);
      const r = new XdrReader(w.toBuffer());
      expect(decodeSample(r)).toEqual(s);
      r.done();
    }
  });

  it('fills placeholders wherever the slot ended up (across growth and referenced payloads)', () => {
    const w = new XdrWriter(4);
    const setCount = w.placeholder();
    w.varOpaque(Buffer.alloc(1000, 9));
    const setLater = w.placeholder();
    w.uint32(5);
    setCount(3);
    setLater(0xabcdef01);
    const r = new XdrReader(w.toBuffer());
    expect(r.uint32()).toBe(3);
    expect(r.varOpaque().equals(Buffer.alloc(1000, 9))).toBe(true);
    expect(r.uint32()).toBe(0xabcdef01);
    expect(r.uint32()).toBe(5);
    r.done();
  });

  it('linked lists: TRUE before each item, FALSE at the end (hand-written), and back', () => {
    const bytes = new XdrWriter().list([7, 8], (x, v) => x.uint32(v)).toBuffer();
    expect(bytes).toEqual(hex('00000001 00000007 00000001 00000008 00000000'));
    const r = new XdrReader(bytes);
    expect(r.list((x) => x.uint32())).toEqual([7, 8]);
    r.done();
    expect(new XdrReader(hex('00000000')).list((x) => x.uint32())).toEqual([]);
    for (let n = 0; n < bytes.length; n++) expect(() => new XdrReader(bytes.subarray(0, n)).list((x) => x.uint32())).toThrow(XdrDecodeError);
    expect(() => new XdrReader(bytes).list((x) => x.uint32(), 1, 'exports')).toThrow(new XdrDecodeError('exports exceeds its limit of 1 items'));
    expect(() => new XdrReader(hex('00000003')).list((x) => x.uint32(), 9, 'groups')).toThrow(new XdrDecodeError('groups next must be 0 or 1, got 3'));
  });

  it('optional items round-trip both ways', () => {
    const w = new XdrWriter().optional(42, (x, v) => x.uint32(v)).optional<number>(undefined, (x, v) => x.uint32(v));
    const r = new XdrReader(w.toBuffer());
    expect(r.optional((x) => x.uint32())).toBe(42);
    expect(r.optional((x) => x.uint32())).toBeUndefined();
    r.done();
  });
});

describe('XDR truncation at every position', () => {
  it('every proper prefix of the sample fails with XdrDecodeError', () => {
    for (let n = 0; n < SAMPLE_BYTES.length; n++) {
      expect(() => decodeSample(new XdrReader(SAMPLE_BYTES.subarray(0, n))), `prefix ${n}`).toThrow(XdrDecodeError);
    }
  });

  it('reads within a window of a larger buffer and never past its end', () => {
    const big = Buffer.concat([hex('ffffffff'), SAMPLE_BYTES, hex('00000001')]);
    const r = new XdrReader(big, 4, 4 + SAMPLE_BYTES.length);
    expect(decodeSample(r)).toEqual(SAMPLE);
    r.done();
    expect(() => r.uint32()).toThrow(XdrDecodeError);
  });
});

describe('XDR malformed input: exact errors', () => {
  it('refuses a bool other than 0 or 1', () => {
    expect(() => new XdrReader(hex('00000002')).bool('ro')).toThrow('ro must be 0 or 1, got 2');
  });
  it('refuses an opaque longer than its limit before reading it', () => {
    expect(() => new XdrReader(hex('00000011')).string(16, 'name')).toThrow('name of 17 bytes exceeds its limit of 16');
  });
  it('refuses an array count the input cannot hold', () => {
    expect(() => new XdrReader(hex('7fffffff 00000000')).array((r) => r.uint32())).toThrow(/cannot fit/);
  });
  it('refuses an unknown enum value', () => {
    expect(() => new XdrReader(hex('00000009')).enumOf(new Set([1, 2]), 'ftype')).toThrow('ftype 9 is not a known value');
  });
  it('refuses trailing bytes when done() is asked', () => {
    const r = new XdrReader(hex('00000001 00000002'));
    r.uint32();
    expect(() => r.done('GETATTR3args')).toThrow('4 unexpected bytes after the GETATTR3args');
  });
  it('clamps a hyper beyond 2^53-1 to 2^53 where a clamped number is asked', () => {
    const r = new XdrReader(hex('001fffffffffffff 0020000000000001 ffffffffffffffff'));
    expect(r.uhyperClamped()).toBe(2 ** 53 - 1);
    expect(r.uhyperClamped()).toBe(2 ** 53);
    expect(r.uhyperClamped()).toBe(2 ** 53);
    expect(() => r.uhyperClamped('offset')).toThrow('truncated offset: need 8 bytes, 0 left');
  });
  it('refuses a hyper beyond 2^53-1 where a number is asked', () => {
    expect(() => new XdrReader(hex('0020000000000000')).uhyper('offset')).toThrow(/exceeds 2\^53-1/);
  });
});

describe('XDR random input', () => {
  it('decoding random and mutated bytes only ever throws XdrDecodeError', () => {
    const prng = new Prng(99);
    for (let i = 0; i < 20_000; i++) {
      const input = i % 2 ? prng.bytes(prng.int(0, 64)) : Buffer.from(SAMPLE_BYTES);
      if (i % 2 === 0) for (let k = 0; k < 3; k++) input[prng.int(0, input.length)] = prng.int(0, 256);
      try {
        decodeSample(new XdrReader(input));
      } catch (e) {
        expect(e).toBeInstanceOf(XdrDecodeError);
      }
    }
  });
});
