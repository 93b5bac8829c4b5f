import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Prng } from '../../common/prng';
import type { ShareSnapshotRef } from '../../storage/domain';
import { FileSystem, FileType, FsError, type NodeId } from '../fs';
import { CrashStore } from '../fs/testing/crash-store';
import { makeFs, ROOT, type Fixture } from '../fs/testing/fs-fixture';
import { WriteBehindStore } from '../write-behind-store';
import { ShareView, SNAPSHOT_DIR, SNAPSHOT_DIR_VIEW } from './share-view';
import { SnapshotMounts } from './snapshot-mounts';

const SIZE = 32 * 2 ** 20;

/** Byte `i` of file `name`: every file's content is a function of its name, so any torn or foreign byte shows. */
function pattern(name: string, from: number, length: number): Buffer {
  let seed = 0;
  for (const ch of name) seed = (seed * 31 + ch.charCodeAt(0)) & 0xff;
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = (seed + from + i) & 0xff;
  return b;
}

/** A share snapshot as the gateway takes it: quiesce, copy the metadata, keep the volume's durable bytes, release. */
async function snapshot(fx: Fixture, inner: CrashStore, dest: string): Promise<Buffer> {
  const q = await fx.fs.quiesce();
  try {
    fx.fs.copyMetadata(dest);
    return Buffer.from(inner.durableBytes);
  } finally {
    q.release();
  }
}

/** Every regular file of a filesystem, by path. */
function walk(fs: FileSystem, dir: NodeId = fs.root, prefix = ''): Array<{ path: string; name: string; node: NodeId; size: number }> {
  const out: Array<{ path: string; name: string; node: NodeId; size: number }> = [];
  for (const e of fs.readdir(ROOT, dir, 0, undefined, { dots: false }).entries) {
    const a = fs.getattr(e.node);
    if (a.type === FileType.DIR) out.push(...walk(fs, e.node, `${prefix}${e.name}/`));
    else out.push({ path: `${prefix}${e.name}`, name: e.name, node: e.node, size: a.size });
  }
  return out;
}

describe('share snapshots of the filesystem engine: quiesce, copy the metadata, keep the data', () => {
  const fixtures: Fixture[] = [];
  afterEach(async () => {
    for (const fx of fixtures.splice(0)) await fx.cleanup();
  });

  async function fixture(jitter?: Prng): Promise<{ fx: Fixture; inner: CrashStore }> {
    const inner = new CrashStore(SIZE);
    if (jitter) inner.jitter = () => jitter.int(0, 3);
    // As in production: the engine over a write-behind store over the volume.
    const fx = await makeFs({ store: new WriteBehindStore(inner) });
    fixtures.push(fx);
    return { fx, inner };
  }

  it('never shows a file whose metadata is there without its data, however writers interleave with the snapshots', async () => {
    const prng = new Prng(91);
    const { fx, inner } = await fixture(prng);
    const taken: Array<{ dest: string; image: Buffer }> = [];
    let stop = false;
    const writer = async (w: number) => {
      for (let n = 0; !stop || n < 3; n++) {
        const name = `w${w}-${n}`;
        const dir = w % 2 === 0 ? fx.fs.root : (await fx.fs.mkdir(ROOT, fx.fs.root, `d${w}-${n}`)).node;
        const { node } = await fx.fs.create(ROOT, dir, name, { mode: 'unchecked', attrs: { mode: 0o644 } });
        let size = 0;
        for (let k = prng.int(1, 4); k > 0; k--) {
          const len = prng.int(1, 40_000);
          await fx.fs.write(ROOT, node, size, pattern(name, size, len), prng.int(0, 4) === 0 ? 'file_sync' : 'unstable');
          size += len;
        }
        if (n % 5 === 4) await fx.fs.remove(ROOT, dir, name);
        if (n > 40) break;
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    for (let i = 0; i < 6; i++) {
      for (let t = prng.int(1, 40); t > 0; t--) await new Promise((r) => setImmediate(r));
      const dest = join(fx.dir, `snap-${i}.sqlite`);
      taken.push({ dest, image: await snapshot(fx, inner, dest) });
    }
    stop = true;
    await Promise.all(writers);

    let files = 0;
    for (const { dest, image } of taken) {
      expect(FileSystem.fsck(dest).clean).toBe(true);
      const snap = FileSystem.openReadOnly(dest, new CrashStore(SIZE, 64 * 1024, image));
      try {
        for (const f of walk(snap)) {
          const r = await snap.read(ROOT, f.node, 0, f.size + 1);
          expect(r.data.length, f.path).toBe(f.size);
          expect(r.data.equals(pattern(f.name, 0, f.size)), `${f.path} (${f.size} bytes) in ${dest}`).toBe(true);
          files++;
        }
      } finally {
        snap.abort();
      }
    }
    // The snapshots saw files in flight, not only empty filesystems.
    expect(files).toBeGreaterThan(10);
  });

  it('holds new changes until release, lets reads through, and leaves no orphan in the copy', async () => {
    const { fx, inner } = await fixture();
    const { node } = await fx.fs.create(ROOT, fx.fs.root, 'held-open', { mode: 'unchecked' });
    await fx.fs.write(ROOT, node, 0, Buffer.from('still open'), 'file_sync');
    fx.fs.hold(node);
    await fx.fs.remove(ROOT, fx.fs.root, 'held-open');
    const q = await fx.fs.quiesce();
    let created = false;
    const pending = fx.fs.create(ROOT, fx.fs.root, 'late', { mode: 'unchecked' }).then(() => (created = true));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(created).toBe(false);
    // Reads are not held.
    expect((await fx.fs.read(ROOT, node, 0, 100)).data.toString()).toBe('still open');
    const dest = join(fx.dir, 'copy.sqlite');
    fx.fs.copyMetadata(dest);
    const image = Buffer.from(inner.durableBytes);
    q.release();
    await pending;
    expect(created).toBe(true);
    // The removed-but-open file is an orphan live; the copy has none, so it checks clean unmounted.
    expect(FileSystem.fsck(dest)).toMatchObject({ clean: true });
    const snap = FileSystem.openReadOnly(dest, new CrashStore(SIZE, 64 * 1024, image));
    expect(snap.readdir(ROOT, snap.root, 0, undefined, { dots: false }).entries.map((e) => e.name)).toEqual([]);
    snap.abort();
    expect(() => fx.fs.copyMetadata(join(fx.dir, 'not-quiesced.sqlite'))).toThrow(FsError);
  });
});

describe('ShareView: /.snapshots over the live filesystem and its snapshots', () => {
  const fixtures: Fixture[] = [];
  const opened: FileSystem[] = [];
  afterEach(async () => {
    for (const fs of opened.splice(0)) fs.abort();
    for (const fx of fixtures.splice(0)) await fx.cleanup();
  });

  async function setup() {
    const inner = new CrashStore(SIZE);
    const fx = await makeFs({ store: new WriteBehindStore(inner) });
    fixtures.push(fx);
    const { node } = await fx.fs.create(ROOT, fx.fs.root, 'f', { mode: 'unchecked', attrs: { mode: 0o644 } });
    await fx.fs.write(ROOT, node, 0, Buffer.from('old'), 'unstable');
    const dest = join(fx.dir, 'snap-7.sqlite');
    const image = await snapshot(fx, inner, dest);
    await fx.fs.write(ROOT, node, 0, Buffer.from('new'), 'file_sync');
    const refs: ShareSnapshotRef[] = [{ volumeId: 'v7', name: 'seven', handleId: 7, createdAt: '2026-01-02T03:04:05.678Z' }];
    let snap: FileSystem | undefined;
    const view = new ShareView(
      fx.fs,
      {
        list: () => refs,
        open: () => {
          if (!snap) opened.push((snap = FileSystem.openReadOnly(dest, new CrashStore(SIZE, 64 * 1024, image))));
          return snap;
        },
      },
      { sec: 1, nsec: 0 },
    );
    return { fx, view, refs, file: node, dest };
  }

  it('finds .snapshots by name at the root only, hides it from the listing, and tags every node with its view', async () => {
    const { view, file } = await setup();
    const dir = view.lookup(ROOT, view.root, SNAPSHOT_DIR);
    expect(dir.node).toEqual({ ino: 1, gen: 1, snap: SNAPSHOT_DIR_VIEW });
    expect(dir.attr).toMatchObject({ type: FileType.DIR, mode: 0o555, nlink: 3, snap: SNAPSHOT_DIR_VIEW, mtime: { sec: 1767323045, nsec: 678_000_000 } });
    expect(view.readdir(ROOT, view.root, 0).entries.map((e) => e.name)).toEqual(['.', '..', 'f']);
    const listing = view.readdir(ROOT, dir.node, 0);
    expect(listing.entries.map((e) => [e.name, e.cookie])).toEqual([['.', 1], ['..', 2], ['seven', 9]]);
    expect(view.readdir(ROOT, dir.node, 2).entries.map((e) => e.name)).toEqual(['seven']);
    const seven = view.lookup(ROOT, dir.node, 'seven');
    expect(seven.node).toEqual({ ...view.root, snap: 7 });
    const f = view.lookup(ROOT, seven.node, 'f');
    expect(f.node).toEqual({ ino: file.ino, gen: file.gen, snap: 7 });
    expect(f.attr.snap).toBe(7);
    expect((await view.read(ROOT, f.node, 0, 10)).data.toString()).toBe('old');
    expect((await view.read(ROOT, file, 0, 10)).data.toString()).toBe('new');
    // No '.snapshots' inside a snapshot, and '..' of a snapshot's root is /.snapshots.
    expect(() => view.lookup(ROOT, seven.node, SNAPSHOT_DIR)).toThrow(expect.objectContaining({ code: 'NOENT' }));
    expect(view.lookup(ROOT, seven.node, '..').node).toEqual(dir.node);
    expect(view.readdir(ROOT, seven.node, 0).entries.find((e) => e.name === '..')!.node).toEqual(dir.node);
    expect(view.lookup(ROOT, dir.node, '..').node).toEqual(view.root);
  });

  it('refuses every change in a snapshot (ROFS), the name at the root (EXIST), and links across (XDEV)', async () => {
    const { view, file } = await setup();
    const dir = view.lookup(ROOT, view.root, SNAPSHOT_DIR).node;
    const seven = view.lookup(ROOT, dir, 'seven').node;
    const old = view.lookup(ROOT, seven, 'f').node;
    const code = async (p: () => Promise<unknown>) => {
      try {
        await p();
        return 'OK';
      } catch (e) {
        return (e as FsError).code;
      }
    };
    expect(await code(() => view.write(ROOT, old, 0, Buffer.from('x'), 'unstable'))).toBe('ROFS');
    expect(await code(() => view.setattr(ROOT, old, { mode: 0o600 }))).toBe('ROFS');
    expect(await code(() => view.create(ROOT, seven, 'n', { mode: 'unchecked' }))).toBe('ROFS');
    expect(await code(() => view.mkdir(ROOT, dir, 'n'))).toBe('ROFS');
    expect(await code(() => view.remove(ROOT, seven, 'f'))).toBe('ROFS');
    expect(await code(() => view.rmdir(ROOT, dir, 'seven'))).toBe('ROFS');
    expect(await code(() => view.rename(ROOT, seven, 'f', view.root, 'g'))).toBe('ROFS');
    expect(await code(() => view.link(ROOT, old, view.root, 'g'))).toBe('XDEV');
    for (const make of [() => view.create(ROOT, view.root, SNAPSHOT_DIR, { mode: 'unchecked' }), () => view.mkdir(ROOT, view.root, SNAPSHOT_DIR), () => view.symlink(ROOT, view.root, SNAPSHOT_DIR, 'x'), () => view.rename(ROOT, view.root, 'f', view.root, SNAPSHOT_DIR), () => view.link(ROOT, file, view.root, SNAPSHOT_DIR)]) {
      expect(await code(make)).toBe('EXIST');
    }
    // Below the root the name is an ordinary one.
    const sub = (await view.mkdir(ROOT, view.root, 'sub')).node;
    expect(await code(() => view.mkdir(ROOT, sub, SNAPSHOT_DIR))).toBe('OK');
    expect(view.access(ROOT, dir, 0x3f).granted).toBe(0x23);
  });

  it('answers STALE for nodes of a deleted snapshot and of /.snapshots with another inode', async () => {
    const { view, refs } = await setup();
    const dir = view.lookup(ROOT, view.root, SNAPSHOT_DIR).node;
    const seven = view.lookup(ROOT, dir, 'seven').node;
    const f = view.lookup(ROOT, seven, 'f').node;
    view.getattr(f);
    expect(() => view.getattr({ ino: 2, gen: 1, snap: SNAPSHOT_DIR_VIEW })).toThrow(expect.objectContaining({ code: 'STALE' }));
    expect(() => view.getattr({ ...f, snap: 8 })).toThrow(expect.objectContaining({ code: 'STALE' }));
    refs.splice(0);
    expect(() => view.getattr(f)).toThrow(expect.objectContaining({ code: 'STALE' }));
    await expect(view.write(ROOT, f, 0, Buffer.from('x'), 'unstable')).rejects.toMatchObject({ code: 'STALE' });
    expect(view.readdir(ROOT, dir, 0).entries.map((e) => e.name)).toEqual(['.', '..']);
  });
});

describe('SnapshotMounts', () => {
  it('opens a snapshot once, closes it when idle or dropped, and removes copies no snapshot owns', async () => {
    const inner = new CrashStore(SIZE);
    const fx = await makeFs({ store: new WriteBehindStore(inner) });
    try {
      let now = 1_000_000;
      const image = Buffer.from(inner.durableBytes);
      const mounts = new SnapshotMounts(join(fx.dir, 'shares'), (id) => (id === 'v1' || id === 'v2' ? new CrashStore(SIZE, 64 * 1024, image) : undefined), { idleMs: 60_000, now: () => now });
      mounts.prepare('s');
      for (const id of ['v1', 'v2', 'stray']) {
        const q = await fx.fs.quiesce();
        fx.fs.copyMetadata(mounts.metaPath('s', id));
        q.release();
      }
      const ref = (id: string): ShareSnapshotRef => ({ volumeId: id, name: id, handleId: Number(id.slice(1)), createdAt: '2026-01-01T00:00:00Z' });
      const a = mounts.open('s', ref('v1'));
      expect(mounts.open('s', ref('v1'))).toBe(a);
      expect(mounts.size).toBe(1);
      now += 59_000;
      mounts.sweep();
      expect(mounts.size).toBe(1);
      now += 60_000;
      mounts.sweep();
      expect(mounts.size).toBe(0);
      expect(() => a.getattr(a.root)).toThrow(expect.objectContaining({ code: 'IO' }));
      const b = mounts.open('s', ref('v1'));
      expect(b).not.toBe(a);
      expect(() => mounts.open('s', ref('v9'))).toThrow(expect.objectContaining({ code: 'IO' }));
      expect(mounts.removeLeftovers('s', [ref('v1'), ref('v2')])).toEqual(['stray.sqlite']);
      mounts.drop('s', 'v1');
      expect(mounts.size).toBe(0);
      expect(existsSync(mounts.metaPath('s', 'v1'))).toBe(false);
      expect(existsSync(mounts.metaPath('s', 'v2'))).toBe(true);
      mounts.closeAll();
    } finally {
      await fx.cleanup();
    }
  });
});
