import { describe, expect, it } from 'vitest';
import { SlotTable } from './slot-table';

const buf = (n: number, fill = 1) => Buffer.alloc(n, fill);

describe('SlotTable', () => {
  it('executes a call once and answers its retransmissions from the cache', () => {
    const t = new SlotTable(4, 1 << 20);
    expect(t.admit(0, 1)).toEqual({ kind: 'new' });
    expect(t.admit(0, 1)).toEqual({ kind: 'replay', reply: null });
    t.complete(0, 1, buf(10));
    const again = t.admit(0, 1);
    expect(again.kind).toBe('replay');
    expect((again as { reply: Buffer }).reply.equals(buf(10))).toBe(true);
  });

  it('tells when it lets go of a cached reply: the slot moved on, or the reply was evicted', () => {
    const dropped: Buffer[] = [];
    const t = new SlotTable(2, 100, (r) => dropped.push(r));
    const first = buf(60);
    t.admit(0, 1);
    t.complete(0, 1, first, true);
    t.admit(0, 1);
    expect(dropped).toEqual([]);
    t.admit(0, 2);
    expect(dropped).toEqual([first]);
    t.complete(0, 2, buf(60, 2), true);
    const big = buf(70, 3);
    t.admit(1, 1);
    t.complete(1, 1, big, true);
    // 130 bytes cached against a bound of 100: the largest evictable reply goes.
    expect(dropped).toEqual([first, big]);
    expect(t.admit(1, 1)).toEqual({ kind: 'evicted' });
    expect(dropped.length).toBe(2);
  });

  it('lets go of a re-readable reply the client has, and only of that one', () => {
    const dropped: Buffer[] = [];
    const t = new SlotTable(3, 1 << 20, (r) => dropped.push(r));
    const read = buf(50, 1);
    const write = buf(8, 2);
    t.admit(0, 1);
    t.complete(0, 1, read, true);
    t.admit(1, 1);
    t.complete(1, 1, write, false);
    t.admit(2, 1);
    // Still executing, an older sequence, a slot that does not exist, a reply that must stay: nothing goes.
    t.delivered(2, 1);
    t.delivered(0, 0);
    t.delivered(7, 1);
    t.delivered(1, 1);
    expect(dropped).toEqual([]);
    expect(t.bytes).toBe(58);
    t.delivered(0, 1);
    expect(dropped).toEqual([read]);
    expect(t.bytes).toBe(8);
    // A late duplicate of the call is told to send it again; its successor runs as usual.
    expect(t.admit(0, 1)).toEqual({ kind: 'evicted' });
    expect(t.admit(0, 2)).toEqual({ kind: 'new' });
    expect(t.cached(1, 1)?.equals(write)).toBe(true);
    expect(dropped).toEqual([read]);
  });

  it('shows a cached reply without admitting anything', () => {
    const t = new SlotTable(2, 1 << 20);
    t.admit(0, 1);
    expect(t.cached(0, 1)).toBeNull();
    t.complete(0, 1, buf(5));
    expect(t.cached(0, 1)?.equals(buf(5))).toBe(true);
    // The next sequence was never admitted: a look at it neither starts it nor drops the reply before it.
    expect(t.cached(0, 2)).toBeNull();
    expect(t.cached(0, 1)?.equals(buf(5))).toBe(true);
    expect(t.admit(0, 2)).toEqual({ kind: 'new' });
    expect(t.cached(5, 1)).toBeNull();
  });

  it('refuses old and skipped sequences, so a delayed duplicate never runs after newer calls', () => {
    const t = new SlotTable(2, 1 << 20);
    t.admit(1, 1);
    t.complete(1, 1, buf(1));
    t.admit(1, 2);
    t.complete(1, 2, buf(1));
    expect(t.admit(1, 1)).toEqual({ kind: 'misordered', expected: 3 });
    expect(t.admit(1, 4)).toEqual({ kind: 'misordered', expected: 3 });
    expect(t.admit(1, 0)).toEqual({ kind: 'misordered', expected: 3 });
    expect(t.admit(1, 3)).toEqual({ kind: 'new' });
  });

  it('refuses a new call on a slot still executing, and slots beyond the table', () => {
    const t = new SlotTable(2, 1 << 20);
    t.admit(0, 1);
    expect(t.admit(0, 2)).toEqual({ kind: 'misordered', expected: 1 });
    expect(t.admit(2, 1)).toEqual({ kind: 'bad-slot', slots: 2 });
  });

  it('wraps sequence numbers at 2^32', () => {
    const t = new SlotTable(1, 1 << 20);
    for (let s = 1; s <= 3; s++) {
      t.admit(0, s);
      t.complete(0, s, buf(1));
    }
    const u = new SlotTable(1, 1 << 20);
    (u as unknown as { slots: Array<{ seq: number }> }).slots[0].seq = 0xffffffff;
    expect(u.admit(0, 0)).toEqual({ kind: 'new' });
  });

  it('stays within its memory bound by dropping the largest re-readable replies only', () => {
    const t = new SlotTable(3, 1000);
    t.admit(0, 1);
    t.complete(0, 1, buf(8)); // a WRITE's reply: never dropped
    t.admit(1, 1);
    t.complete(1, 1, buf(900), true);
    t.admit(2, 1);
    t.complete(2, 1, buf(600), true);
    expect(t.bytes).toBeLessThanOrEqual(1000);
    expect(t.admit(1, 1)).toEqual({ kind: 'evicted' });
    expect(t.admit(0, 1).kind).toBe('replay');
    expect((t.admit(2, 1) as { reply: Buffer }).reply.length).toBe(600);
    // Reusing a slot releases its cached reply.
    t.admit(2, 2);
    expect(t.bytes).toBe(8);
  });
});
