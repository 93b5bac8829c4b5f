import { describe, expect, it } from 'vitest';
import { DeviceIOError, InvalidArgument, NoSpace, OutOfRange } from '../common/errors';
import { createLayout, type Extent } from './layout';
import { LogicalDisk, type Provisioning } from './logical-disk';
import { Pool } from './pool';
import { FakePageMapStore } from './testing/fake-page-map-store';
import { MemDevice } from './testing/mem-device';
import { Prng } from '../common/prng';

const PS = 64 * 1024;

function pattern(length: number, seed: number): Buffer {
  return new Prng(seed).bytes(length);
}

/** A concat pool over whole devices of the given sizes in pages, devices pre-filled with a sentinel. */
function concatPool(pagesPerDevice: number[]) {
  const devices = pagesPerDevice.map((pages, i) => {
    const d = new MemDevice(`dev${i}`, pages * PS);
    d.data.fill(0xee);
    return d;
  });
  const extents: Extent[] = devices.map((device) => ({ deviceId: device.label, device, offset: 0, length: device.size }));
  const pool = new Pool({ id: 'p1', name: 'pool1', pageSize: PS, layout: createLayout('concat', extents) });
  return { pool, devices, store: new FakePageMapStore() };
}

function disk(
  env: { pool: Pool; store: FakePageMapStore },
  size: number,
  provisioning: Provisioning = 'thin',
  id = 'v1',
): LogicalDisk {
  return new LogicalDisk({ id, name: id, size, provisioning, pool: env.pool, store: env.store });
}

async function turns(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise(setImmediate);
}

function isZero(buf: Buffer): boolean {
  return buf.every((x) => x === 0);
}

describe('patent examples', () => {
  it('three 20-unit devices concatenated make one 60-unit volume', async () => {
    const env = concatPool([20, 20, 20]);
    const vol = disk(env, 60 * PS, 'thick');
    await vol.provisionAll();
    const data = pattern(60 * PS, 1);
    await vol.write(0, data);
    expect((await vol.read(0, 60 * PS)).equals(data)).toBe(true);
    env.devices.forEach((d, i) => {
      expect(d.data.equals(data.subarray(i * 20 * PS, (i + 1) * 20 * PS))).toBe(true);
    });
  });

  it("one 80-unit device's single extent pool makes two 40-unit thick volumes that don't overlap", async () => {
    const env = concatPool([80]);
    const a = disk(env, 40 * PS, 'thick', 'a');
    const b = disk(env, 40 * PS, 'thick', 'b');
    await a.provisionAll();
    await b.provisionAll();
    expect(env.pool.freePages).toBe(0);
    const pagesA = a.mappings().map((m) => m.physical);
    const pagesB = b.mappings().map((m) => m.physical);
    expect(new Set([...pagesA, ...pagesB]).size).toBe(80);

    const dataA = pattern(40 * PS, 2);
    const dataB = pattern(40 * PS, 3);
    await Promise.all([a.write(0, dataA), b.write(0, dataB)]);
    expect((await a.read(0, 40 * PS)).equals(dataA)).toBe(true);
    expect((await b.read(0, 40 * PS)).equals(dataB)).toBe(true);
    const device = env.devices[0].data;
    for (const [vol, data] of [[a, dataA], [b, dataB]] as const) {
      for (const { logical, physical } of vol.mappings()) {
        expect(device.subarray(physical * PS, (physical + 1) * PS).equals(data.subarray(logical * PS, (logical + 1) * PS))).toBe(true);
      }
    }
  });

  it('one volume spans two devices whose extents start at different offsets', async () => {
    const devA = new MemDevice('A', 10 * PS);
    const devB = new MemDevice('B', 16 * PS);
    devA.data.fill(0xee);
    devB.data.fill(0xee);
    const layout = createLayout('concat', [
      { deviceId: 'A', device: devA, offset: 3 * PS, length: 5 * PS },
      { deviceId: 'B', device: devB, offset: 7 * PS, length: 6 * PS },
    ]);
    const store = new FakePageMapStore();
    const pool = new Pool({ id: 'p', name: 'p', pageSize: PS, layout });
    const vol = disk({ pool, store }, 11 * PS);
    const ref = Buffer.alloc(11 * PS);

    // Every page boundary, including the extent/device boundary at page 5, from both sides.
    let seed = 10;
    for (let k = 1; k < 11; k++) {
      const data = pattern(3001, seed++);
      await vol.write(k * PS - 1500, data);
      data.copy(ref, k * PS - 1500);
    }
    const wide = pattern(10 * PS + 333, seed++);
    await vol.write(PS / 2 - 7, wide);
    wide.copy(ref, PS / 2 - 7);
    expect((await vol.read(0, 11 * PS)).equals(ref)).toBe(true);
    for (let k = 1; k < 11; k++) {
      expect((await vol.read(k * PS - 777, 1555)).equals(ref.subarray(k * PS - 777, k * PS + 778))).toBe(true);
    }
    expect((await vol.read(3, 11 * PS - 5)).equals(ref.subarray(3, 11 * PS - 2))).toBe(true);

    // Pool pages 0-4 live on A from 3 pages in, 5-10 on B from 7 pages in; nothing else is touched.
    for (const { logical, physical } of vol.mappings()) {
      const [dev, at] = physical < 5 ? [devA, (3 + physical) * PS] : [devB, (7 + physical - 5) * PS];
      expect(dev.data.subarray(at, at + PS).equals(ref.subarray(logical * PS, (logical + 1) * PS))).toBe(true);
    }
    expect(devA.data.subarray(0, 3 * PS).every((x) => x === 0xee)).toBe(true);
    expect(devA.data.subarray(8 * PS).every((x) => x === 0xee)).toBe(true);
    expect(devB.data.subarray(0, 7 * PS).every((x) => x === 0xee)).toBe(true);
    expect(devB.data.subarray(13 * PS).every((x) => x === 0xee)).toBe(true);
  });
});

describe('thin volumes', () => {
  it('read zeros where never written, without allocating', async () => {
    const env = concatPool([8]);
    const vol = disk(env, 8 * PS);
    expect(isZero(await vol.read(0, 8 * PS))).toBe(true);
    expect([vol.allocatedPages, env.pool.usedPages, env.store.allocationCommits]).toEqual([0, 0, 0]);
  });

  it('allocate exactly the pages a write touches, in one commit, reading back exactly', async () => {
    const env = concatPool([8]);
    const vol = disk(env, 8 * PS);
    const data = pattern(PS + 20, 4);
    await vol.write(PS - 10, data);
    expect(vol.allocatedPages).toBe(3);
    expect(env.store.allocationCommits).toBe(1);
    expect(env.store.entries('v1').map((e) => e.logical).sort()).toEqual([0, 1, 2]);
    await vol.write(5 * PS + 7, Buffer.from('x'));
    expect(vol.allocatedPages).toBe(4);
    expect(env.pool.usedPages).toBe(4);
    const back = await vol.read(0, 8 * PS);
    expect(back.subarray(PS - 10, 2 * PS + 10).equals(data)).toBe(true);
    expect(isZero(back.subarray(0, PS - 10))).toBe(true);
    expect(back[5 * PS + 7]).toBe('x'.charCodeAt(0));
    expect(isZero(back.subarray(2 * PS + 10, 5 * PS + 7))).toBe(true);
    // Rewriting mapped pages allocates nothing new.
    await vol.write(0, pattern(3 * PS, 5));
    expect([vol.allocatedPages, env.store.allocationCommits]).toEqual([4, 2]);
  });

  it('discard returns whole pages to the pool and zeroes partial edges', async () => {
    const env = concatPool([8]);
    const vol = disk(env, 8 * PS);
    const data = pattern(4 * PS, 6);
    await vol.write(0, data);
    await vol.discard(PS / 2, 3 * PS);
    expect(vol.allocatedPages).toBe(2);
    expect(env.pool.usedPages).toBe(2);
    expect(env.store.entries('v1').map((e) => e.logical).sort()).toEqual([0, 3]);
    const back = await vol.read(0, 4 * PS);
    expect(back.subarray(0, PS / 2).equals(data.subarray(0, PS / 2))).toBe(true);
    expect(isZero(back.subarray(PS / 2, 3 * PS + PS / 2))).toBe(true);
    expect(back.subarray(3 * PS + PS / 2).equals(data.subarray(3 * PS + PS / 2))).toBe(true);
    // The freed pool pages were discarded on the device.
    expect(env.devices[0].discards).toEqual([[PS, 2 * PS]]);
  });

  it('discard of unmapped pages commits nothing; a range reaching the end frees the partial last page', async () => {
    const env = concatPool([8]);
    const vol = disk(env, 2 * PS + PS / 2);
    await vol.discard(0, 2 * PS);
    expect(env.store.releaseCommits).toBe(0);
    await vol.write(2 * PS + 100, Buffer.from('tail'));
    expect(vol.allocatedPages).toBe(1);
    await vol.discard(2 * PS, PS / 2);
    expect([vol.allocatedPages, env.pool.usedPages]).toEqual([0, 0]);
  });

  it('writeZeroes releases whole pages and zeroes edges', async () => {
    const env = concatPool([8]);
    const vol = disk(env, 8 * PS);
    await vol.write(0, pattern(3 * PS, 7));
    const flushes = env.devices[0].flushes;
    await vol.writeZeroes(100, 2 * PS, { fua: true });
    expect(vol.allocatedPages).toBe(2);
    expect(isZero((await vol.read(100, 2 * PS)))).toBe(true);
    expect(env.devices[0].flushes).toBe(flushes + 1);
  });

  it('never reads back stale bytes of a freed page after reallocation with a partial write', async () => {
    const env = concatPool([4]);
    const a = disk(env, 4 * PS, 'thin', 'a');
    const b = disk(env, 4 * PS, 'thin', 'b');
    await a.write(0, Buffer.alloc(PS, 0xaa));
    const [{ physical }] = a.mappings();
    // A device that ignores discards keeps the old bytes on the freed page.
    env.devices[0].dropDiscards = true;
    await a.discard(0, PS);
    expect(env.devices[0].data.subarray(physical * PS, physical * PS + 4).toString('hex')).toBe('aaaaaaaa');

    await b.write(100, Buffer.from('0123456789'));
    expect(b.mappings()).toEqual([{ logical: 0, physical }]);
    const page = await b.read(0, PS);
    expect(page.subarray(100, 110).toString()).toBe('0123456789');
    expect(isZero(page.subarray(0, 100))).toBe(true);
    expect(isZero(page.subarray(110))).toBe(true);
    expect(isZero(await a.read(0, PS))).toBe(true);
  });

  it('concurrent first writes to one page allocate it once, and reads see zeros until committed', async () => {
    const env = concatPool([4]);
    env.devices[0].jitter = () => 3;
    const vol = disk(env, 4 * PS);
    const resume = env.store.hold();
    const first = vol.write(10, Buffer.from('first'));
    const second = vol.write(PS - 6, Buffer.from('second'));
    await turns();
    expect(env.devices[0].data.subarray(10, 15).toString()).toBe('first');
    expect(isZero(await vol.read(0, PS))).toBe(true);
    expect(vol.allocatedPages).toBe(0);
    resume();
    await Promise.all([first, second]);
    expect([env.store.allocationCommits, env.pool.usedPages, vol.allocatedPages]).toEqual([1, 1, 1]);
    const page = await vol.read(0, PS);
    expect(page.subarray(10, 15).toString()).toBe('first');
    expect(page.subarray(PS - 6).toString()).toBe('second');
  });

  it('a failed commit releases the page and rejects', async () => {
    const env = concatPool([4]);
    const vol = disk(env, 4 * PS);
    const boom = new Error('catalog down');
    env.store.failNextAllocation(boom);
    await expect(vol.write(0, Buffer.from('lost'))).rejects.toBe(boom);
    expect([env.pool.usedPages, vol.allocatedPages]).toEqual([0, 0]);
    expect(isZero(await vol.read(0, PS))).toBe(true);
    await vol.write(0, Buffer.from('kept'));
    expect((await vol.read(0, 4)).toString()).toBe('kept');
    expect(vol.mappings()).toEqual([{ logical: 0, physical: 0 }]);
  });

  it('a failed data write releases the pages and rejects', async () => {
    const env = concatPool([4]);
    const vol = disk(env, 4 * PS);
    env.devices[0].failWrites = true;
    await expect(vol.write(0, Buffer.alloc(2 * PS))).rejects.toBeInstanceOf(DeviceIOError);
    expect([env.pool.usedPages, vol.allocatedPages, env.store.allocationCommits]).toEqual([0, 0, 0]);
  });

  it('a failed release commit keeps the pages mapped', async () => {
    const env = concatPool([4]);
    const vol = disk(env, 4 * PS);
    const data = pattern(PS, 8);
    await vol.write(0, data);
    env.store.failNextRelease(new Error('catalog down'));
    await expect(vol.discard(0, PS)).rejects.toThrow('catalog down');
    expect(vol.allocatedPages).toBe(1);
    expect((await vol.read(0, PS)).equals(data)).toBe(true);
  });

  it('NoSpace carries free and asked bytes, and nothing is allocated', async () => {
    const env = concatPool([4]);
    const vol = disk(env, 8 * PS);
    const err = await vol.write(PS / 2, Buffer.alloc(4 * PS)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoSpace);
    expect(err).toMatchObject({ freeBytes: 4 * PS, askedBytes: 5 * PS });
    expect([env.pool.usedPages, vol.allocatedPages]).toEqual([0, 0]);
  });

  it('concurrent discards of one page release it once', async () => {
    const env = concatPool([4]);
    const vol = disk(env, 4 * PS);
    await vol.write(0, Buffer.alloc(2 * PS, 1));
    await Promise.all([vol.discard(0, 2 * PS), vol.discard(0, PS), vol.writeZeroes(PS, PS)]);
    expect([env.pool.usedPages, vol.allocatedPages, env.store.releaseCommits]).toEqual([0, 0, 1]);
  });

  it('hands a page back only after reads still addressing it have finished', async () => {
    const env = concatPool([4]);
    const vol = disk(env, 4 * PS);
    const data = pattern(PS, 9);
    await vol.write(0, data);
    const resume = env.devices[0].pause('read');
    const read = vol.read(0, PS);
    let discarded = false;
    const discard = vol.discard(0, PS).then(() => (discarded = true));
    await turns();
    expect(env.pool.usedPages).toBe(1);
    expect(discarded).toBe(false);
    resume();
    expect((await read).equals(data)).toBe(true);
    await discard;
    expect(env.pool.usedPages).toBe(0);
  });

  it('discards a freed page before anyone can reallocate it', async () => {
    const env = concatPool([2]);
    const a = disk(env, 2 * PS, 'thin', 'a');
    const b = disk(env, 2 * PS, 'thin', 'b');
    await a.write(0, Buffer.alloc(PS, 1));
    const resume = env.devices[0].pause('discard');
    const discard = a.discard(0, PS);
    await turns();
    // Page 0 is still being discarded, so b's first write must get page 1.
    const data = pattern(PS, 15);
    await b.write(0, data);
    resume();
    await discard;
    expect(b.mappings()).toEqual([{ logical: 0, physical: 1 }]);
    expect((await b.read(0, PS)).equals(data)).toBe(true);
  });
});

describe('all volumes', () => {
  it('validate ranges against the volume size', async () => {
    const env = concatPool([4]);
    const vol = disk(env, 2 * PS + 100);
    await expect(vol.read(2 * PS, 101)).rejects.toBeInstanceOf(OutOfRange);
    await expect(vol.write(2 * PS + 99, Buffer.alloc(2))).rejects.toThrow(/volume 'v1'/);
    await expect(vol.readInto(-1, Buffer.alloc(1))).rejects.toBeInstanceOf(OutOfRange);
    await expect(vol.discard(0, 3 * PS)).rejects.toBeInstanceOf(OutOfRange);
    await expect(vol.writeZeroes(1.5, 1)).rejects.toBeInstanceOf(OutOfRange);
    expect((await vol.read(2 * PS + 100, 0)).length).toBe(0);
    expect(env.pool.usedPages).toBe(0);
  });

  it('handle a partial last page without touching past the end', async () => {
    const env = concatPool([4]);
    const vol = disk(env, 2 * PS + 100);
    await vol.write(2 * PS + 90, Buffer.from('0123456789'));
    const into = Buffer.alloc(20);
    await vol.readInto(2 * PS + 80, into);
    expect(into.subarray(10).toString()).toBe('0123456789');
    expect(isZero(into.subarray(0, 10))).toBe(true);
  });

  it('write with fua flushes the pool devices', async () => {
    const env = concatPool([2, 2]);
    const vol = disk(env, 4 * PS);
    await vol.write(0, Buffer.alloc(10));
    expect(env.devices.map((d) => d.flushes)).toEqual([0, 0]);
    await vol.write(0, Buffer.alloc(10), { fua: true });
    expect(env.devices.map((d) => d.flushes)).toEqual([1, 1]);
    await vol.flush();
    expect(env.devices.map((d) => d.flushes)).toEqual([2, 2]);
  });

  it('reload from the committed map with data intact', async () => {
    const env = concatPool([8]);
    const vol = disk(env, 8 * PS);
    const data = pattern(3 * PS, 11);
    await vol.write(PS, data);
    await vol.discard(2 * PS, PS);
    data.fill(0, PS, 2 * PS);

    const pool = new Pool({ id: 'p1', name: 'pool1', pageSize: PS, layout: env.pool.layout });
    const reborn = new LogicalDisk({
      id: 'v1',
      name: 'v1',
      size: 8 * PS,
      provisioning: 'thin',
      pool,
      store: env.store,
      map: env.store.entries('v1'),
    });
    expect(reborn.mappings()).toEqual(vol.mappings());
    expect(pool.usedPages).toBe(2);
    expect((await reborn.read(PS, 3 * PS)).equals(data)).toBe(true);
    await reborn.write(6 * PS, Buffer.from('new'));
    expect(new Set(reborn.mappings().map((m) => m.physical)).size).toBe(3);
  });

  it('reject a bad map without touching the allocator', () => {
    const env = concatPool([4]);
    const make = (map: Array<{ logical: number; physical: number }>) =>
      new LogicalDisk({ id: 'v', name: 'v', size: 2 * PS, provisioning: 'thin', pool: env.pool, store: env.store, map });
    expect(() => make([{ logical: 0, physical: 0 }, { logical: 2, physical: 1 }])).toThrow(InvalidArgument);
    expect(() => make([{ logical: 0, physical: 0 }, { logical: 1, physical: 4 }])).toThrow(InvalidArgument);
    expect(() => make([{ logical: 0, physical: 0 }, { logical: 0, physical: 1 }])).toThrow(/mapped twice/);
    expect(env.pool.usedPages).toBe(0);
    expect(() => new LogicalDisk({ id: 'v', name: 'v', size: 0, provisioning: 'thin', pool: env.pool, store: env.store })).toThrow(
      InvalidArgument,
    );
  });
});

describe('thick volumes', () => {
  it('allocate and zero every page at creation', async () => {
    const env = concatPool([8]);
    const vol = disk(env, 5 * PS + 10, 'thick');
    await vol.provisionAll();
    expect([vol.allocatedPages, env.pool.usedPages, env.store.allocationCommits]).toEqual([6, 6, 1]);
    expect(isZero(env.devices[0].data.subarray(0, 6 * PS))).toBe(true);
    expect(isZero(await vol.read(0, vol.size))).toBe(true);
    await vol.provisionAll();
    expect(env.store.allocationCommits).toBe(1);
  });

  it('provision in batches', async () => {
    const env = concatPool([600]);
    const vol = disk(env, 600 * PS, 'thick');
    await vol.provisionAll();
    expect(vol.allocatedPages).toBe(600);
    expect(env.store.allocationCommits).toBe(3);
  });

  it('fail provisioning up front when the pool is short', async () => {
    const env = concatPool([4]);
    const vol = disk(env, 5 * PS, 'thick');
    await expect(vol.provisionAll()).rejects.toMatchObject({ freeBytes: 4 * PS, askedBytes: 5 * PS });
    expect(env.pool.usedPages).toBe(0);
  });

  it('discard and writeZeroes zero the range but keep the pages', async () => {
    const env = concatPool([8]);
    const vol = disk(env, 4 * PS, 'thick');
    await vol.provisionAll();
    const data = pattern(4 * PS, 12);
    await vol.write(0, data);
    await vol.discard(PS / 2, 2 * PS);
    await vol.writeZeroes(3 * PS, 100);
    data.fill(0, PS / 2, PS / 2 + 2 * PS);
    data.fill(0, 3 * PS, 3 * PS + 100);
    expect(vol.allocatedPages).toBe(4);
    expect(env.store.releaseCommits).toBe(0);
    expect((await vol.read(0, 4 * PS)).equals(data)).toBe(true);
  });
});

describe('grow', () => {
  it('grows a thin volume online with data intact and zeros past the old end', async () => {
    const env = concatPool([8]);
    const vol = disk(env, PS + PS / 2);
    // Stale bytes on the pool page past the old end must not show after growing.
    env.devices[0].data.fill(0x5a);
    const data = pattern(PS + PS / 2, 13);
    await vol.write(0, data);
    const during = vol.write(10, data.subarray(10, 5000));
    await vol.grow(4 * PS);
    await during;
    expect(vol.size).toBe(4 * PS);
    expect((await vol.read(0, PS + PS / 2)).equals(data)).toBe(true);
    expect(isZero(await vol.read(PS + PS / 2, 4 * PS - (PS + PS / 2)))).toBe(true);
    await vol.write(3 * PS, Buffer.from('grown'));
    expect((await vol.read(3 * PS, 5)).toString()).toBe('grown');
    expect(vol.allocatedPages).toBe(3);
  });

  it('grows a thick volume by allocating the new pages', async () => {
    const env = concatPool([8]);
    const vol = disk(env, 2 * PS, 'thick');
    await vol.provisionAll();
    const data = pattern(2 * PS, 14);
    await vol.write(0, data);
    await vol.grow(5 * PS);
    expect([vol.allocatedPages, env.pool.usedPages]).toEqual([5, 5]);
    expect((await vol.read(0, 2 * PS)).equals(data)).toBe(true);
    expect(isZero(await vol.read(2 * PS, 3 * PS))).toBe(true);
  });

  it('refuses to shrink, and a thick grow the pool cannot hold changes nothing', async () => {
    const env = concatPool([4]);
    const vol = disk(env, 2 * PS, 'thick');
    await vol.provisionAll();
    await expect(vol.grow(PS)).rejects.toBeInstanceOf(InvalidArgument);
    await expect(vol.grow(7 * PS)).rejects.toBeInstanceOf(NoSpace);
    expect([vol.size, vol.allocatedPages]).toEqual([2 * PS, 2]);
  });
});

describe('releaseAll', () => {
  it('frees every page of thin and thick volumes', async () => {
    const env = concatPool([700]);
    const thin = disk(env, 8 * PS, 'thin', 'thin');
    const thick = disk(env, 600 * PS, 'thick', 'thick');
    await thick.provisionAll();
    await thin.write(PS, Buffer.alloc(3 * PS, 1));
    await Promise.all([thin.releaseAll(), thick.releaseAll()]);
    expect([thin.allocatedPages, thick.allocatedPages, env.pool.usedPages]).toEqual([0, 0, 0]);
    expect(env.store.entries('thin')).toEqual([]);
    expect(env.store.entries('thick')).toEqual([]);
    expect(env.devices[0].discards.length).toBeGreaterThan(0);
  });
});
