import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BlockAllocator } from './block-allocator';
import { FileSystem } from './file-system';
import type { NodeId } from './fs-types';
import type { FsckProblemKind, FsckReport } from './fsck';
import { errCode, pattern } from './testing/fs-expect';
import { makeFs, ROOT, type Fixture } from './testing/fs-fixture';

let fx: Fixture;
let a: NodeId;
let b: NodeId;
let d: NodeId;
let sub: NodeId;

beforeEach(async () => {
  fx = await makeFs({ storeSize: 16 * 1024 * 1024 });
  const fs = fx.fs;
  d = (await fs.mkdir(ROOT, fs.root, 'd')).node;
  sub = (await fs.mkdir(ROOT, d, 'sub')).node;
  a = (await fs.create(ROOT, d, 'a', { mode: 'guarded', attrs: { mode: 0o644 } })).node;
  b = (await fs.create(ROOT, fs.root, 'b', { mode: 'guarded', attrs: { mode: 0o644 } })).node;
  await fs.write(ROOT, a, 0, pattern(40_000, 1), 'unstable');
  await fs.write(ROOT, b, 0, pattern(20_000, 2), 'unstable');
  await fs.link(ROOT, b, sub, 'b-link');
  await fs.symlink(ROOT, sub, 'l', '../a');
  await fs.close();
});

afterEach(async () => {
  await fx.cleanup();
});

function tamper(sql: (db: Database.Database) => void): void {
  const db = new Database(fx.metaPath);
  try {
    sql(db);
  } finally {
    db.close();
  }
}

function kinds(r: FsckReport): FsckProblemKind[] {
  return [...new Set(r.problems.map((p) => p.kind))].sort();
}

function firstExtent(ino: number): { fblock: number; dblock: number; count: number } {
  const db = new Database(fx.metaPath, { readonly: true });
  try {
    return db.prepare('SELECT fblock, dblock, count FROM extents WHERE ino = ? ORDER BY fblock').get(ino) as { fblock: number; dblock: number; count: number };
  } finally {
    db.close();
  }
}

async function remountAndCheck(): Promise<FileSystem> {
  fx.fs = await FileSystem.open(fx.metaPath, fx.store, { commitIntervalMs: 0 });
  const report = await fx.fs.fsck();
  expect(report.problems).toEqual([]);
  return fx.fs;
}

describe('fsck', () => {
  it('passes a filesystem built by the engine, unmounted and mounted', async () => {
    const r = FileSystem.fsck(fx.metaPath);
    expect(r).toMatchObject({ clean: true, inodes: 6, directories: 3, files: 2, usedBlocks: 10 + 5 });
    const fs = await remountAndCheck();
    expect((await fs.read(ROOT, a, 0, 40_000)).data.equals(pattern(40_000, 1))).toBe(true);
  });

  it('finds a block owned twice; the engine refuses to mount it; repair leaves the first owner intact', async () => {
    const ea = firstExtent(a.ino);
    tamper((db) => {
      db.prepare('INSERT INTO extents VALUES (?, ?, ?, ?)').run(b.ino, 5, ea.dblock + 1, 1);
      db.prepare('UPDATE inodes SET size = ?, blocks = 6 WHERE ino = ?').run(6 * 4096, b.ino);
    });
    const r = FileSystem.fsck(fx.metaPath);
    expect(kinds(r)).toContain('duplicate-block');
    expect(r.problems.find((p) => p.kind === 'duplicate-block')?.detail).toMatch(new RegExp(`inode ${a.ino} and inode ${b.ino}`));
    expect(await errCode(FileSystem.open(fx.metaPath, fx.store))).toBe('IO');
    const fixed = FileSystem.fsck(fx.metaPath, { repair: true });
    expect(fixed.problems.every((p) => p.repaired)).toBe(true);
    expect(FileSystem.fsck(fx.metaPath).clean).toBe(true);
    const fs = await remountAndCheck();
    expect((await fs.read(ROOT, a, 0, 40_000)).data.equals(pattern(40_000, 1))).toBe(true);
  });

  it('finds a wrong link count and repairs it', async () => {
    tamper((db) => db.prepare('UPDATE inodes SET nlink = 5 WHERE ino = ?').run(b.ino));
    tamper((db) => db.prepare('UPDATE inodes SET nlink = 7 WHERE ino = ?').run(d.ino));
    const r = FileSystem.fsck(fx.metaPath, { repair: true });
    expect(r.problems.map((p) => [p.kind, p.ino])).toEqual([
      ['nlink', d.ino],
      ['nlink', b.ino],
    ]);
    const fs = await remountAndCheck();
    expect(fs.getattr(b).nlink).toBe(2);
    expect(fs.getattr(d).nlink).toBe(3);
  });

  it('finds a dangling entry and an entry in a missing directory; repair deletes them', async () => {
    tamper((db) => {
      db.prepare('INSERT INTO dirents VALUES (?, ?, ?, ?)').run(d.ino, 'ghost', 9999, 90);
      db.prepare('INSERT INTO dirents VALUES (?, ?, ?, ?)').run(8888, 'lost', b.ino, 3);
      db.prepare('UPDATE inodes SET next_cookie = 100 WHERE ino = ?').run(d.ino);
    });
    const r = FileSystem.fsck(fx.metaPath, { repair: true });
    expect(kinds(r)).toEqual(['dangling-entry', 'entry-in-non-directory']);
    const fs = await remountAndCheck();
    expect(await errCode(() => fs.lookup(ROOT, d, 'ghost'))).toBe('NOENT');
  });

  it('finds a file with no name that is not on the orphan list; after repair the next mount reclaims it', async () => {
    tamper((db) => db.prepare('DELETE FROM dirents WHERE ino = ?').run(a.ino));
    const r = FileSystem.fsck(fx.metaPath, { repair: true });
    expect(r.problems.map((p) => [p.kind, p.ino])).toEqual([['nlink', a.ino]]);
    expect(FileSystem.fsck(fx.metaPath).pendingOrphans).toEqual([a.ino]);
    const fs = await remountAndCheck();
    expect(await errCode(() => fs.getattr(a))).toBe('STALE');
    expect(fs.fsstat().freeBytes).toBe(fs.fsstat().totalBytes - 5 * 4096);
  });

  it('finds block counts, blocks past end of file and extents of non-files', async () => {
    tamper((db) => {
      db.prepare('UPDATE inodes SET blocks = 99 WHERE ino = ?').run(b.ino);
      db.prepare('UPDATE inodes SET size = 5000 WHERE ino = ?').run(a.ino);
      db.prepare('INSERT INTO extents VALUES (?, 0, 4000, 1)').run(sub.ino);
      db.prepare('INSERT INTO extents VALUES (7777, 0, 4001, 1)').run();
      db.prepare('INSERT INTO extents VALUES (?, 100, 999999, 1)').run(b.ino);
    });
    const r = FileSystem.fsck(fx.metaPath, { repair: true });
    expect(kinds(r)).toEqual(['block-out-of-range', 'blocks-past-eof', 'extent-not-file', 'extent-orphaned', 'used-mismatch']);
    const fs = await remountAndCheck();
    expect(fs.getattr(a)).toMatchObject({ size: 5000, used: 8192 });
    expect(fs.getattr(b).used).toBe(5 * 4096);
  });

  it("finds a directory whose '..' is wrong and duplicate cookies, and repairs both", async () => {
    tamper((db) => {
      db.prepare('UPDATE inodes SET parent = ? WHERE ino = ?').run(b.ino, sub.ino);
      const cookie = (db.prepare("SELECT cookie FROM dirents WHERE dir = ? AND name = 'a'").get(d.ino) as { cookie: number }).cookie;
      db.prepare("UPDATE dirents SET cookie = ? WHERE dir = ? AND name = 'sub'").run(cookie, d.ino);
    });
    const r = FileSystem.fsck(fx.metaPath, { repair: true });
    expect(kinds(r)).toEqual(['bad-parent', 'cookie']);
    const fs = await remountAndCheck();
    expect(fs.lookup(ROOT, sub, '..').node).toEqual(d);
    const cookies = fs.readdir(ROOT, d, 0).entries.map((e) => e.cookie);
    expect(new Set(cookies).size).toBe(cookies.length);
  });

  it('finds directories cut off from the root in a cycle', async () => {
    tamper((db) => {
      db.prepare("DELETE FROM dirents WHERE dir = 1 AND name = 'd'").run();
      db.prepare("INSERT INTO dirents VALUES (?, 'loop', ?, 50)").run(sub.ino, d.ino);
      db.prepare('UPDATE inodes SET next_cookie = 60 WHERE ino = ?').run(sub.ino);
      db.prepare('UPDATE inodes SET parent = ?, nlink = 3 WHERE ino = ?').run(sub.ino, d.ino);
      db.prepare('UPDATE inodes SET nlink = 3 WHERE ino = ?').run(sub.ino);
      db.prepare('UPDATE inodes SET nlink = 2 WHERE ino = 1').run();
    });
    const r = FileSystem.fsck(fx.metaPath);
    expect(kinds(r)).toEqual(['unreachable']);
    expect(r.problems.map((p) => p.ino).sort()).toEqual([d.ino, sub.ino].sort());
  });

  it('mounted: finds a free map that disagrees with the extents', async () => {
    const fs = await FileSystem.open(fx.metaPath, fx.store, { commitIntervalMs: 0 });
    fx.fs = fs;
    (fs as unknown as { alloc: BlockAllocator }).alloc.markUsed(3000, 2);
    const r = await fs.fsck();
    expect(r.problems).toEqual([{ kind: 'free-map', detail: expect.stringMatching(/block 3000 is used in memory but free/), repaired: false }]);
  });
});
