import { copyFileSync, existsSync, statSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Prng } from '../../common/prng';
import { FileSystem } from './file-system';
import type { NodeId } from './fs-types';
import type { MetaStatements } from './meta-db';
import { CrashStore } from './testing/crash-store';
import { errCode, pattern } from './testing/fs-expect';
import { makeFs, ROOT, type Fixture } from './testing/fs-fixture';

const MiB = 1024 * 1024;
const fixtures: Fixture[] = [];

async function setup(store = new CrashStore(16 * MiB)): Promise<Fixture> {
  const fx = await makeFs({ store });
  fixtures.push(fx);
  return fx;
}

afterEach(async () => {
  for (const fx of fixtures.splice(0)) await fx.cleanup();
});

async function fileWith(fx: Fixture, name: string, data: Buffer): Promise<NodeId> {
  const f = (await fx.fs.create(ROOT, fx.fs.root, name, { mode: 'guarded', attrs: { mode: 0o644 } })).node;
  await fx.fs.write(ROOT, f, 0, data, 'file_sync');
  return f;
}

describe('open files (NFSv4 hold/release)', () => {
  it('a held file outlives its last name until released, then its handle is STALE and its blocks free', async () => {
    const fx = await setup();
    const fs = fx.fs;
    const free = fs.fsstat().freeBytes;
    const f = await fileWith(fx, 'f', pattern(50_000, 1));
    fs.hold(f);
    fs.hold(f);
    await fs.remove(ROOT, fs.root, 'f');
    expect(await errCode(() => fs.lookup(ROOT, fs.root, 'f'))).toBe('NOENT');
    expect(fs.getattr(f).nlink).toBe(0);
    expect((await fs.read(ROOT, f, 0, 50_000)).data.equals(pattern(50_000, 1))).toBe(true);
    await fs.write(ROOT, f, 50_000, Buffer.from('more'), 'file_sync');
    expect((await fs.fsck()).clean).toBe(true);
    await fs.release(f);
    expect(fs.getattr(f).size).toBe(50_004);
    await fs.release(f);
    expect(await errCode(() => fs.getattr(f))).toBe('STALE');
    expect(fs.fsstat().freeBytes).toBe(free);
    expect(await errCode(fs.release(f))).toBe('STALE');
    expect((await fs.fsck()).clean).toBe(true);
  });

  it('releasing a file that still has a name keeps it', async () => {
    const fx = await setup();
    const f = await fileWith(fx, 'f', Buffer.from('x'));
    fx.fs.hold(f);
    await fx.fs.release(f);
    expect(fx.fs.getattr(f).nlink).toBe(1);
  });

  it('a removed file still open at a crash is reclaimed at the next mount', async () => {
    const store = new CrashStore(16 * MiB);
    const fx = await setup(store);
    const free = fx.fs.fsstat().freeBytes;
    const f = await fileWith(fx, 'f', pattern(100_000, 2));
    fx.fs.hold(f);
    await fx.fs.remove(ROOT, fx.fs.root, 'f');
    fx.fs.abort();
    const unmounted = FileSystem.fsck(fx.metaPath);
    expect(unmounted.clean).toBe(true);
    expect(unmounted.pendingOrphans).toEqual([f.ino]);
    fx.fs = await FileSystem.open(fx.metaPath, store.crash(new Prng(3)), { commitIntervalMs: 0 });
    expect(await errCode(() => fx.fs.getattr(f))).toBe('STALE');
    expect(fx.fs.fsstat().freeBytes).toBe(free);
    expect(fx.fs.fsstat().freeFiles).toBe(fx.fs.fsstat().totalFiles - 1);
    const report = await fx.fs.fsck();
    expect(report).toMatchObject({ clean: true, pendingOrphans: [] });
  });
});

describe('unlink of the last name', () => {
  const statements = (fs: FileSystem) => (fs as unknown as { stmts: MetaStatements }).stmts;

  it('frees a file nothing holds or reads in the unlink\'s own batch: no orphan row, one commit', async () => {
    const fx = await setup();
    const fs = fx.fs;
    const free = fs.fsstat().freeBytes;
    const f = await fileWith(fx, 'f', pattern(50_000, 2));
    const orphan = vi.spyOn(statements(fs).putOrphan, 'run');
    const commits = fs.stats().commits;
    await fs.remove(ROOT, fs.root, 'f');
    expect(orphan).not.toHaveBeenCalled();
    expect(fs.stats().commits).toBe(commits + 1);
    expect(await errCode(() => fs.getattr(f))).toBe('STALE');
    expect(fs.fsstat().freeBytes).toBe(free);
    await fx.remount();
    expect(await errCode(() => fx.fs.getattr(f))).toBe('STALE');
    expect((await fx.fs.fsck()).problems).toEqual([]);
  });

  it('a file whose data is being read when its last name goes gets an orphan row and is freed once the read ends', async () => {
    const store = new CrashStore(16 * MiB);
    const fx = await setup(store);
    const fs = fx.fs;
    const free = fs.fsstat().freeBytes;
    const f = await fileWith(fx, 'f', pattern(200_000, 3));
    const orphan = vi.spyOn(statements(fs).putOrphan, 'run');
    // The read holds the file's I/O lock while the store takes its turns.
    store.jitter = () => 20;
    const read = fs.read(ROOT, f, 0, 200_000);
    await new Promise(setImmediate);
    const removed = fs.remove(ROOT, fs.root, 'f');
    expect((await read).data.equals(pattern(200_000, 3))).toBe(true);
    await removed;
    store.jitter = undefined;
    expect(orphan).toHaveBeenCalledTimes(1);
    expect(await errCode(() => fs.getattr(f))).toBe('STALE');
    await fs.sync();
    // fsck quiesces, which also waits for the discards of the freed pages.
    const report = await fs.fsck();
    expect(report.problems).toEqual([]);
    expect(report.pendingOrphans).toEqual([]);
    expect(fs.fsstat().freeBytes).toBe(free);
  });
});

describe('quiesce (snapshot hook)', () => {
  it('holds changes until release while reads go on', async () => {
    const fx = await setup();
    const fs = fx.fs;
    const f = await fileWith(fx, 'f', Buffer.from('before'));
    const q = await fs.quiesce();
    let wrote = false;
    const w = fs.write(ROOT, f, 0, Buffer.from('after!'), 'file_sync').then(() => (wrote = true));
    const c = fs.create(ROOT, fs.root, 'g', { mode: 'unchecked' });
    for (let i = 0; i < 20; i++) await new Promise(setImmediate);
    expect(wrote).toBe(false);
    expect((await fs.read(ROOT, f, 0, 6)).data.toString()).toBe('before');
    expect(fs.getattr(f).size).toBe(6);
    q.release();
    q.release();
    await w;
    await c;
    expect((await fs.read(ROOT, f, 0, 6)).data.toString()).toBe('after!');
  });

  it('waits for changes in flight, then the database file and the store form a consistent copy', async () => {
    const store = new CrashStore(16 * MiB);
    const fx = await setup(store);
    const fs = fx.fs;
    const f = await fileWith(fx, 'f', pattern(30_000, 1));
    // Unstable writes in flight when the quiesce starts must be in the copy.
    const inflight = [fs.write(ROOT, f, 30_000, pattern(10_000, 2), 'unstable'), fs.mkdir(ROOT, fs.root, 'd')];
    const q = await fs.quiesce();
    await Promise.all(inflight);
    const snapDb = `${fx.dir}/snap.db`;
    copyFileSync(fx.metaPath, snapDb);
    expect(!existsSync(`${fx.metaPath}-wal`) || statSync(`${fx.metaPath}-wal`).size === 0).toBe(true);
    const snapStore = new CrashStore(store.size, store.pageSize, store.bytes);
    q.release();
    await fs.write(ROOT, f, 0, Buffer.alloc(40_000, 0xff), 'file_sync');
    await fs.remove(ROOT, fs.root, 'f');

    const snap = await FileSystem.open(snapDb, snapStore, { readOnly: true });
    try {
      expect((await snap.read(ROOT, f, 0, 40_000)).data.equals(Buffer.concat([pattern(30_000, 1), pattern(10_000, 2)]))).toBe(true);
      expect(snap.readdir(ROOT, snap.root, 0, undefined, { dots: false }).entries.map((e) => e.name).sort()).toEqual(['d', 'f']);
      expect(FileSystem.fsck(snapDb).clean).toBe(true);
    } finally {
      await snap.close();
    }
  });

  it('one quiesce at a time: the second waits for the first release', async () => {
    const fx = await setup();
    const q1 = await fx.fs.quiesce();
    let second = false;
    const p = fx.fs.quiesce().then((q) => {
      second = true;
      return q;
    });
    for (let i = 0; i < 10; i++) await new Promise(setImmediate);
    expect(second).toBe(false);
    q1.release();
    (await p).release();
    expect(second).toBe(true);
  });
});

describe('close', () => {
  it('makes unstable writes and lazy metadata durable', async () => {
    const store = new CrashStore(16 * MiB);
    const fx = await makeFs({ store, syncMetadata: false });
    fixtures.push(fx);
    const f = (await fx.fs.create(ROOT, fx.fs.root, 'f', { mode: 'unchecked' })).node;
    await fx.fs.write(ROOT, f, 0, pattern(70_000, 9), 'unstable');
    await fx.fs.close();
    fx.fs = await FileSystem.open(fx.metaPath, store.crash(new Prng(8)), { commitIntervalMs: 0 });
    expect((await fx.fs.read(ROOT, f, 0, 70_000)).data.equals(pattern(70_000, 9))).toBe(true);
  });

  it('the background committer makes unstable writes durable without a COMMIT', async () => {
    const store = new CrashStore(16 * MiB);
    const fx = await makeFs({ store, commitIntervalMs: 5 });
    fixtures.push(fx);
    const f = (await fx.fs.create(ROOT, fx.fs.root, 'f', { mode: 'unchecked' })).node;
    await fx.fs.write(ROOT, f, 0, pattern(9_000, 4), 'unstable');
    const commits = fx.fs.stats().commits;
    while (fx.fs.stats().commits === commits) await new Promise((r) => setTimeout(r, 5));
    fx.fs.abort();
    fx.fs = await FileSystem.open(fx.metaPath, store.crash(new Prng(2)), { commitIntervalMs: 0 });
    expect((await fx.fs.read(ROOT, f, 0, 9_000)).data.equals(pattern(9_000, 4))).toBe(true);
  });
});

describe('lazy metadata (an async share)', () => {
  it('commits each namespace change before it returns without waiting for the disk, so a crash of the gateway keeps them', async () => {
    const store = new CrashStore(16 * MiB);
    const fx = await makeFs({ store, syncMetadata: false });
    fixtures.push(fx);
    const fs = fx.fs;
    const before = fs.stats();
    for (let i = 0; i < 10; i++) await fs.create(ROOT, fs.root, `f${i}`, { mode: 'guarded', attrs: { mode: 0o644 } });
    await fs.remove(ROOT, fs.root, 'f3');
    await fs.rename(ROOT, fs.root, 'f4', fs.root, 'moved');
    const after = fs.stats();
    expect(after.commits - before.commits).toBeGreaterThanOrEqual(12);
    expect(after.syncs).toBe(before.syncs);
    // The gateway dies: nothing more is committed, and the store loses what it had not flushed.
    fs.abort();
    fx.fs = await FileSystem.open(fx.metaPath, store.crash(new Prng(5)), { commitIntervalMs: 0 });
    const names = fx.fs.readdir(ROOT, fx.fs.root, 0).entries.map((e) => e.name).filter((n) => n !== '.' && n !== '..');
    expect(names.sort()).toEqual(['f0', 'f1', 'f2', 'f5', 'f6', 'f7', 'f8', 'f9', 'moved']);
    expect((await fx.fs.fsck()).clean).toBe(true);
  });

  it('trims its inode cache after commits that did not wait for the disk too', async () => {
    const fx = await makeFs({ store: new CrashStore(16 * MiB), syncMetadata: false, inodeCacheSize: 8 });
    fixtures.push(fx);
    const fs = fx.fs;
    for (let i = 0; i < 40; i++) await fs.create(ROOT, fs.root, `f${i}`, { mode: 'guarded', attrs: { mode: 0o644 } });
    expect(fs.stats().syncs).toBe(0);
    expect(fs.stats().cachedInodes).toBeLessThanOrEqual(9);
  });

  it('keeps the blocks a removal freed reserved until a commit that reached the disk covers it', async () => {
    const fx = await makeFs({ store: new CrashStore(16 * MiB), syncMetadata: false });
    fixtures.push(fx);
    const fs = fx.fs;
    const empty = fs.fsstat().freeBytes;
    await fileWith(fx, 'f', pattern(200_000, 6));
    const full = fs.fsstat().freeBytes;
    expect(full).toBeLessThan(empty);
    const commits = fs.stats().commits;
    await fs.remove(ROOT, fs.root, 'f');
    // Committed, not synced: a block reused now could reach the disk before the removal does.
    expect(fs.stats().commits).toBeGreaterThan(commits);
    expect(fs.fsstat().freeBytes).toBe(full);
    const syncs = fs.stats().syncs;
    await fs.setSyncMetadata(true);
    expect(fs.stats().syncs).toBeGreaterThan(syncs);
    await vi.waitFor(() => expect(fs.fsstat().freeBytes).toBe(empty));
  });

  it('syncs on its timer after applied commits with nothing else pending', async () => {
    const fx = await makeFs({ store: new CrashStore(16 * MiB), syncMetadata: false, commitIntervalMs: 5 });
    fixtures.push(fx);
    const fs = fx.fs;
    await fs.create(ROOT, fs.root, 'f', { mode: 'guarded', attrs: { mode: 0o644 } });
    const syncs = fs.stats().syncs;
    await vi.waitFor(() => expect(fs.stats().syncs).toBeGreaterThan(syncs));
    // Synced once; with nothing new, the timer does not sync again.
    const settled = fs.stats().syncs;
    await new Promise((r) => setTimeout(r, 50));
    expect(fs.stats().syncs).toBe(settled);
  });
});
