import { describe, expect, it } from 'vitest';
import { ExtentMap } from './extent-map';

const done = Promise.resolve();

describe('ExtentMap', () => {
  it('describes a range as mapped pieces and holes', () => {
    const m = new ExtentMap([
      { fblock: 2, dblock: 100, count: 3 },
      { fblock: 8, dblock: 50, count: 2 },
    ]);
    expect(m.blocks).toBe(5);
    expect(m.segments(0, 12).map(({ fblock, count, dblock }) => [fblock, count, dblock])).toEqual([
      [0, 2, -1],
      [2, 3, 100],
      [5, 3, -1],
      [8, 2, 50],
      [10, 2, -1],
    ]);
    expect(m.segments(3, 4).map(({ fblock, count, dblock }) => [fblock, count, dblock])).toEqual([[3, 1, 101]]);
    expect(m.blockAt(4)).toBe(102);
    expect(m.blockAt(5)).toBe(-1);
  });

  it('aims a hole at the store block that keeps the file linear', () => {
    const m = new ExtentMap([{ fblock: 4, dblock: 100, count: 2 }]);
    expect(m.goalFor(6)).toBe(102);
    expect(m.goalFor(10)).toBe(106);
    expect(m.goalFor(1)).toBe(97);
    expect(new ExtentMap().goalFor(0)).toBe(-1);
  });

  it('pending extents read as holes until settled, then merge with neighbours and mark the rows dirty from there', () => {
    const m = new ExtentMap([{ fblock: 0, dblock: 10, count: 4 }]);
    const e = m.addPending(4, 14, 4, done);
    expect(m.blockAt(5)).toBe(-1);
    expect(m.pendingBlocks).toBe(4);
    expect(m.persistedFrom(0)).toEqual([{ fblock: 0, dblock: 10, count: 4 }]);
    m.settle(e);
    expect(m.list).toEqual([{ fblock: 0, dblock: 10, count: 8 }]);
    expect(m.dirtyFrom).toBe(0);
    expect(m.blockAt(5)).toBe(15);
    expect(m.pendingBlocks).toBe(0);
  });

  it('does not merge extents that are not contiguous on the store', () => {
    const m = new ExtentMap([{ fblock: 0, dblock: 10, count: 4 }]);
    const e = m.addPending(4, 30, 2, done);
    m.settle(e);
    expect(m.list.length).toBe(2);
    expect(m.dirtyFrom).toBe(4);
  });

  it('drop forgets a failed pending extent', () => {
    const m = new ExtentMap();
    const e = m.addPending(0, 5, 3, done);
    m.drop(e);
    expect(m.list).toEqual([]);
    expect(m.blocks).toBe(0);
    expect(m.pendingBlocks).toBe(0);
  });

  it('truncate frees whole and partial extents and marks from the cut extent', () => {
    const m = new ExtentMap([
      { fblock: 0, dblock: 10, count: 4 },
      { fblock: 4, dblock: 40, count: 4 },
      { fblock: 10, dblock: 60, count: 2 },
    ]);
    expect(m.truncate(6)).toEqual([
      { start: 42, count: 2 },
      { start: 60, count: 2 },
    ]);
    expect(m.list).toEqual([
      { fblock: 0, dblock: 10, count: 4 },
      { fblock: 4, dblock: 40, count: 2 },
    ]);
    expect(m.blocks).toBe(6);
    expect(m.dirtyFrom).toBe(4);
    expect(m.truncate(0)).toEqual([
      { start: 10, count: 4 },
      { start: 40, count: 2 },
    ]);
    expect(m.blocks).toBe(0);
    expect(m.dirtyFrom).toBe(0);
  });

  it('refuses to truncate over a pending extent', () => {
    const m = new ExtentMap();
    m.addPending(0, 5, 3, done);
    expect(() => m.truncate(1)).toThrow(/pending/);
  });
});
