import { describe, expect, it } from 'vitest';
import { SbpDecodeError, Status } from '../../protocols/san/constants';
import { ReassemblyTable } from './reassembly-table';

const seg = (n: number, fill: number) => Buffer.alloc(n, fill);

describe('ReassemblyTable', () => {
  it('completes a message from segments in any order, ignoring duplicates', () => {
    const t = new ReassemblyTable(4, 1000, 1000);
    expect(t.add(0, 7, 2, 3, 10, seg(2, 3))).toMatchObject({ kind: 'partial', duplicate: false });
    expect(t.add(0, 7, 2, 3, 10, seg(2, 3))).toMatchObject({ kind: 'partial', duplicate: true });
    expect(t.add(0, 7, 0, 3, 10, seg(4, 1)).kind).toBe('partial');
    const r = t.add(0, 7, 1, 3, 10, seg(4, 2));
    expect(r.kind).toBe('complete');
    expect((r as { message: Buffer }).message.toString('hex')).toBe('01010101020202020303');
    expect(t.bytes).toBe(0);
    expect(t.size).toBe(0);
  });

  it('reserves a whole message up front and refuses new ones past the memory bound', () => {
    const t = new ReassemblyTable(4, 20, 1000);
    t.add(0, 1, 0, 3, 12, seg(4, 0));
    expect(t.bytes).toBe(12);
    expect(t.add(0, 2, 0, 3, 12, seg(4, 0))).toEqual({ kind: 'refused' });
    // The message already admitted still completes.
    t.add(0, 1, 1, 3, 12, seg(4, 0));
    expect(t.add(0, 1, 2, 3, 12, seg(4, 0)).kind).toBe('complete');
    expect(t.add(0, 2, 0, 3, 12, seg(4, 0)).kind).toBe('partial');
  });

  it('drops messages idle past the timeout', () => {
    const t = new ReassemblyTable(4, 100, 100);
    t.add(0, 1, 0, 2, 8, seg(4, 0));
    t.add(50, 2, 0, 2, 8, seg(4, 0));
    expect(t.expire(99, 60)).toBe(1);
    expect(t.has(1)).toBe(false);
    expect(t.has(2)).toBe(true);
    expect(t.bytes).toBe(8);
  });

  it('refuses a segment that disagrees with its message, and a message larger than allowed', () => {
    const t = new ReassemblyTable(4, 100, 16);
    t.add(0, 1, 0, 2, 8, seg(4, 0));
    expect(() => t.add(0, 1, 1, 3, 12, seg(4, 0))).toThrow(SbpDecodeError);
    expect(() => t.add(0, 1, 1, 2, 8, seg(3, 0))).toThrow(/expected 4/);
    let err: unknown;
    try {
      t.add(0, 9, 0, 5, 20, seg(4, 0));
    } catch (e) {
      err = e;
    }
    expect((err as SbpDecodeError).status).toBe(Status.TOO_LARGE);
  });
});
