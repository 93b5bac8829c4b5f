import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Prng } from '../common/prng';
import { createLayout } from './layout';
import { LogicalDisk } from './logical-disk';
import { resyncMirror, ResyncStopped } from './mirror-resync';
import { MirroredDisk } from './mirrored-disk';
import { Pool } from './pool';
import { FakeMirrorStore } from './testing/fake-mirror-store';
import { FakePageMapStore } from './testing/fake-page-map-store';
import { MemDevice } from './testing/mem-device';

const PS = 64 * 1024;
const SIZE = 32 * PS;

function side(name: string, pageSize = PS) {
  const device = new MemDevice(name, 64 * PS);
  const pool = new Pool({ id: name, name, pageSize, layout: createLayout('concat', [{ deviceId: name, device, offset: 0, length: device.size }]) });
  return { device, pool };
}

function mirrored(opts: { secondaryPageSize?: number; intentLingerMs?: number; clock?: () => number } = {}) {
  const pages = new FakePageMapStore();
  const a = side('a');
  const b = side('b', opts.secondaryPageSize);
  const origin = new LogicalDisk({ id: 'vol', name: 'vol', size: SIZE, provisioning: 'thin', pool: a.pool, store: pages });
  const member = new LogicalDisk({ id: 'member', name: 'vol~mirror', size: SIZE, provisioning: 'thin', pool: b.pool, store: pages });
  const disk = new MirroredDisk(origin, { intentLingerMs: opts.intentLingerMs ?? 0, clock: opts.clock });
  const store = new FakeMirrorStore();
  return { disk, origin, member, store, a, b, pages };
}

async function checksum(d: { read(o: number, n: number): Promise<Buffer> }): Promise<string> {
  return createHash('sha256').update(await d.read(0, SIZE)).digest('hex');
}

async function turns(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise(setImmediate);
}

describe('MirroredDisk', () => {
  it('without a mirror passes every call to its logical disk', async () => {
    const { disk, origin } = mirrored();
    const data = new Prng(1).bytes(3 * PS);
    await disk.write(PS / 2, data, { fua: true });
    expect((await origin.read(PS / 2, data.length)).equals(data)).toBe(true);
    await disk.discard(0, 8 * PS);
    expect(origin.allocatedPages).toBe(0);
    expect(disk.status()).toBeNull();
  });

  it('a new mirror copies the mapped pages; then writes, unmaps and write-zeroes reach both sides', async () => {
    const { disk, member, store } = mirrored();
    const rng = new Prng(2);
    await disk.write(0, rng.bytes(PS));
    await disk.write(10 * PS + 100, rng.bytes(3 * PS));
    disk.attach(member, store, { state: 'degraded', reason: 'new', regionSize: PS, dirty: disk.mappedRegions(PS) });
    expect(disk.dirtyRegions()).toEqual([0, 10, 11, 12, 13]);
    await resyncMirror(disk);
    expect(disk.state).toBe('in-sync');
    expect(await checksum(member)).toBe(await checksum(disk.primary));

    await disk.write(20 * PS, rng.bytes(2 * PS));
    await disk.writeZeroes(10 * PS, PS);
    await disk.discard(12 * PS, 2 * PS);
    await disk.flush();
    expect(await checksum(member)).toBe(await checksum(disk.primary));
    // Thin on both sides: the unmapped range went back to each pool.
    expect(member.allocatedPages).toBe(disk.primary.allocatedPages);
  });

  it('a failing mirror degrades the volume: writes still succeed, the touched regions are durable dirty before the ack, resync makes both identical', async () => {
    const { disk, member, store, b } = mirrored();
    disk.attach(member, store, { state: 'in-sync', reason: null, regionSize: PS, dirty: [] });
    const rng = new Prng(3);
    await disk.write(0, rng.bytes(4 * PS));
    b.device.failWrites = true;
    await disk.write(PS + 10, rng.bytes(100));
    expect(disk.state).toBe('degraded');
    expect(store.regions('vol')).toEqual([1]);
    expect(store.states.get('vol')?.state).toBe('degraded');

    // A degraded write is not acknowledged before its region's mark commits.
    const release = store.hold();
    let acked = false;
    const w = disk.write(5 * PS, rng.bytes(PS)).then(() => (acked = true));
    await turns();
    expect(acked).toBe(false);
    release();
    await w;
    expect(store.regions('vol')).toEqual([1, 5]);
    // A write to an already dirty region commits nothing more.
    const commits = store.markCommits;
    await disk.write(5 * PS + 7, rng.bytes(9));
    expect(store.markCommits).toBe(commits);

    await disk.discard(2 * PS, PS);
    expect(store.regions('vol')).toEqual([1, 2, 5]);
    expect(await checksum(member)).not.toBe(await checksum(disk.primary));

    b.device.failWrites = false;
    let copied = 0;
    await resyncMirror(disk, { copied: (bytes) => void (copied += bytes) });
    expect(copied).toBe(3 * PS);
    expect(disk.state).toBe('in-sync');
    expect(await checksum(member)).toBe(await checksum(disk.primary));
    await turns();
    expect(store.regions('vol')).toEqual([]);
    expect(store.states.get('vol')).toEqual({ state: 'in-sync', reason: null });
  });

  it('a write racing the copy of its region ends up on both sides', async () => {
    const { disk, member, store, a } = mirrored();
    const rng = new Prng(4);
    await disk.write(0, rng.bytes(8 * PS));
    disk.attach(member, store, { state: 'degraded', reason: 'new', regionSize: PS, dirty: disk.mappedRegions(PS) });
    // Hold the primary's reads: the copy of region 0 stops after taking its gate.
    const resume = a.device.pause('read');
    const sync = resyncMirror(disk);
    await turns();
    const racing = rng.bytes(PS / 2);
    const w = disk.write(PS / 4, racing);
    await turns();
    resume();
    await Promise.all([sync, w]);
    expect((await member.read(PS / 4, racing.length)).equals(racing)).toBe(true);
    expect(await checksum(member)).toBe(await checksum(disk.primary));
  });

  // Each side completes I/O in its own random order, and many writes overlap ones still in flight.
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('many overlapping writes racing a resync leave both sides identical (seed %i)', async (seed) => {
    const { disk, member, store, a, b } = mirrored();
    const rng = new Prng(seed);
    await disk.write(0, rng.bytes(SIZE));
    disk.attach(member, store, { state: 'degraded', reason: 'new', regionSize: PS, dirty: disk.mappedRegions(PS) });
    a.device.jitter = () => rng.int(0, 3);
    b.device.jitter = () => rng.int(0, 3);
    const writes: Promise<void>[] = [];
    const sync = resyncMirror(disk);
    for (let i = 0; i < 200; i++) {
      const off = rng.int(0, SIZE - 8192);
      writes.push(disk.write(off, rng.bytes(rng.int(1, 8192))));
      if (i % 10 === 0) await turns(2);
    }
    await Promise.all([sync, ...writes]);
    expect(disk.state).toBe('in-sync');
    // And once in sync, overlapping writes in flight together still land in one order on both sides.
    await Promise.all(Array.from({ length: 64 }, () => disk.write(rng.int(0, 4) * 4096, rng.bytes(rng.int(1, 3) * 4096))));
    expect(await checksum(member)).toBe(await checksum(disk.primary));
  });

  it('a mirror failing during resync stops it, keeps the rest dirty and stays degraded', async () => {
    const { disk, member, store, b } = mirrored();
    await disk.write(0, new Prng(6).bytes(8 * PS));
    disk.attach(member, store, { state: 'degraded', reason: 'new', regionSize: PS, dirty: disk.mappedRegions(PS) });
    let batches = 0;
    const sync = resyncMirror(disk, {
      copied: () => {
        if (++batches === 1) b.device.failWrites = true;
      },
    });
    await expect(sync).rejects.toBeInstanceOf(ResyncStopped);
    expect(disk.state).toBe('degraded');
    expect(disk.dirtyCount).toBe(4);
    expect(store.states.get('vol')?.state).toBe('degraded');
  });

  it('stop() ends the resync between batches; a later one resumes from the given region', async () => {
    const { disk, member, store } = mirrored();
    await disk.write(0, new Prng(7).bytes(12 * PS));
    disk.attach(member, store, { state: 'degraded', reason: 'new', regionSize: PS, dirty: disk.mappedRegions(PS) });
    let next = 0;
    await expect(resyncMirror(disk, { stop: () => next > 0, copied: (_b, n) => void (next = n) })).rejects.toThrow('resync stopped');
    expect(next).toBe(4);
    expect(disk.dirtyRegions(next)).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
    const order: number[] = [];
    await resyncMirror(disk, { from: next, copied: (_b, n) => void order.push(n) });
    expect(order).toEqual([8, 12]);
    expect(await checksum(member)).toBe(await checksum(disk.primary));
  });

  it('a write only the mirror took degrades the volume too, and fails', async () => {
    const { disk, member, store, a } = mirrored();
    disk.attach(member, store, { state: 'in-sync', reason: null, regionSize: PS, dirty: [] });
    await disk.write(0, Buffer.alloc(PS, 1));
    a.device.failWrites = true;
    await expect(disk.write(2 * PS, Buffer.alloc(100, 2))).rejects.toMatchObject({ code: 'DEVICE_IO_ERROR' });
    expect(disk.state).toBe('degraded');
    expect(disk.status()?.reason).toMatch(/^primary write failed/);
    expect(store.regions('vol')).toEqual([2]);
  });

  it('a failed secondary flush marks every mapped region dirty', async () => {
    const { disk, member, store, b } = mirrored();
    disk.attach(member, store, { state: 'in-sync', reason: null, regionSize: PS, dirty: [] });
    await disk.write(3 * PS, Buffer.alloc(PS, 1));
    await disk.write(9 * PS, Buffer.alloc(PS, 2));
    b.device.failFlush = true;
    await disk.flush();
    expect(disk.state).toBe('degraded');
    expect(store.regions('vol')).toEqual([3, 9]);
  });

  it('pools with different page sizes track dirty regions of the larger page', async () => {
    const { disk, member, store, b } = mirrored({ secondaryPageSize: 2 * PS });
    disk.attach(member, store, { state: 'in-sync', reason: null, regionSize: 2 * PS, dirty: [] });
    b.device.failWrites = true;
    await disk.write(3 * PS, Buffer.alloc(10, 9));
    expect(store.regions('vol')).toEqual([1]);
    b.device.failWrites = false;
    await resyncMirror(disk);
    expect(await checksum(member)).toBe(await checksum(disk.primary));
  });

  it('a restart while syncing comes back degraded with the dirty set it had', () => {
    const { disk, member, store } = mirrored();
    disk.attach(member, store, { state: 'syncing', reason: null, regionSize: PS, dirty: [4, 2] });
    expect(disk.state).toBe('degraded');
    expect(disk.dirtyRegions()).toEqual([2, 4]);
  });

  it('quiesce holds writes until released; detach leaves the volume unmirrored', async () => {
    const { disk, member, store, origin } = mirrored();
    disk.attach(member, store, { state: 'in-sync', reason: null, regionSize: PS, dirty: [] });
    const release = await disk.quiesce();
    let done = false;
    const w = disk.write(0, Buffer.alloc(512, 7)).then(() => (done = true));
    await turns();
    expect(done).toBe(false);
    expect(disk.detach()).toBe(member);
    release();
    await w;
    expect(origin.allocatedPages).toBe(1);
    expect(member.allocatedPages).toBe(0);
  });

  describe('write-intent log', () => {
    it('a mirrored write is logged durably before either side sees it; a hot region is logged once', async () => {
      const { disk, member, store, a, b } = mirrored({ intentLingerMs: 1000 });
      disk.attach(member, store, { state: 'in-sync', reason: null, regionSize: PS, dirty: [] });
      const writes = [a.device.writes, b.device.writes];
      const release = store.hold();
      let acked = false;
      const w = disk.write(3 * PS + 100, Buffer.alloc(4096, 1)).then(() => (acked = true));
      await turns();
      expect({ acked, writes: [a.device.writes, b.device.writes] }).toEqual({ acked: false, writes });
      release();
      await w;
      expect(store.intentRegions('vol')).toEqual([3]);
      expect(disk.status()?.intentRegions).toBe(1);
      const commits = store.intentCommits;
      for (let i = 0; i < 5; i++) await disk.write(3 * PS + i * 4096, Buffer.alloc(4096, i));
      expect(store.intentCommits).toBe(commits);
      // A write spanning two regions logs both.
      await disk.write(5 * PS - 512, Buffer.alloc(1024, 2));
      expect(store.intentRegions('vol')).toEqual([3, 4, 5]);
      // Degraded writes are in the dirty set instead: nothing more is logged.
      b.device.failWrites = true;
      await disk.write(9 * PS, Buffer.alloc(512, 3));
      expect(disk.state).toBe('degraded');
      await disk.write(10 * PS, Buffer.alloc(512, 3));
      expect(store.intentRegions('vol')).toEqual([3, 4, 5, 9]);
      expect(store.regions('vol')).toEqual([9, 10]);
    });

    it('a region leaves the log once idle for the linger time, after both sides were flushed', async () => {
      let now = 1_000_000;
      const { disk, member, store, a, b } = mirrored({ intentLingerMs: 1000, clock: () => now });
      disk.attach(member, store, { state: 'in-sync', reason: null, regionSize: PS, dirty: [] });
      await disk.write(0, Buffer.alloc(PS, 1));
      now += 600;
      await disk.write(2 * PS, Buffer.alloc(PS, 2));
      now += 500;
      const flushes = [a.device.flushes, b.device.flushes];
      await disk.sweepIntents();
      // Region 0 was idle 1100 ms, region 2 only 500 ms.
      expect(store.intentRegions('vol')).toEqual([2]);
      expect(a.device.flushes).toBeGreaterThan(flushes[0]);
      expect(b.device.flushes).toBeGreaterThan(flushes[1]);
      // A write in flight keeps its region logged whatever the clock says.
      const hold = b.device.pause('write');
      const w = disk.write(2 * PS, Buffer.alloc(512, 5));
      await turns();
      now += 5000;
      await disk.sweepIntents();
      expect(store.intentRegions('vol')).toEqual([2]);
      hold();
      await w;
      await disk.sweepIntents();
      expect(store.intentRegions('vol')).toEqual([2]);
      await disk.sweepIntents({ all: true });
      expect(store.intentRegions('vol')).toEqual([]);
      expect(disk.status()?.intentRegions).toBe(0);
    });

    it('a region written again while the sweep flushes stays logged', async () => {
      let now = 0;
      const { disk, member, store, b } = mirrored({ intentLingerMs: 1000, clock: () => now });
      disk.attach(member, store, { state: 'in-sync', reason: null, regionSize: PS, dirty: [] });
      await disk.write(PS, Buffer.alloc(512, 1));
      now += 2000;
      // The sweep's flush of the secondary waits; a write to the region lands meanwhile.
      const gate = b.device.pause('write');
      b.device.pause('read');
      let flushed!: () => void;
      const flushing = new Promise<void>((r) => (flushed = r));
      const flush = member.flush.bind(member);
      member.flush = async () => {
        await flushing;
        return flush();
      };
      const sweep = disk.sweepIntents();
      await turns();
      now += 1;
      const w = disk.write(PS + 512, Buffer.alloc(512, 2));
      await turns();
      gate();
      flushed();
      await Promise.all([sweep, w]);
      expect(store.intentRegions('vol')).toEqual([1]);
    });

    it('at a crash mid-write the log holds the region the copies may differ in: resynced, both sides match', async () => {
      const { disk, member, store, b, origin, pages } = mirrored({ intentLingerMs: 60_000 });
      disk.attach(member, store, { state: 'in-sync', reason: null, regionSize: PS, dirty: [] });
      const rng = new Prng(77);
      await disk.write(0, rng.bytes(8 * PS));
      await disk.sweepIntents({ all: true });
      expect(store.intentRegions('vol')).toEqual([]);
      // The secondary never completes this write: the gateway dies with it in flight.
      b.device.pause('write');
      void disk.write(6 * PS + 4096, rng.bytes(8192));
      await turns();
      expect(store.intentRegions('vol')).toEqual([6]);
      expect(await checksum(member)).not.toBe(await checksum(origin));

      // The next start (what the runtime does with the catalog): logged regions join the dirty set, degraded.
      const b2 = side('b2');
      b.device.data.copy(b2.device.data);
      const member2 = new LogicalDisk({ id: 'member', name: 'vol~mirror', size: SIZE, provisioning: 'thin', pool: b2.pool, store: pages, map: pages.committed.get('member') ? [...pages.committed.get('member')!].map(([logical, physical]) => ({ logical, physical })) : [] });
      const again = new MirroredDisk(origin, { intentLingerMs: 0 });
      again.attach(member2, store, { state: 'degraded', reason: 'crash', regionSize: PS, dirty: store.intentRegions('vol') });
      await resyncMirror(again);
      expect(again.state).toBe('in-sync');
      expect(await checksum(member2)).toBe(await checksum(origin));
    });
  });
});
