import { describe, expect, it } from 'vitest';
import { Prng } from '../../common/prng';
import { backupRuns, carriedDigests, ChainError, composeChain } from './backup-chain';
import { type BackupManifest, type BackupRun } from './backup-manifest';

const P = 4096;

function backup(id: string, parent: string | null, size: number, runs: BackupRun[], volume = 'v'): BackupManifest {
  return {
    id,
    source: { type: 'volume', id: volume, name: volume, snapshot: `backup-${id}` },
    kind: parent ? 'incremental' : 'full',
    parent,
    size,
    pageSize: P,
    createdAt: '2025-01-01T00:00:00.000Z',
    runs,
    pageDigests: Buffer.alloc(Math.ceil(size / P) * 32),
    imageDigest: '',
  };
}
const d = (page: number, pages = 1): BackupRun => ({ offset: page * P, length: pages * P, kind: 'data' });
const z = (page: number, pages = 1): BackupRun => ({ offset: page * P, length: pages * P, kind: 'zero' });

describe('composeChain', () => {
  it('takes every page from the newest backup that carries it, merging neighbours', () => {
    const full = backup('f', null, 8 * P, [d(0, 6), z(6, 2)]);
    const i1 = backup('i1', 'f', 8 * P, [d(2), z(3), d(6)]);
    const i2 = backup('i2', 'i1', 8 * P, [d(3), z(5)]);
    expect(composeChain([full])).toEqual([
      { offset: 0, length: 6 * P, source: 0 },
      { offset: 6 * P, length: 2 * P, source: null },
    ]);
    expect(composeChain([full, i1, i2])).toEqual([
      { offset: 0, length: 2 * P, source: 0 },
      { offset: 2 * P, length: P, source: 1 },
      { offset: 3 * P, length: P, source: 2 },
      { offset: 4 * P, length: P, source: 0 },
      { offset: 5 * P, length: P, source: null },
      { offset: 6 * P, length: P, source: 1 },
      { offset: 7 * P, length: P, source: null },
    ]);
  });

  it('follows a volume that grew: the old short last page must be carried again', () => {
    const full = backup('f', null, 2 * P + 1024, [d(0, 2), { offset: 2 * P, length: 1024, kind: 'data' }]);
    const grown = backup('i', 'f', 4 * P, [{ offset: 2 * P, length: P, kind: 'data' }, z(3)]);
    expect(composeChain([full, grown])).toEqual([
      { offset: 0, length: 2 * P, source: 0 },
      { offset: 2 * P, length: P, source: 1 },
      { offset: 3 * P, length: P, source: null },
    ]);
    const missed = backup('i', 'f', 4 * P, [z(3)]);
    expect(() => composeChain([full, missed])).toThrow(new ChainError('no backup up to i carries bytes [9216, 12288)'));
  });

  it('refuses chains that cannot make an image', () => {
    const full = backup('f', null, 4 * P, [d(0, 4)]);
    expect(() => composeChain([])).toThrow(new ChainError('no backups given'));
    expect(() => composeChain([backup('i', 'f', 4 * P, [d(0)])])).toThrow(new ChainError('it starts with incremental backup i, not a full one'));
    expect(() => composeChain([full, full])).toThrow(new ChainError('backup f is full: only the first of a chain may be full'));
    expect(() => composeChain([full, backup('i', 'x', 4 * P, [d(0)])])).toThrow(new ChainError('backup i follows x, not f'));
    expect(() => composeChain([full, backup('i', 'f', 4 * P, [d(0)], 'w')])).toThrow(new ChainError('backup i is of volume w, the chain of v'));
    expect(() => composeChain([full, backup('i', 'f', 8 * P, [d(4, 3)])])).toThrow(new ChainError('no backup up to i carries bytes [28672, 32768)'));
  });

  it('matches a page-by-page model on random chains', () => {
    const rng = new Prng(7);
    for (let round = 0; round < 200; round++) {
      let pages = rng.int(1, 40);
      const chain: BackupManifest[] = [];
      const model: Array<number | null> = [];
      // A full backup: every page data or zero.
      const fullRuns: BackupRun[] = [];
      for (let p = 0; p < pages; p++) {
        const kind = rng.next() < 0.3 ? 'zero' : 'data';
        fullRuns.push({ offset: p * P, length: P, kind });
        model[p] = kind === 'data' ? 0 : null;
      }
      chain.push(backup('b0', null, pages * P, fullRuns));
      for (let i = 1; i < rng.int(1, 6); i++) {
        const grownTo = rng.next() < 0.2 ? pages + rng.int(1, 5) : pages;
        const runs: BackupRun[] = [];
        for (let p = 0; p < grownTo; p++) {
          if (p < pages && rng.next() < 0.7) continue;
          const kind = rng.next() < 0.3 ? 'zero' : 'data';
          runs.push({ offset: p * P, length: P, kind });
          model[p] = kind === 'data' ? i : null;
        }
        pages = grownTo;
        chain.push(backup(`b${i}`, `b${i - 1}`, pages * P, runs));
      }
      const segments = composeChain(chain);
      const fromSegments: Array<number | null> = [];
      let end = 0;
      for (const s of segments) {
        expect(s.offset).toBe(end);
        end += s.length;
        for (let p = s.offset / P; p < end / P; p++) fromSegments[p] = s.source;
      }
      expect(end).toBe(pages * P);
      expect(fromSegments).toEqual(model.slice(0, pages));
    }
  });
});

describe('backupRuns and carriedDigests', () => {
  it('adds the parent\'s short last page when the volume grew, once', () => {
    expect(backupRuns([z(5)], P * 2 + 512, 6 * P, P)).toEqual([{ offset: 2 * P, length: P, kind: 'data' }, z(5)]);
    expect(backupRuns([d(1, 2)], P * 2 + 512, 6 * P, P)).toEqual([d(1, 2)]);
    expect(backupRuns([d(0)], P * 2, 6 * P, P)).toEqual([d(0)]);
    expect(backupRuns([d(0)], null, 6 * P, P)).toEqual([d(0)]);
    expect(backupRuns([], P + 512, P + 1024, P)).toEqual([{ offset: P, length: 1024, kind: 'data' }]);
  });

  it('keeps the parent\'s digests and sizes the list to the new page count', () => {
    const parent = Buffer.alloc(64, 7);
    const grown = carriedDigests(parent, 3);
    expect(grown.subarray(0, 64)).toEqual(parent);
    expect(grown.subarray(64)).toEqual(Buffer.alloc(32));
    expect(carriedDigests(null, 2)).toEqual(Buffer.alloc(64));
  });
});
