import { afterEach, describe, expect, it } from 'vitest';
import { BlockAllocator } from './block-allocator';
import type { BlockStore } from './fs-types';
import { CrashStore } from './testing/crash-store';
import { pattern } from './testing/fs-expect';
import { makeFs, ROOT, type Fixture } from './testing/fs-fixture';

describe('BlockAllocator: aligned runs for large writes', () => {
  it('starts a run at the asked phase of the alignment, leaving the blocks before it free', () => {
    const a = new BlockAllocator(1024);
    a.markUsed(0, 10);
    expect(a.allocate(64, -1, 64, { every: 64, phase: 0 })).toEqual([{ start: 64, count: 64 }]);
    expect(a.isUsed(10)).toBe(false);
    expect(a.allocate(64, -1, 64, { every: 64, phase: 5 })).toEqual([{ start: 133, count: 64 }]);
  });

  it('keeps the phase of each further run in step with the blocks already given', () => {
    const a = new BlockAllocator(1024);
    // Free: [0, 96) and [160, 1024); an aligned run of 64 fits at 0, the rest must start at 64 + 64k.
    a.markUsed(96, 64);
    const runs = a.allocate(160, -1, 64, { every: 64, phase: 0 });
    expect(runs[0]).toEqual({ start: 0, count: 96 });
    // 96 blocks given: the next run's first block is phase 96 % 64 = 32.
    expect(runs[1].start % 64).toBe(32);
    expect(runs.reduce((n, r) => n + r.count, 0)).toBe(160);
  });

  it('falls back to unaligned runs, then to any free blocks, when no aligned run is free', () => {
    const a = new BlockAllocator(256);
    for (let b = 0; b < 256; b += 64) a.markUsed(b, 8); // every aligned start taken
    const runs = a.allocate(100, -1, 32, { every: 64, phase: 0 });
    expect(runs.reduce((n, r) => n + r.count, 0)).toBe(100);
    for (const r of runs) for (let b = r.start; b < r.start + r.count; b++) expect(b % 64).toBeGreaterThanOrEqual(8);
  });
});

const fixtures: Fixture[] = [];
afterEach(async () => {
  for (const fx of fixtures.splice(0)) await fx.cleanup();
});

describe('large writes land on whole store pages', () => {
  it('puts a page-aligned write of a new file on page-aligned blocks, even when the free space does not start on a page', async () => {
    const inner = new CrashStore(16 * 1024 * 1024, 64 * 1024);
    const writes: Array<[number, number]> = [];
    const store: BlockStore = {
      size: inner.size,
      pageSize: inner.pageSize,
      readInto: (o, t) => inner.readInto(o, t),
      write: (o, d, opts) => {
        writes.push([o, d.length]);
        return inner.write(o, d, opts);
      },
      flush: () => inner.flush(),
      discard: (o, n) => inner.discard(o, n),
    };
    const fx = await makeFs({ store });
    fixtures.push(fx);
    const small = (await fx.fs.create(ROOT, fx.fs.root, 'small', { mode: 'guarded', attrs: { mode: 0o644 } })).node;
    await fx.fs.write(ROOT, small, 0, Buffer.from('x'), 'unstable');
    const big = (await fx.fs.create(ROOT, fx.fs.root, 'big', { mode: 'guarded', attrs: { mode: 0o644 } })).node;
    writes.length = 0;
    const data = pattern(4 * 64 * 1024, 9);
    await fx.fs.write(ROOT, big, 0, data, 'file_sync');
    expect(writes.length).toBeGreaterThan(0);
    for (const [offset, length] of writes) {
      expect(offset % (64 * 1024)).toBe(0);
      expect(length % (64 * 1024)).toBe(0);
    }
    expect((await fx.fs.read(ROOT, big, 0, data.length)).data.equals(data)).toBe(true);
  });
});
