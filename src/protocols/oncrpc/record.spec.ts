import { describe, expect, it } from 'vitest';
import { Prng } from '../../common/prng';
import { encodeFragmentHeader, frameRecord, RecordDecoder, RecordMarkingError } from './record';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const feed = (d: RecordDecoder, chunks: Buffer[]): Buffer[] => chunks.flatMap((c) => d.push(c));

// Written by hand from RFC 5531 section 11: "abcdefg" as fragments of 4 and 3 bytes, then "xy" in one last fragment, then an empty record.
const STREAM = hex(`
  00000004 61626364
  80000003 656667
  80000002 7879
  80000000`);
const RECORDS = ['abcdefg', 'xy', ''];

describe('record marking: reference bytes (RFC 5531 section 11)', () => {
  it('decodes a multi-fragment record, a single-fragment record and an empty record', () => {
    const d = new RecordDecoder(1024);
    expect(d.push(STREAM).map((r) => r.toString())).toEqual(RECORDS);
    expect(d.idle).toBe(true);
  });

  it('encodes fragment headers with the last-fragment bit', () => {
    expect(encodeFragmentHeader(4, false)).toEqual(hex('00000004'));
    expect(encodeFragmentHeader(3)).toEqual(hex('80000003'));
    expect(encodeFragmentHeader(0x7fffffff)).toEqual(hex('ffffffff'));
    expect(Buffer.concat(frameRecord([Buffer.from('abc'), Buffer.from('defg')], 4))).toEqual(hex('00000004 61626364 80000003 656667'));
    expect(Buffer.concat(frameRecord([Buffer.from('xy')]))).toEqual(hex('80000002 7879'));
  });

  it('returns a record that arrives whole in one chunk as a view of that chunk', () => {
    const chunk = hex('80000002 7879 80000001 7a');
    const [a, b] = new RecordDecoder(16).push(chunk);
    expect(a.buffer).toBe(chunk.buffer);
    expect(b.toString()).toBe('z');
  });

  it('keeps referenced payload pieces by reference when framing', () => {
    const big = Buffer.alloc(5000, 1);
    const parts = frameRecord([hex('01020304'), big]);
    expect(parts[2]).toBe(big);
  });
});

/** 100 rounds of random records, framed with random fragment sizes and cut into random chunks. */
function* randomStreams(seed: number): Generator<{ records: Buffer[]; chunks: Buffer[] }> {
  const prng = new Prng(seed);
  for (let round = 0; round < 100; round++) {
    const records = Array.from({ length: prng.int(1, 6) }, () => prng.bytes(prng.int(0, 3000)));
    const stream = Buffer.concat(records.flatMap((r) => frameRecord(prng.int(0, 2) ? [r] : [r.subarray(0, 7), r.subarray(7)], prng.int(1, 1200))));
    const chunks: Buffer[] = [];
    for (let at = 0; at < stream.length; ) {
      const n = prng.int(1, 700);
      chunks.push(stream.subarray(at, at + n));
      at += n;
    }
    yield { records, chunks };
  }
}

describe('record marking: round trips', () => {
  it('frames and decodes random records with random fragment sizes and chunking', () => {
    for (const { records, chunks } of randomStreams(5)) {
      const d = new RecordDecoder(4096);
      expect(feed(d, chunks)).toEqual(records);
      expect(d.idle).toBe(true);
    }
  });
});

describe('record marking: chunks the caller reuses', () => {
  /** Push every chunk through one buffer that is overwritten after each push, as a socket's onread buffer is. */
  const feedReused = (d: RecordDecoder, chunks: Buffer[]): Buffer[] => {
    const scratch = Buffer.alloc(Math.max(1, ...chunks.map((c) => c.length)));
    return chunks.flatMap((c) => {
      c.copy(scratch);
      const out = d.push(scratch.subarray(0, c.length));
      scratch.fill(0xee);
      return out;
    });
  };

  it('returns records that survive the chunk being overwritten, whole or split at every position', () => {
    const whole = hex('80000002 7879 80000001 7a');
    const [a, b] = feedReused(new RecordDecoder(16, undefined, true), [whole]);
    expect([a.toString(), b.toString()]).toEqual(['xy', 'z']);
    for (let cut = 0; cut <= STREAM.length; cut++) {
      const d = new RecordDecoder(1024, undefined, true);
      expect(feedReused(d, [STREAM.subarray(0, cut), STREAM.subarray(cut)]).map((r) => r.toString())).toEqual(RECORDS);
      expect(d.idle).toBe(true);
    }
    const d = new RecordDecoder(1024, undefined, true);
    expect(feedReused(d, [...STREAM].map((x) => Buffer.from([x]))).map((r) => r.toString())).toEqual(RECORDS);
  });

  it('decodes random records with random fragments and chunking as the view-keeping decoder does', () => {
    for (const { records, chunks } of randomStreams(11)) {
      const d = new RecordDecoder(4096, undefined, true);
      expect(feedReused(d, chunks)).toEqual(records);
      expect(d.idle).toBe(true);
    }
  });

  it('applies the same limits', () => {
    const d = new RecordDecoder(8, undefined, true);
    expect(() => d.push(hex('00000004 61626364 80000005'))).toThrow(RecordMarkingError);
    expect(() => d.push(hex('80000001 61'))).toThrow(/exceeds the limit of 8 bytes/);
  });
});

describe('record marking: input split at every position', () => {
  it('yields the same records for every two-way split and for one byte at a time', () => {
    for (let cut = 0; cut <= STREAM.length; cut++) {
      const d = new RecordDecoder(1024);
      expect(feed(d, [STREAM.subarray(0, cut), STREAM.subarray(cut)]).map((r) => r.toString())).toEqual(RECORDS);
    }
    const d = new RecordDecoder(1024);
    const bytes = [...STREAM].map((b) => Buffer.from([b]));
    expect(feed(d, bytes).map((r) => r.toString())).toEqual(RECORDS);
  });

  it('holds a partial record until it completes and reports what it holds', () => {
    const d = new RecordDecoder(1024);
    expect(d.push(STREAM.subarray(0, 10))).toEqual([]);
    expect(d.idle).toBe(false);
    expect(d.pending).toBe(6); // "abcd" and half of the next header
    d.push(STREAM.subarray(10, 13));
    expect(d.pending).toBe(5); // "abcde": a completed header is not held
    expect(d.push(STREAM.subarray(13, 15)).map((r) => r.toString())).toEqual(['abcdefg']);
    expect(d.idle).toBe(true);
  });
});

describe('record marking: malformed input', () => {
  it('refuses a fragment that takes the record past the limit, naming sizes', () => {
    const d = new RecordDecoder(1000);
    expect(() => d.push(hex('800003e9'))).toThrow(new RecordMarkingError('record of at least 1001 bytes (fragment 1 of 1001 bytes) exceeds the limit of 1000 bytes'));
    // The stream cannot be resynchronised: every later push fails the same way.
    expect(() => d.push(hex('80000000'))).toThrow(RecordMarkingError);
  });

  it('counts every fragment of a record against the limit', () => {
    const d = new RecordDecoder(10);
    expect(d.push(hex('00000006 616263646566'))).toEqual([]);
    expect(() => d.push(hex('80000005'))).toThrow('record of at least 11 bytes (fragment 2 of 5 bytes) exceeds the limit of 10 bytes');
  });

  it('accepts a record of exactly the limit', () => {
    expect(new RecordDecoder(3).push(hex('80000003 616263'))).toEqual([Buffer.from('abc')]);
  });

  it('refuses a record with too many fragments', () => {
    const d = new RecordDecoder(1000, 3);
    expect(() => d.push(hex('00000000 00000000 00000000 00000000'))).toThrow('record has more than 3 fragments');
  });

  it('refuses framing parameters out of range', () => {
    expect(() => encodeFragmentHeader(2 ** 31)).toThrow(RangeError);
    expect(() => frameRecord([], 0)).toThrow(RangeError);
  });
});

describe('record marking: random bytes', () => {
  it('never throws anything but RecordMarkingError', () => {
    const prng = new Prng(99);
    for (let i = 0; i < 2000; i++) {
      const d = new RecordDecoder(prng.int(0, 5000), prng.int(1, 50));
      try {
        for (let j = 0; j < 4; j++) d.push(prng.bytes(prng.int(0, 300)));
      } catch (e) {
        expect(e).toBeInstanceOf(RecordMarkingError);
      }
    }
  });
});
