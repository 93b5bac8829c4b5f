import { describe, expect, it } from 'vitest';
import { pieces, readAhead, type Piece } from './read-ahead';

describe('pieces', () => {
  it('cuts data runs into chunks, keeps zero runs whole, and starts from an offset inside a run', () => {
    const runs = [
      { offset: 0, length: 10, read: true },
      { offset: 10, length: 20, read: false },
      { offset: 40, length: 7, read: true },
    ];
    expect([...pieces(runs, 0, 4)]).toEqual([
      { offset: 0, length: 4, read: true },
      { offset: 4, length: 4, read: true },
      { offset: 8, length: 2, read: true },
      { offset: 10, length: 20, read: false },
      { offset: 40, length: 4, read: true },
      { offset: 44, length: 3, read: true },
    ]);
    expect([...pieces(runs, 12, 4)]).toEqual([
      { offset: 12, length: 18, read: false },
      { offset: 40, length: 4, read: true },
      { offset: 44, length: 3, read: true },
    ]);
    expect([...pieces(runs, 47, 4)]).toEqual([]);
  });
});

describe('readAhead', () => {
  it('reads the next piece while the current one is handled, and hands each on in order with its own bytes', async () => {
    const events: string[] = [];
    const all: Piece[] = [
      { offset: 0, length: 3, read: true },
      { offset: 3, length: 5, read: false },
      { offset: 8, length: 3, read: true },
      { offset: 11, length: 3, read: true },
    ];
    const seen: Array<[number, string | null]> = [];
    await readAhead(
      all,
      3,
      async (offset, into) => {
        events.push(`read ${offset}`);
        into.fill(offset);
      },
      async (p, data) => {
        events.push(`handle ${p.offset}`);
        await new Promise((r) => setTimeout(r, 1));
        seen.push([p.offset, data ? data.toString('hex') : null]);
      },
    );
    expect(seen).toEqual([
      [0, '000000'],
      [3, null],
      [8, '080808'],
      [11, '0b0b0b'],
    ]);
    expect(events).toEqual(['read 0', 'handle 0', 'read 8', 'handle 3', 'read 11', 'handle 8', 'handle 11']);
  });

  it('stops at the first failure, read or handler, and leaves no read unhandled', async () => {
    const all: Piece[] = [0, 1, 2].map((i) => ({ offset: i, length: 1, read: true }));
    await expect(readAhead(all, 1, async (o) => (o === 1 ? Promise.reject(new Error('EIO at 1')) : undefined), async () => undefined)).rejects.toThrow('EIO at 1');
    await expect(
      readAhead(all, 1, async (o) => (o === 1 ? Promise.reject(new Error('late')) : undefined), async () => {
        throw new Error('handler failed');
      }),
    ).rejects.toThrow('handler failed');
  });
});
