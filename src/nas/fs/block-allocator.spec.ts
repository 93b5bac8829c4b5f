import { describe, expect, it } from 'vitest';
import { Prng } from '../../common/prng';
import { BlockAllocator } from './block-allocator';

describe('BlockAllocator', () => {
  it('hands out one contiguous run from an empty map and keeps count', () => {
    const a = new BlockAllocator(1000);
    expect(a.allocate(300)).toEqual([{ start: 0, count: 300 }]);
    expect(a.used).toBe(300);
    expect(a.free).toBe(700);
    expect(a.allocate(10)).toEqual([{ start: 300, count: 10 }]);
  });

  it('extends at the goal when free, else goes elsewhere', () => {
    const a = new BlockAllocator(1000);
    a.markUsed(0, 10);
    expect(a.allocate(5, 500)).toEqual([{ start: 500, count: 5 }]);
    expect(a.allocate(5, 505)).toEqual([{ start: 505, count: 5 }]);
    // Goal taken: next-fit after the last allocation.
    expect(a.allocate(3, 0)).toEqual([{ start: 510, count: 3 }]);
  });

  it('prefers a free run of minRun over scattered holes', () => {
    const a = new BlockAllocator(256);
    for (let b = 0; b < 128; b += 2) a.markUsed(b, 1); // holes of 1 in the first half
    const runs = a.allocate(32, -1, 32);
    expect(runs).toEqual([{ start: 127, count: 32 }]); // 127 is free and starts the long run
  });

  it('falls back to scattered blocks when no long run exists, wrapping around', () => {
    const a = new BlockAllocator(64);
    for (let b = 0; b < 64; b += 2) a.markUsed(b, 1);
    const runs = a.allocate(32, -1, 16);
    expect(runs.length).toBe(32);
    expect(runs.every((r) => r.count === 1 && r.start % 2 === 1)).toBe(true);
    expect(a.free).toBe(0);
    expect(() => a.allocate(1)).toThrow();
  });

  it('release refuses blocks that are already free and changes nothing then', () => {
    const a = new BlockAllocator(100);
    a.markUsed(10, 5);
    expect(() => a.release(8, 5)).toThrow(/already free/);
    expect(a.used).toBe(5);
    a.release(10, 5);
    expect(a.used).toBe(0);
  });

  it('markUsed reports blocks already owned', () => {
    const a = new BlockAllocator(100);
    expect(a.markUsed(10, 10)).toBe(0);
    expect(a.markUsed(15, 10)).toBe(5);
    expect(a.used).toBe(15);
  });

  it('rejects ranges outside the map', () => {
    const a = new BlockAllocator(100);
    expect(() => a.markUsed(95, 10)).toThrow(RangeError);
    expect(() => a.release(-1, 1)).toThrow(RangeError);
  });

  it('agrees with a naive model under random allocate/release', () => {
    const prng = new Prng(7);
    const total = 777;
    const a = new BlockAllocator(total);
    const model = new Uint8Array(total);
    const owned: Array<{ start: number; count: number }> = [];
    for (let step = 0; step < 3000; step++) {
      if (prng.next() < 0.55 && a.free > 0) {
        const n = prng.int(1, Math.min(a.free, 40) + 1);
        const runs = a.allocate(n, prng.next() < 0.5 ? prng.int(0, total) : -1, prng.int(1, 20));
        expect(runs.reduce((s, r) => s + r.count, 0)).toBe(n);
        for (const r of runs) {
          for (let b = r.start; b < r.start + r.count; b++) {
            expect(model[b]).toBe(0);
            model[b] = 1;
          }
          owned.push(r);
        }
      } else if (owned.length > 0) {
        const r = owned.splice(prng.int(0, owned.length), 1)[0];
        a.release(r.start, r.count);
        for (let b = r.start; b < r.start + r.count; b++) model[b] = 0;
      }
      const used = model.reduce((s, x) => s + x, 0);
      expect(a.used).toBe(used);
      if (step % 100 === 0) for (let b = 0; b < total; b++) expect(a.isUsed(b)).toBe(model[b] === 1);
    }
  });

  it('finds differences between two maps', () => {
    const a = new BlockAllocator(100);
    const b = new BlockAllocator(100);
    a.markUsed(3, 4);
    b.markUsed(3, 4);
    expect(a.firstMismatch(b)).toBe(-1);
    b.markUsed(70, 1);
    expect(a.firstMismatch(b)).toBe(70);
  });
});
