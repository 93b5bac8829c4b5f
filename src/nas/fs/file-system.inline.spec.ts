import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSystem, MAX_INLINE_BYTES } from './file-system';
import type { NodeId } from './fs-types';
import { CrashStore } from './testing/crash-store';
import { pattern } from './testing/fs-expect';
import { makeFs, ROOT, type Fixture } from './testing/fs-fixture';

/*
 * Inline data: a regular file of at most MAX_INLINE_BYTES with no blocks
 * keeps its bytes in its inode row (the `target` column), so writing it
 * touches no block and committing it needs no device flush. These specs
 * check what reaches the store and the database, what survives a crash, the
 * move to blocks when a file outgrows it, and that fsck understands it.
 */

const MiB = 1024 * 1024;
const fixtures: Fixture[] = [];
afterEach(async () => {
  for (const fx of fixtures.splice(0)) await fx.cleanup();
});

async function setup(store = new CrashStore(8 * MiB, 64 * 1024, Buffer.alloc(8 * MiB, 0xee))): Promise<{ fx: Fixture; fs: FileSystem; store: CrashStore }> {
  const fx = await makeFs({ store });
  fixtures.push(fx);
  return { fx, fs: fx.fs, store };
}

async function newFile(fs: FileSystem, name: string): Promise<NodeId> {
  return (await fs.create(ROOT, fs.root, name, { mode: 'guarded', attrs: { mode: 0o644 } })).node;
}

/** The committed row of an inode as the database holds it: inline bytes (target), block count and extent rows. */
function rowOf(metaPath: string, ino: number): { size: number; blocks: number; target: Buffer | null; extents: number } {
  const db = new Database(metaPath, { readonly: true });
  try {
    const row = db.prepare('SELECT size, blocks, target FROM inodes WHERE ino = ?').get(ino) as { size: number; blocks: number; target: Buffer | null };
    const { n } = db.prepare('SELECT COUNT(*) AS n FROM extents WHERE ino = ?').get(ino) as { n: number };
    return { ...row, extents: n };
  } finally {
    db.close();
  }
}

async function contents(fs: FileSystem, f: NodeId): Promise<Buffer> {
  return (await fs.read(ROOT, f, 0, fs.getattr(f).size)).data;
}

/** Power loss now: the filesystem stops and mounts again on what the store kept. */
async function crash(fx: Fixture, store: CrashStore): Promise<FileSystem> {
  fx.fs.abort();
  fx.fs = await FileSystem.open(fx.metaPath, store.crash(), { commitIntervalMs: 0 });
  return fx.fs;
}

describe('inline data', () => {
  it('a small file is written to its row, not the store: COMMIT is one metadata commit without a flush', async () => {
    const { fx, fs, store } = await setup();
    const f = await newFile(fs, 'f');
    const writes = store.writes;
    const before = fs.stats();
    const data = pattern(100, 1);
    const w = await fs.write(ROOT, f, 0, data, 'unstable');
    expect(w.committed).toBe('unstable');
    await fs.commit(f);
    const after = fs.stats();
    expect(store.writes).toBe(writes);
    expect(after.flushes - before.flushes).toBe(0);
    expect(after.commits - before.commits).toBe(1);
    expect(fs.getattr(f)).toMatchObject({ size: 100, used: 0 });
    expect((await contents(fs, f)).equals(data)).toBe(true);
    expect(rowOf(fx.metaPath, f.ino)).toEqual({ size: 100, blocks: 0, target: data, extents: 0 });
    // FILE_SYNC is the same: durable with the row.
    await fs.write(ROOT, f, 50, Buffer.from('zz'), 'file_sync');
    expect(fs.stats().flushes).toBe(after.flushes);
    expect(rowOf(fx.metaPath, f.ino).target!.subarray(50, 52).toString()).toBe('zz');
  });

  it('reads: any offset and count, bytes past the inline data up to the size are zeros, eof at the end', async () => {
    const { fs } = await setup();
    const f = await newFile(fs, 'f');
    await fs.write(ROOT, f, 10, Buffer.from('abcdef'), 'unstable');
    expect((await contents(fs, f)).equals(Buffer.concat([Buffer.alloc(10), Buffer.from('abcdef')]))).toBe(true);
    const r = await fs.read(ROOT, f, 12, 100);
    expect(r.data.toString()).toBe('cdef');
    expect(r.eof).toBe(true);
    expect((await fs.read(ROOT, f, 0, 3)).eof).toBe(false);
    // Extended by SETATTR within the limit: still inline, the new bytes read as zeros.
    await fs.setattr(ROOT, f, { size: 1000 });
    const all = await contents(fs, f);
    expect(all.length).toBe(1000);
    expect(all.subarray(10, 16).toString()).toBe('abcdef');
    expect(all.subarray(16).every((x) => x === 0)).toBe(true);
    // Into a caller's buffer that holds old bytes: the zeros are written, not assumed.
    const into = Buffer.alloc(64, 0x55);
    const v = await fs.read(ROOT, f, 0, 64, into);
    expect(v.data.equals(Buffer.concat([Buffer.alloc(10), Buffer.from('abcdef'), Buffer.alloc(48)]))).toBe(true);
  });

  it('survives a remount and a crash once committed; an uncommitted write comes back old or new, never other bytes', async () => {
    const { fx, store } = await setup();
    let fs = fx.fs;
    const f = await newFile(fs, 'f');
    await fs.write(ROOT, f, 0, pattern(300, 2), 'unstable');
    await fs.commit(f);
    fs = await fx.remount();
    expect((await contents(fs, f)).equals(pattern(300, 2))).toBe(true);
    // Unstable and never committed, then power loss.
    await fs.write(ROOT, f, 100, pattern(50, 3), 'unstable');
    fs = await crash(fx, store);
    const got = await contents(fs, f);
    const neu = Buffer.from(pattern(300, 2));
    pattern(50, 3).copy(neu, 100);
    expect(got.equals(pattern(300, 2)) || got.equals(neu)).toBe(true);
    expect((await fs.fsck()).problems).toEqual([]);
  });

  it('a file outgrowing the limit moves to blocks; data committed inline survives a crash after any later commit', async () => {
    const { fx, fs, store } = await setup();
    const f = await newFile(fs, 'f');
    const head = pattern(1000, 4);
    await fs.write(ROOT, f, 0, head, 'file_sync');
    // Unstable, past the limit: the inline bytes move to a block first.
    const tail = pattern(5000, 5);
    await fs.write(ROOT, f, 3000, tail, 'unstable');
    expect(fs.getattr(f).used).toBeGreaterThan(0);
    const model = Buffer.alloc(8000);
    head.copy(model);
    tail.copy(model, 3000);
    expect((await contents(fs, f)).equals(model)).toBe(true);
    // A namespace change commits (a 'meta' commit, which leaves unstable blocks out): the row without its
    // inline data must not commit without the block now holding those bytes.
    await newFile(fs, 'g');
    const after = await crash(fx, store);
    const got = await contents(after, f);
    expect(got.length).toBe(8000);
    expect(got.subarray(0, 1000).equals(head)).toBe(true);
    // The unstable part: its new bytes or zeros, byte by byte (never the store's old bytes).
    const wrong = got.findIndex((b, i) => i >= 1000 && b !== model[i] && b !== 0);
    expect(wrong, `byte ${wrong} is neither written nor zero`).toBe(-1);
    expect((await after.fsck()).problems).toEqual([]);
    const row = rowOf(fx.metaPath, f.ino);
    expect(row.target).toBeNull();
    expect(row.extents).toBeGreaterThan(0);
  });

  it('truncate: shrinking cuts the inline data, growing past the limit moves it to blocks with zeros after it', async () => {
    const { fx, fs } = await setup();
    const f = await newFile(fs, 'f');
    await fs.write(ROOT, f, 0, pattern(500, 6), 'file_sync');
    await fs.setattr(ROOT, f, { size: 200 });
    await fs.setattr(ROOT, f, { size: 400 });
    const cut = await contents(fs, f);
    expect(cut.subarray(0, 200).equals(pattern(500, 6).subarray(0, 200))).toBe(true);
    expect(cut.subarray(200).every((x) => x === 0)).toBe(true);
    expect(rowOf(fx.metaPath, f.ino)).toMatchObject({ size: 400, target: pattern(500, 6).subarray(0, 200) });
    await fs.setattr(ROOT, f, { size: 0 });
    expect(rowOf(fx.metaPath, f.ino)).toMatchObject({ size: 0, target: null });
    await fs.write(ROOT, f, 0, Buffer.from('again'), 'file_sync');
    await fs.setattr(ROOT, f, { size: 3 * MAX_INLINE_BYTES });
    const grown = await contents(fs, f);
    expect(grown.subarray(0, 5).toString()).toBe('again');
    expect(grown.subarray(5).every((x) => x === 0)).toBe(true);
    expect(rowOf(fx.metaPath, f.ino)).toMatchObject({ target: null, blocks: 1, extents: 1 });
    expect((await fs.fsck()).problems).toEqual([]);
  });

  it('concurrent writes, some past the limit, end as the same bytes as one after another', async () => {
    const { fs } = await setup();
    const f = await newFile(fs, 'f');
    const parts = [
      { offset: 0, data: pattern(700, 7) },
      { offset: 700, data: pattern(700, 8) },
      { offset: 1400, data: pattern(2000, 9) },
      { offset: 4000, data: pattern(100, 10) },
    ];
    await Promise.all(parts.map((p) => fs.write(ROOT, f, p.offset, p.data, 'unstable')));
    const model = Buffer.alloc(4100);
    for (const p of parts) p.data.copy(model, p.offset);
    expect((await contents(fs, f)).equals(model)).toBe(true);
    await fs.commit(f);
    expect((await fs.fsck()).problems).toEqual([]);
  });

  it('removing an inline file frees no blocks: no discard, no pending discard rows', async () => {
    const { fx, fs, store } = await setup();
    const f = await newFile(fs, 'f');
    await fs.write(ROOT, f, 0, pattern(100, 11), 'file_sync');
    const discards = store.discards;
    await fs.remove(ROOT, fs.root, 'f');
    (await fs.quiesce()).release();
    expect(store.discards).toBe(discards);
    const db = new Database(fx.metaPath, { readonly: true });
    expect(db.prepare('SELECT COUNT(*) AS n FROM pending_discards').get()).toEqual({ n: 0 });
    db.close();
  });

  it("a snapshot's metadata copy serves the inline data read-only", async () => {
    const { fx, fs, store } = await setup();
    const f = await newFile(fs, 'f');
    await fs.write(ROOT, f, 0, Buffer.from('in the row'), 'file_sync');
    const copy = join(fx.dir, 'snap.db');
    const q = await fs.quiesce();
    fs.copyMetadata(copy);
    q.release();
    await fs.write(ROOT, f, 0, Buffer.from('changed   '), 'file_sync');
    const snap = FileSystem.openReadOnly(copy, store);
    try {
      expect((await contents(snap, f)).toString()).toBe('in the row');
    } finally {
      await snap.close();
    }
    expect((await contents(fs, f)).toString()).toBe('changed   ');
  });

  it('a copy made before inline data (schema 2) opens read-only as it is, and fsck reads it', async () => {
    const { fx, fs, store } = await setup();
    const f = await newFile(fs, 'f');
    await fs.write(ROOT, f, 0, pattern(8192, 12), 'file_sync');
    const copy = join(fx.dir, 'old.db');
    const q = await fs.quiesce();
    fs.copyMetadata(copy);
    q.release();
    const db = new Database(copy);
    db.prepare('UPDATE schema_version SET version = 2').run();
    db.close();
    const snap = FileSystem.openReadOnly(copy, store);
    try {
      expect((await contents(snap, f)).equals(pattern(8192, 12))).toBe(true);
    } finally {
      await snap.close();
    }
    const check = new Database(copy, { readonly: true });
    expect(check.prepare('SELECT version FROM schema_version').get()).toEqual({ version: 2 });
    check.close();
    expect(FileSystem.fsck(copy).problems).toEqual([]);
  });

  it('fsck reports inline data beside blocks or past the size', async () => {
    const { fx, fs } = await setup();
    const a = await newFile(fs, 'a');
    const b = await newFile(fs, 'b');
    const c = await newFile(fs, 'c');
    await fs.write(ROOT, a, 0, Buffer.from('aaaa'), 'unstable');
    await fs.write(ROOT, b, 0, Buffer.from('bbbb'), 'unstable');
    await fs.write(ROOT, c, 0, pattern(10_000, 13), 'unstable');
    await fs.close();
    expect(FileSystem.fsck(fx.metaPath).problems).toEqual([]);
    const db = new Database(fx.metaPath);
    db.prepare('UPDATE inodes SET size = 2 WHERE ino = ?').run(a.ino);
    db.prepare("UPDATE inodes SET target = x'00' WHERE ino = ?").run(c.ino);
    db.close();
    const problems = FileSystem.fsck(fx.metaPath).problems;
    expect(problems.filter((p) => p.kind === 'inline-data').map((p) => p.ino).sort()).toEqual([a.ino, c.ino].sort());
    // What fsck reports the engine refuses nothing for: the file mounts and reads, fsck keeps saying so.
    fx.fs = await FileSystem.open(fx.metaPath, fx.store, { commitIntervalMs: 0 });
    expect((await contents(fx.fs, b)).toString()).toBe('bbbb');
  });
});
