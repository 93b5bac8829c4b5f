import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidArgument, ReadOnlyVolume } from '../common/errors';
import { Prng } from '../common/prng';
import { checkAllocations } from './check-allocations';
import { createLayout } from './layout';
import { LogicalDisk, type Provisioning } from './logical-disk';
import { Pool } from './pool';
import { FakePageMapStore } from './testing/fake-page-map-store';
import { MemDevice } from './testing/mem-device';
import { snapshotOf } from './testing/snapshot-of';

const PS = 64 * 1024;

function env(pages = 64) {
  const device = new MemDevice('d', pages * PS);
  device.data.fill(0xee);
  const pool = new Pool({ id: 'p', name: 'p', pageSize: PS, layout: createLayout('concat', [{ deviceId: 'd', device, offset: 0, length: device.size }]) });
  return { pool, device, store: new FakePageMapStore() };
}

type Env = ReturnType<typeof env>;

function volume(e: Env, id: string, size: number, provisioning: Provisioning = 'thin'): LogicalDisk {
  return new LogicalDisk({ id, name: id, size, provisioning, pool: e.pool, store: e.store });
}

const snapshot = (e: Env, origin: LogicalDisk, id: string) => snapshotOf(e.pool, e.store, origin, id);

function clone(e: Env, snap: LogicalDisk, id: string): LogicalDisk {
  const map = snap.mappings();
  e.store.replace(id, map);
  return new LogicalDisk({ id, name: id, size: snap.size, provisioning: 'thin', pool: e.pool, store: e.store, map, family: snap.family });
}

async function rollback(e: Env, vol: LogicalDisk, snap: LogicalDisk): Promise<void> {
  const release = await vol.hold();
  try {
    const map = snap.mappings();
    await vol.replaceMap(map, async () => e.store.replace(vol.id, map));
  } finally {
    release();
  }
  await vol.settled();
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function clean(e: Env, disks: LogicalDisk[]) {
  expect(checkAllocations(e.pool, disks)).toEqual({ leaked: [], doubleAllocated: [] });
}

async function settle(disks: LogicalDisk[]): Promise<void> {
  await Promise.all(disks.map((d) => d.settled()));
}

/** Random writes of 1 byte to 3 pages long, up to 4 in flight (never overlapping), mirrored into `model`. */
async function randomWrites(vol: LogicalDisk, model: Buffer, rng: Prng, count: number): Promise<void> {
  let batch: Array<{ from: number; to: number; io: Promise<void> }> = [];
  for (let i = 0; i < count; i++) {
    const length = rng.int(1, 3 * PS);
    const offset = rng.int(0, vol.size - length);
    const data = rng.bytes(length);
    if (batch.length === 4 || batch.some((w) => w.from < offset + length && offset < w.to)) {
      await Promise.all(batch.map((w) => w.io));
      batch = [];
    }
    data.copy(model, offset);
    batch.push({ from: offset, to: offset + length, io: vol.write(offset, data) });
  }
  await Promise.all(batch.map((w) => w.io));
}

describe('snapshots', () => {
  it('are instant: no page is copied, and the pool is unchanged', async () => {
    const e = env();
    const vol = volume(e, 'v', 8 * PS);
    await vol.write(0, new Prng(1).bytes(8 * PS));
    const used = e.pool.usedPages;
    const writes = e.device.writes;
    const snap = await snapshot(e, vol, 's');
    expect(e.pool.usedPages).toBe(used);
    expect(e.device.writes).toBe(writes);
    expect(snap.mappings()).toEqual(vol.mappings());
    expect(snap.uniquePages).toBe(0);
    expect(vol.uniquePages).toBe(0);
    clean(e, [vol, snap]);
  });

  it('keep their contents exactly while the origin is rewritten at random', async () => {
    const e = env(128);
    const size = 20 * PS;
    const vol = volume(e, 'v', size);
    const rng = new Prng(42);
    const model = Buffer.alloc(size);
    await randomWrites(vol, model, rng, 40);
    const snaps: Array<{ disk: LogicalDisk; sum: string }> = [];
    for (let round = 0; round < 4; round++) {
      const disk = await snapshot(e, vol, `s${round}`);
      snaps.push({ disk, sum: sha(model) });
      await randomWrites(vol, model, rng, 60);
      expect((await vol.read(0, size)).equals(model)).toBe(true);
      for (const s of snaps) expect(sha(await s.disk.read(0, size))).toBe(s.sum);
    }
    await settle([vol, ...snaps.map((s) => s.disk)]);
    clean(e, [vol, ...snaps.map((s) => s.disk)]);
  });

  it('redirect a write to a shared page: the whole page moves, old bytes merged, old page kept for the snapshot', async () => {
    const e = env();
    const vol = volume(e, 'v', 4 * PS);
    const before = new Prng(2).bytes(4 * PS);
    await vol.write(0, before);
    const snap = await snapshot(e, vol, 's');
    const oldPage = vol.mappings()[1].physical;
    await vol.write(PS + 100, Buffer.from('hello'));
    await vol.settled();
    const newPage = vol.mappings()[1].physical;
    expect(newPage).not.toBe(oldPage);
    expect(snap.mappings()[1].physical).toBe(oldPage);
    expect(e.pool.refCount(oldPage)).toBe(1);
    expect(e.pool.refCount(newPage)).toBe(1);
    expect(e.store.committed.get('v')!.get(1)).toBe(newPage);
    const expected = Buffer.from(before);
    Buffer.from('hello').copy(expected, PS + 100);
    expect((await vol.read(0, 4 * PS)).equals(expected)).toBe(true);
    expect((await snap.read(0, 4 * PS)).equals(before)).toBe(true);
    // A second write to the now private page goes in place.
    await vol.write(PS + 200, Buffer.from('again'));
    expect(vol.mappings()[1].physical).toBe(newPage);
    expect(snap.uniquePages).toBe(1);
    clean(e, [vol, snap]);
  });

  it('concurrent writes to one shared page redirect it once and keep every byte', async () => {
    const e = env();
    const vol = volume(e, 'v', 2 * PS);
    await vol.write(0, Buffer.alloc(2 * PS, 7));
    const snap = await snapshot(e, vol, 's');
    e.device.jitter = () => 2;
    const used = e.pool.usedPages;
    await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map((i) => vol.write(i * 1000, Buffer.alloc(10, i + 1))));
    await vol.settled();
    expect(e.pool.usedPages).toBe(used + 1);
    const got = await vol.read(0, PS);
    for (let i = 0; i < 8; i++) expect(got.subarray(i * 1000, i * 1000 + 10).every((x) => x === i + 1)).toBe(true);
    expect((await snap.read(0, 2 * PS)).every((x) => x === 7)).toBe(true);
    clean(e, [vol, snap]);
  });

  it('are read-only', async () => {
    const e = env();
    const vol = volume(e, 'v', 2 * PS);
    const snap = await snapshot(e, vol, 's');
    await expect(snap.write(0, Buffer.alloc(1))).rejects.toThrow(ReadOnlyVolume);
    await expect(snap.discard(0, PS)).rejects.toThrow(ReadOnlyVolume);
    await expect(snap.writeZeroes(0, PS)).rejects.toThrow(ReadOnlyVolume);
  });

  it("a discard on the origin never discards or frees a page a snapshot still maps", async () => {
    const e = env();
    const vol = volume(e, 'v', 4 * PS);
    const data = new Prng(3).bytes(4 * PS);
    await vol.write(0, data);
    const snap = await snapshot(e, vol, 's');
    const used = e.pool.usedPages;
    await vol.discard(0, 4 * PS);
    await vol.writeZeroes(PS / 2, PS);
    expect(e.device.discards).toEqual([]);
    expect(e.pool.usedPages).toBe(used);
    expect((await snap.read(0, 4 * PS)).equals(data)).toBe(true);
    expect((await vol.read(0, 4 * PS)).every((x) => x === 0)).toBe(true);
    clean(e, [vol, snap]);
  });

  it('thick volumes redirect zeroing of shared pages too', async () => {
    const e = env();
    const vol = volume(e, 'v', 3 * PS, 'thick');
    await vol.provisionAll();
    const data = new Prng(4).bytes(3 * PS);
    await vol.write(0, data);
    const snap = await snapshot(e, vol, 's');
    await vol.writeZeroes(100, PS);
    await vol.settled();
    expect((await snap.read(0, 3 * PS)).equals(data)).toBe(true);
    const expected = Buffer.from(data);
    expected.fill(0, 100, 100 + PS);
    expect((await vol.read(0, 3 * PS)).equals(expected)).toBe(true);
    clean(e, [vol, snap]);
  });

  it('a failed redirect commit frees the new page and leaves both maps as they were', async () => {
    const e = env();
    const vol = volume(e, 'v', 2 * PS);
    const data = new Prng(5).bytes(2 * PS);
    await vol.write(0, data);
    const snap = await snapshot(e, vol, 's');
    const used = e.pool.usedPages;
    const before = vol.mappings();
    e.store.failNextAllocation(new Error('catalog down'));
    await expect(vol.write(10, Buffer.alloc(10, 1))).rejects.toThrow('catalog down');
    expect(e.pool.usedPages).toBe(used);
    expect(vol.mappings()).toEqual(before);
    expect((await vol.read(0, 2 * PS)).equals(data)).toBe(true);
    expect((await snap.read(0, 2 * PS)).equals(data)).toBe(true);
    clean(e, [vol, snap]);
  });

  it('a hold waits for writes in flight and makes new ones wait until released', async () => {
    const e = env();
    const vol = volume(e, 'v', 2 * PS);
    await vol.write(0, Buffer.alloc(PS, 1));
    const resume = e.store.hold();
    const inflight = vol.write(PS, Buffer.alloc(PS, 2)); // a first write: waits on its commit
    let held = false;
    const holding = vol.hold().then((release) => {
      held = true;
      return release;
    });
    await new Promise(setImmediate);
    expect(held).toBe(false);
    resume();
    await inflight;
    const release = await holding;
    let later = false;
    const next = vol.write(0, Buffer.alloc(1, 3)).then(() => (later = true));
    const zeroing = vol.writeZeroes(PS, PS);
    for (let i = 0; i < 10; i++) await new Promise(setImmediate);
    expect(later).toBe(false);
    expect(vol.mappings().length).toBe(2);
    release();
    await Promise.all([next, zeroing]);
    expect(later).toBe(true);
    expect(vol.mappings().length).toBe(1);
  });

  it('survive a reload: refcounts are rebuilt from the committed maps', async () => {
    const e = env();
    const vol = volume(e, 'v', 6 * PS);
    await vol.write(0, new Prng(6).bytes(6 * PS));
    const snap = await snapshot(e, vol, 's');
    await vol.write(2 * PS, Buffer.alloc(2 * PS, 9));
    await vol.settled();
    const sums = [sha(await vol.read(0, 6 * PS)), sha(await snap.read(0, 6 * PS))];

    const pool2 = new Pool({ id: 'p', name: 'p', pageSize: PS, layout: e.pool.layout });
    const reopen = (id: string, readOnly: boolean) =>
      new LogicalDisk({ id, name: id, size: 6 * PS, provisioning: 'thin', pool: pool2, store: e.store, map: e.store.entries(id), family: 'v', readOnly });
    const vol2 = reopen('v', false);
    const snap2 = reopen('s', true);
    expect(pool2.usedPages).toBe(e.pool.usedPages);
    expect(checkAllocations(pool2, [vol2, snap2])).toEqual({ leaked: [], doubleAllocated: [] });
    expect([sha(await vol2.read(0, 6 * PS)), sha(await snap2.read(0, 6 * PS))]).toEqual(sums);
    // Still shared after the reload: a write to page 0 redirects.
    const page0 = vol2.mappings()[0].physical;
    await vol2.write(0, Buffer.alloc(1, 1));
    expect(vol2.mappings()[0].physical).not.toBe(page0);
    expect(sha(await snap2.read(0, 6 * PS))).toBe(sums[1]);
  });
});

describe('clones', () => {
  it('start as the snapshot and are writable without touching it or the origin', async () => {
    const e = env();
    const vol = volume(e, 'v', 4 * PS);
    const data = new Prng(7).bytes(4 * PS);
    await vol.write(0, data);
    const snap = await snapshot(e, vol, 's');
    await vol.write(0, Buffer.alloc(4 * PS, 1));
    const c = clone(e, snap, 'c');
    expect((await c.read(0, 4 * PS)).equals(data)).toBe(true);
    await c.write(PS + 5, Buffer.alloc(PS, 2));
    await c.settled();
    const expected = Buffer.from(data);
    expected.fill(2, PS + 5, 2 * PS + 5);
    expect((await c.read(0, 4 * PS)).equals(expected)).toBe(true);
    expect((await snap.read(0, 4 * PS)).equals(data)).toBe(true);
    expect((await vol.read(0, 4 * PS)).every((x) => x === 1)).toBe(true);
    clean(e, [vol, snap, c]);
  });
});

describe('rollback', () => {
  it('makes the volume read as the snapshot and frees pages only the volume had', async () => {
    const e = env();
    const vol = volume(e, 'v', 4 * PS);
    const data = new Prng(8).bytes(4 * PS);
    await vol.write(0, data);
    const snap = await snapshot(e, vol, 's');
    const used = e.pool.usedPages;
    await vol.write(0, new Prng(9).bytes(3 * PS));
    await vol.settled();
    expect(e.pool.usedPages).toBe(used + 3);
    await rollback(e, vol, snap);
    expect((await vol.read(0, 4 * PS)).equals(data)).toBe(true);
    expect(e.pool.usedPages).toBe(used);
    expect(e.store.entries('v')).toEqual(snap.mappings());
    // Writable afterwards, and the snapshot still holds.
    await vol.write(0, Buffer.alloc(10, 5));
    expect((await snap.read(0, 4 * PS)).equals(data)).toBe(true);
    clean(e, [vol, snap]);
  });

  it('of a grown volume keeps its size; the part past the snapshot reads as zeros', async () => {
    const e = env();
    const vol = volume(e, 'v', 2 * PS);
    const data = new Prng(10).bytes(2 * PS);
    await vol.write(0, data);
    const snap = await snapshot(e, vol, 's');
    await vol.grow(4 * PS);
    await vol.write(2 * PS, Buffer.alloc(2 * PS, 3));
    await rollback(e, vol, snap);
    expect(vol.size).toBe(4 * PS);
    const got = await vol.read(0, 4 * PS);
    expect(got.subarray(0, 2 * PS).equals(data)).toBe(true);
    expect(got.subarray(2 * PS).every((x) => x === 0)).toBe(true);
    clean(e, [vol, snap]);
  });

  it('a failed commit changes nothing', async () => {
    const e = env();
    const vol = volume(e, 'v', 2 * PS);
    await vol.write(0, Buffer.alloc(2 * PS, 1));
    const snap = await snapshot(e, vol, 's');
    await vol.write(0, Buffer.alloc(2 * PS, 2));
    await vol.settled();
    const used = e.pool.usedPages;
    const release = await vol.hold();
    await expect(vol.replaceMap(snap.mappings(), () => Promise.reject(new Error('disk full')))).rejects.toThrow('disk full');
    release();
    expect(e.pool.usedPages).toBe(used);
    expect((await vol.read(0, 2 * PS)).every((x) => x === 2)).toBe(true);
    clean(e, [vol, snap]);
  });

  it('needs the disk held and a map of pages in use', async () => {
    const e = env();
    const vol = volume(e, 'v', 2 * PS);
    await expect(vol.replaceMap([], async () => {})).rejects.toThrow('held');
    const release = await vol.hold();
    await expect(vol.replaceMap([{ logical: 0, physical: 5 }], async () => {})).rejects.toThrow(InvalidArgument);
    release();
  });
});

describe('deletion', () => {
  /** Every order of deleting a volume, two snapshots of it and a clone of the first frees exactly what was allocated. */
  const orders = [
    ['v', 's1', 's2', 'c'],
    ['s1', 's2', 'c', 'v'],
    ['s2', 'v', 'c', 's1'],
    ['c', 's1', 'v', 's2'],
    ['s1', 'c', 's2', 'v'],
  ];
  for (const order of orders) {
    it(`in the order ${order.join(', ')} frees exactly the pages nobody uses`, async () => {
      const e = env(128);
      const start = e.pool.freePages;
      const rng = new Prng(order.join('').length + order[0].charCodeAt(0));
      const size = 8 * PS;
      const model = Buffer.alloc(size);
      const disks = new Map<string, LogicalDisk>();
      const v = volume(e, 'v', size);
      disks.set('v', v);
      await randomWrites(v, model, rng, 10);
      const s1 = await snapshot(e, v, 's1');
      const s1sum = sha(model);
      disks.set('s1', s1);
      await randomWrites(v, model, rng, 10);
      disks.set('s2', await snapshot(e, v, 's2'));
      const s2sum = sha(model);
      const c = clone(e, s1, 'c');
      disks.set('c', c);
      await randomWrites(c, Buffer.alloc(size), rng, 10);
      await randomWrites(v, model, rng, 10);
      const vsum = sha(model);
      await settle([...disks.values()]);
      clean(e, [...disks.values()]);
      for (const id of order) {
        const d = disks.get(id)!;
        const unique = d.uniquePages;
        const free = e.pool.freePages;
        await d.releaseAll();
        disks.delete(id);
        expect(e.pool.freePages - free).toBe(unique);
        clean(e, [...disks.values()]);
        if (disks.has('s1')) expect(sha(await disks.get('s1')!.read(0, size))).toBe(s1sum);
        if (disks.has('s2')) expect(sha(await disks.get('s2')!.read(0, size))).toBe(s2sum);
        if (disks.has('v')) expect(sha(await disks.get('v')!.read(0, size))).toBe(vsum);
      }
      expect(e.pool.freePages).toBe(start);
    });
  }
});

describe('checkAllocations with sharing', () => {
  it('accepts sharing within a family and flags it between unrelated volumes', () => {
    const e = env(16);
    const a = new LogicalDisk({ id: 'a', name: 'a', size: 2 * PS, provisioning: 'thin', pool: e.pool, store: e.store, map: [{ logical: 0, physical: 3 }] });
    const snap = new LogicalDisk({ id: 's', name: 's', size: 2 * PS, provisioning: 'thin', pool: e.pool, store: e.store, map: [{ logical: 0, physical: 3 }], family: 'a', readOnly: true });
    expect(checkAllocations(e.pool, [a, snap])).toEqual({ leaked: [], doubleAllocated: [] });
    const b = new LogicalDisk({ id: 'b', name: 'b', size: 2 * PS, provisioning: 'thin', pool: e.pool, store: e.store, map: [{ logical: 1, physical: 3 }] });
    expect(checkAllocations(e.pool, [a, snap, b])).toEqual({ leaked: [], doubleAllocated: [3] });
  });

  it('flags a reference count that disagrees with the maps', () => {
    const e = env(16);
    const a = new LogicalDisk({ id: 'a', name: 'a', size: 2 * PS, provisioning: 'thin', pool: e.pool, store: e.store, map: [{ logical: 0, physical: 3 }, { logical: 1, physical: 4 }] });
    e.pool.share([3]); // counted twice, mapped once: never freed
    e.pool.share([4]);
    const s = new LogicalDisk({ id: 's', name: 's', size: 2 * PS, provisioning: 'thin', pool: e.pool, store: e.store, map: [{ logical: 1, physical: 4 }], family: 'a' });
    e.pool.unshare([4, 4]); // counted once, mapped twice: freed while mapped
    expect(checkAllocations(e.pool, [a, s])).toEqual({ leaked: [3], doubleAllocated: [4] });
  });
});
