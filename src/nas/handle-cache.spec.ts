import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BadFileHandle, decodeFileHandle, encodeFileHandle } from './file-handle';
import { HandleCache } from './handle-cache';

const key1 = randomBytes(32);
const h = { exportId: 7, snapshotId: 0, ino: 42, generation: 3 };

function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof BadFileHandle) return e.problem;
    throw e;
  }
  return 'none';
}

describe('HandleCache', () => {
  it('makes the same bytes as encodeFileHandle and opens them to the same handle', () => {
    const c = new HandleCache();
    const b = c.encode(h, key1);
    expect(b.equals(encodeFileHandle(h, key1))).toBe(true);
    expect(c.encode(h, key1)).toBe(b);
    expect(c.decode(b, () => key1)).toEqual(h);
    expect(c.decode(Buffer.from(b), () => key1)).toEqual(decodeFileHandle(b, () => key1));
  });

  it('still refuses a forged handle, also one a byte away from a cached one', () => {
    const c = new HandleCache();
    const b = Buffer.from(c.encode(h, key1));
    c.decode(b, () => key1);
    for (const at of [12, 19, 30]) {
      const forged = Buffer.from(b);
      forged[at] ^= 1;
      expect(problem(() => c.decode(forged, () => key1))).toBe('forged');
    }
    expect(problem(() => c.decode(b.subarray(0, 36), () => key1))).toBe('malformed');
  });

  it('checks again once the export id has another key (the share was recreated) or is gone', () => {
    const c = new HandleCache();
    const b = Buffer.from(c.encode(h, key1));
    c.decode(b, () => key1);
    expect(problem(() => c.decode(b, () => randomBytes(32)))).toBe('forged');
    expect(problem(() => c.decode(b, () => undefined))).toBe('unknown-export');
    const key2 = randomBytes(32);
    expect(c.encode(h, key2).equals(encodeFileHandle(h, key2))).toBe(true);
  });

  it('does not depend on the caller keeping the buffer it decoded', () => {
    const c = new HandleCache();
    const b = Buffer.from(encodeFileHandle(h, key1));
    c.decode(b, () => key1);
    const copy = Buffer.from(b);
    b.fill(0);
    expect(c.decode(copy, () => key1)).toEqual(h);
  });

  it('keeps at most its limit, oldest out first', () => {
    const c = new HandleCache(3);
    for (let ino = 1; ino <= 5; ino++) c.encode({ ...h, ino }, key1);
    expect(c.size).toBe(3);
    // Evicted ones are made again, equal.
    expect(c.encode({ ...h, ino: 1 }, key1).equals(encodeFileHandle({ ...h, ino: 1 }, key1))).toBe(true);
    expect(c.size).toBe(3);
  });
});
