import { describe, expect, it } from 'vitest';
import { PageAllocator } from './page-allocator';
import { Prng } from '../common/prng';

describe('PageAllocator', () => {
  it('hands out the lowest free pages first and reuses released ones', () => {
    const a = new PageAllocator(100);
    expect(a.allocate(3)).toEqual([0, 1, 2]);
    expect(a.allocate(2)).toEqual([3, 4]);
    a.release([1, 3]);
    expect(a.allocate(3)).toEqual([1, 3, 5]);
    expect([a.used, a.free, a.pageCount]).toEqual([6, 94, 100]);
    expect(a.allocate(0)).toEqual([]);
  });

  it('never hands out padding past pageCount', () => {
    const a = new PageAllocator(33);
    const pages = a.allocate(33);
    expect(pages).toEqual(Array.from({ length: 33 }, (_, i) => i));
    expect(a.free).toBe(0);
    expect(() => a.allocate(1)).toThrow(/only 0 free/);
  });

  it('markUsed rejects double allocation and skips marked pages when allocating', () => {
    const a = new PageAllocator(64);
    a.markUsed(0);
    a.markUsed(40);
    expect(() => a.markUsed(40)).toThrow(/already in use/);
    expect(() => a.markUsed(64)).toThrow(RangeError);
    expect(a.isUsed(40)).toBe(true);
    expect(a.used).toBe(2);
    const pages = a.allocate(62);
    expect(pages).not.toContain(0);
    expect(pages).not.toContain(40);
    expect(a.free).toBe(0);
  });

  it('release is all or nothing', () => {
    const a = new PageAllocator(10);
    a.allocate(3);
    expect(() => a.release([0, 1, 5])).toThrow(/page 5 is not in use/);
    expect(() => a.release([2, 2])).toThrow(/not in use/);
    expect(() => a.release([99])).toThrow(/not in use/);
    expect([a.isUsed(0), a.isUsed(1), a.isUsed(2), a.used]).toEqual([true, true, true, 3]);
  });

  it('grows, turning former padding into free pages', () => {
    const a = new PageAllocator(33);
    a.allocate(33);
    a.grow(70);
    expect(a.free).toBe(37);
    expect(a.allocate(37)).toEqual(Array.from({ length: 37 }, (_, i) => 33 + i));
    expect(() => a.grow(10)).toThrow(/shrink/);
  });

  it('matches a set model under random allocate/release', () => {
    const rng = new Prng(42);
    const a = new PageAllocator(1000);
    const used = new Set<number>();
    for (let step = 0; step < 5000; step++) {
      if (rng.next() < 0.5) {
        const n = rng.int(0, Math.min(20, a.free) + 1);
        const lowestFree = Array.from({ length: 1000 }, (_, i) => i).filter((p) => !used.has(p)).slice(0, n);
        const pages = a.allocate(n);
        expect(pages).toEqual(lowestFree);
        for (const p of pages) used.add(p);
      } else if (used.size > 0) {
        const all = [...used];
        const pick = all.filter(() => rng.next() < 0.1);
        a.release(pick);
        for (const p of pick) used.delete(p);
      }
      expect(a.used).toBe(used.size);
    }
    for (let p = 0; p < 1000; p++) expect(a.isUsed(p)).toBe(used.has(p));
  });
});
