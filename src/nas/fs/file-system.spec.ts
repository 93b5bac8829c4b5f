import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileSystem, MAX_FILE_SIZE } from './file-system';
import {
  ACCESS_ALL,
  ACCESS_DELETE,
  ACCESS_EXECUTE,
  ACCESS_EXTEND,
  ACCESS_LOOKUP,
  ACCESS_MODIFY,
  ACCESS_READ,
  FileType,
  type Credential,
  type NodeId,
} from './fs-types';
import { SCHEMA_VERSION } from './meta-db';
import { CrashStore } from './testing/crash-store';
import { errCode } from './testing/fs-expect';
import { ALICE, BOB, CAROL, makeFs, ROOT, type Fixture } from './testing/fs-fixture';

let fx: Fixture;
let fs: FileSystem;

beforeEach(async () => {
  fx = await makeFs({ storeSize: 16 * 1024 * 1024 });
  fs = fx.fs;
});

afterEach(async () => {
  await fx.cleanup();
});

async function file(cred: Credential, dir: NodeId, name: string, mode = 0o644): Promise<NodeId> {
  return (await fs.create(cred, dir, name, { mode: 'guarded', attrs: { mode } })).node;
}

async function dir(cred: Credential, parent: NodeId, name: string, mode = 0o755): Promise<NodeId> {
  return (await fs.mkdir(cred, parent, name, { mode })).node;
}

function names(cred: Credential, d: NodeId): string[] {
  return fs.readdir(cred, d, 0, undefined, { dots: false }).entries.map((e) => e.name).sort();
}

describe('mkfs and mount', () => {
  it('makes a root directory with the given mode and owner', async () => {
    const f = await makeFs({ root: { mode: 0o1755, uid: 7, gid: 8 } });
    try {
      const a = f.fs.getattr(f.fs.root);
      expect(a).toMatchObject({ type: FileType.DIR, mode: 0o1755, uid: 7, gid: 8, nlink: 2, ino: 1 });
      const st = f.fs.fsstat();
      expect(st.totalBytes).toBe(64 * 1024 * 1024);
      expect(st.freeBytes).toBe(st.totalBytes);
      expect(st.totalFiles).toBe(4096);
      expect(st.freeFiles).toBe(4095);
      expect(f.fs.info).toMatchObject({ blockSize: 4096, maxNameBytes: 255, readOnly: false });
      expect(f.fs.fsId).toMatch(/^[0-9a-f]{32}$/);
      const id = f.fs.fsId;
      expect((await f.remount()).fsId).toBe(id);
    } finally {
      await f.cleanup();
    }
  });

  it('refuses to make a filesystem over an existing database or with a bad block size', async () => {
    expect(await errCode(FileSystem.create(fx.metaPath, new CrashStore(1 << 20), { root: { mode: 0o755, uid: 0, gid: 0 } }))).toBe('EXIST');
    expect(await errCode(FileSystem.create(`${fx.dir}/b.db`, new CrashStore(1 << 20), { root: { mode: 0o755, uid: 0, gid: 0 }, blockSize: 3000 }))).toBe('INVAL');
    expect(await errCode(FileSystem.create(`${fx.dir}/c.db`, new CrashStore(1000), { root: { mode: 0o755, uid: 0, gid: 0 } }))).toBe('INVAL');
  });

  it('keeps every attribute to the nanosecond across a remount', async () => {
    const d = await dir(ALICE, fs.root, 'd', 0o750);
    const f = await file(ALICE, d, 'f', 0o640);
    await fs.write(ALICE, f, 5000, Buffer.from('data'), 'unstable');
    await fs.symlink(ALICE, d, 'l', '../elsewhere');
    await fs.setattr(ALICE, f, { atime: { sec: 1234, nsec: 567_890_123 } });
    const before = [fs.getattr(d), fs.getattr(f), fs.lookup(ALICE, d, 'l').attr];
    fs = await fx.remount();
    expect([fs.getattr(d), fs.getattr(f), fs.lookup(ALICE, d, 'l').attr]).toEqual(before);
    expect((await fs.read(ALICE, f, 5000, 10)).data.toString()).toBe('data');
    expect(fs.readlink(ALICE, fs.lookup(ALICE, d, 'l').node).target).toBe('../elsewhere');
  });

  it('migrates a version 1 database forward at open', async () => {
    const f = await file(ROOT, fs.root, 'f');
    await fs.close();
    const old = new Database(fx.metaPath);
    old.exec('DROP TABLE pending_discards; UPDATE schema_version SET version = 1');
    old.close();
    fx.fs = fs = await FileSystem.open(fx.metaPath, fx.store, { commitIntervalMs: 0 });
    expect(fs.getattr(f).ino).toBe(f.ino);
    await fs.remove(ROOT, fs.root, 'f'); // writes pending_discards
    await fs.close();
    const db = new Database(fx.metaPath, { readonly: true });
    expect(db.prepare('SELECT version FROM schema_version').get()).toEqual({ version: SCHEMA_VERSION });
    db.close();
    fx.fs = fs = await FileSystem.open(fx.metaPath, fx.store, { commitIntervalMs: 0 });
  });

  it('drops the unused cookie index at a read-write open, keeping the schema version, and lists directories in cookie order without it', async () => {
    // Created in the reverse of name order, then one removed and re-added: cookie order is neither name nor ino order.
    for (const n of ['e', 'd', 'c', 'b', 'a']) await file(ROOT, fs.root, n);
    await fs.remove(ROOT, fs.root, 'c');
    await file(ROOT, fs.root, 'c');
    const listed = () => fs.readdir(ROOT, fs.root, 0, undefined, { dots: false }).entries.map((e) => [e.name, e.cookie]);
    const before = listed();
    expect(before.map(([n]) => n)).toEqual(['e', 'd', 'b', 'a', 'c']);
    await fs.close();
    const cookieIndex = (db: Database.Database) => db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'dirents_by_cookie'`).get();
    const old = new Database(fx.metaPath);
    expect(cookieIndex(old)).toBeUndefined();
    // As a database written before it was dropped has it.
    old.exec('CREATE INDEX dirents_by_cookie ON dirents (dir, cookie)');
    old.close();
    const snap = FileSystem.openReadOnly(fx.metaPath, fx.store);
    expect(snap.readdir(ROOT, snap.root, 0, undefined, { dots: false }).entries.map((e) => [e.name, e.cookie])).toEqual(before);
    await snap.close();
    fx.fs = fs = await FileSystem.open(fx.metaPath, fx.store, { commitIntervalMs: 0 });
    expect(listed()).toEqual(before);
    await fs.close();
    const db = new Database(fx.metaPath, { readonly: true });
    expect(db.prepare('SELECT version FROM schema_version').get()).toEqual({ version: SCHEMA_VERSION });
    expect(cookieIndex(db)).toBeUndefined();
    db.close();
    expect(FileSystem.fsck(fx.metaPath).problems).toEqual([]);
    fx.fs = fs = await FileSystem.open(fx.metaPath, fx.store, { commitIntervalMs: 0 });
    expect(listed()).toEqual(before);
  });

  it('refuses a database written by a newer schema', async () => {
    await fs.close();
    const db = new Database(fx.metaPath);
    db.prepare('UPDATE schema_version SET version = 99').run();
    db.close();
    expect(await errCode(FileSystem.open(fx.metaPath, fx.store))).toBe('INVAL');
    fx.fs = await FileSystem.create(`${fx.dir}/other.db`, new CrashStore(1 << 20), { root: { mode: 0o755, uid: 0, gid: 0 } });
  });

  it('read-only: every change is ROFS, reads work, the database is not touched', async () => {
    const f = await file(ROOT, fs.root, 'f');
    await fs.write(ROOT, f, 0, Buffer.from('hello'), 'file_sync');
    await fs.close();
    const dbBytes = readFileSync(fx.metaPath);
    fx.fs = fs = await FileSystem.open(fx.metaPath, fx.store, { readOnly: true });
    expect(fs.info.readOnly).toBe(true);
    expect((await fs.read(ROOT, f, 0, 10)).data.toString()).toBe('hello');
    expect(names(ROOT, fs.root)).toEqual(['f']);
    expect(await errCode(fs.write(ROOT, f, 0, Buffer.from('x'), 'unstable'))).toBe('ROFS');
    expect(await errCode(fs.create(ROOT, fs.root, 'g', { mode: 'unchecked' }))).toBe('ROFS');
    expect(await errCode(fs.setattr(ROOT, f, { mode: 0 }))).toBe('ROFS');
    expect(await errCode(fs.remove(ROOT, fs.root, 'f'))).toBe('ROFS');
    expect(await errCode(fs.rename(ROOT, fs.root, 'f', fs.root, 'g'))).toBe('ROFS');
    expect(await errCode(fs.mkdir(ROOT, fs.root, 'd'))).toBe('ROFS');
    expect((await fs.commit(f)).verifier.length).toBe(8);
    await fs.close();
    expect(readFileSync(fx.metaPath).equals(dbBytes)).toBe(true);
  });

  it('refuses a second read-write mount of the same database in the process, and a missing one', async () => {
    await expect(FileSystem.open(fx.metaPath, fx.store)).rejects.toThrow(/already mounted/);
    expect(await errCode(FileSystem.open(`${fx.dir}/nope.db`, fx.store))).toBe('NOENT');
    const ro = await FileSystem.open(fx.metaPath, fx.store, { readOnly: true });
    expect(ro.getattr(ro.root).ino).toBe(1);
    await ro.close();
    fs = await fx.remount(); // close releases the mount
  });

  it('fails every call after close with IO', async () => {
    const f = await file(ROOT, fs.root, 'f');
    await fs.close();
    expect(await errCode(() => fs.getattr(f))).toBe('IO');
    expect(await errCode(fs.write(ROOT, f, 0, Buffer.from('x'), 'unstable'))).toBe('IO');
  });
});

describe('getattr and handles', () => {
  it('answers STALE for a removed object, a wrong generation and a nonsense inode', async () => {
    const f = await file(ROOT, fs.root, 'f');
    expect(fs.getByHandle(f.ino, f.gen).ino).toBe(f.ino);
    expect(await errCode(() => fs.getattr({ ino: f.ino, gen: f.gen + 1 }))).toBe('STALE');
    expect(await errCode(() => fs.getattr({ ino: 999_999, gen: 1 }))).toBe('STALE');
    expect(await errCode(() => fs.getattr({ ino: -3, gen: 1 }))).toBe('STALE');
    await fs.remove(ROOT, fs.root, 'f');
    expect(await errCode(() => fs.getattr(f))).toBe('STALE');
    expect(await errCode(fs.read(ROOT, f, 0, 1))).toBe('STALE');
  });

  it('reuses an inode number only with a new generation, so old handles stay STALE', async () => {
    const f = await file(ROOT, fs.root, 'f');
    await fs.remove(ROOT, fs.root, 'f');
    const g = await file(ROOT, fs.root, 'g');
    expect(g.ino).toBe(f.ino);
    expect(g.gen).not.toBe(f.gen);
    expect(await errCode(() => fs.getattr(f))).toBe('STALE');
    fs = await fx.remount();
    expect(await errCode(() => fs.getattr(f))).toBe('STALE');
    expect(fs.getattr(g).ino).toBe(g.ino);
  });

  it('hands out generations after a remount that no earlier mount used', async () => {
    const seen = new Set<number>();
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 5; i++) seen.add((await file(ROOT, fs.root, `r${round}-${i}`)).gen);
      fs.abort(); // even uncommitted generations must not come back
      fx.fs = fs = await FileSystem.open(fx.metaPath, fx.store, { commitIntervalMs: 0 });
    }
    expect(seen.size).toBe(15);
  });

  it('keeps the change attribute growing across remounts and crashes', async () => {
    const f = await file(ROOT, fs.root, 'f');
    const c1 = fs.getattr(f).change;
    await fs.setattr(ROOT, f, { mode: 0o600 });
    const c2 = fs.getattr(f).change;
    expect(c2).toBeGreaterThan(c1);
    await fs.write(ROOT, f, 0, Buffer.from('x'), 'unstable'); // not committed
    const c3 = fs.getattr(f).change;
    fs.abort();
    fx.fs = fs = await FileSystem.open(fx.metaPath, fx.store, { commitIntervalMs: 0 });
    expect(fs.getattr(f).change).toBe(c2);
    await fs.setattr(ROOT, f, { mode: 0o644 });
    expect(fs.getattr(f).change).toBeGreaterThan(c3);
  });
});

describe('setattr', () => {
  it('chmod: the owner and root may, others get PERM; the mode keeps 12 bits', async () => {
    const f = await file(ALICE, fs.root, 'f');
    expect((await fs.setattr(ALICE, f, { mode: 0o104755 })).after.mode).toBe(0o4755);
    expect(await errCode(fs.setattr(BOB, f, { mode: 0o777 }))).toBe('PERM');
    expect((await fs.setattr(ROOT, f, { mode: 0o600 })).after.mode).toBe(0o600);
  });

  it('chmod by a non-member of the group drops setgid', async () => {
    const f = await file(ROOT, fs.root, 'f');
    await fs.setattr(ROOT, f, { uid: ALICE.uid, gid: 4242 });
    expect((await fs.setattr(ALICE, f, { mode: 0o2755 })).after.mode).toBe(0o755);
    await fs.setattr(ROOT, f, { gid: ALICE.gid });
    expect((await fs.setattr(ALICE, f, { mode: 0o2755 })).after.mode).toBe(0o2755);
  });

  it('chown: only root changes the owner; the owner may give the file to a group it is in', async () => {
    const f = await file(ALICE, fs.root, 'f');
    expect(await errCode(fs.setattr(ALICE, f, { uid: BOB.uid }))).toBe('PERM');
    expect(await errCode(fs.setattr(ALICE, f, { gid: BOB.gid }))).toBe('PERM');
    expect(await errCode(fs.setattr(BOB, f, { gid: BOB.gid }))).toBe('PERM');
    expect(await errCode(fs.setattr(ALICE, f, { uid: ALICE.uid }))).toBe('OK'); // no change is no chown
    const alice2 = { ...ALICE, gids: [1000, 100] };
    expect((await fs.setattr(alice2, f, { gid: 100 })).after.gid).toBe(100);
    expect((await fs.setattr(ROOT, f, { uid: BOB.uid, gid: BOB.gid })).after).toMatchObject({ uid: BOB.uid, gid: BOB.gid });
  });

  it('chown clears setuid, and setgid when group-executable', async () => {
    const f = await file(ROOT, fs.root, 'f');
    await fs.setattr(ROOT, f, { mode: 0o6755 });
    expect((await fs.setattr(ROOT, f, { uid: ALICE.uid })).after.mode).toBe(0o755);
    await fs.setattr(ROOT, f, { mode: 0o6745 });
    expect((await fs.setattr(ROOT, f, { gid: 5 })).after.mode).toBe(0o2745);
  });

  it('size needs write permission (the owner always has it) and a regular file', async () => {
    const f = await file(ALICE, fs.root, 'f', 0o444);
    expect((await fs.setattr(ALICE, f, { size: 10 })).after.size).toBe(10);
    expect(await errCode(fs.setattr(BOB, f, { size: 0 }))).toBe('ACCES');
    await fs.setattr(ALICE, f, { mode: 0o666 });
    expect((await fs.setattr(BOB, f, { size: 3 })).after.size).toBe(3);
    const d = await dir(ALICE, fs.root, 'd');
    expect(await errCode(fs.setattr(ALICE, d, { size: 0 }))).toBe('ISDIR');
    const l = (await fs.symlink(ALICE, fs.root, 'l', 'x')).node;
    expect(await errCode(fs.setattr(ALICE, l, { size: 0 }))).toBe('INVAL');
    expect(await errCode(fs.setattr(ALICE, f, { size: MAX_FILE_SIZE + 1 }))).toBe('FBIG');
    expect(await errCode(fs.setattr(ALICE, f, { size: -1 }))).toBe('INVAL');
  });

  it('times: "now" needs ownership or write permission, a given time needs ownership', async () => {
    const f = await file(ALICE, fs.root, 'f', 0o644);
    expect(await errCode(fs.setattr(BOB, f, { mtime: 'server' }))).toBe('ACCES');
    expect(await errCode(fs.setattr(BOB, f, { mtime: { sec: 1, nsec: 0 } }))).toBe('PERM');
    await fs.setattr(ALICE, f, { mode: 0o666 });
    expect(await errCode(fs.setattr(BOB, f, { atime: 'server', mtime: 'server' }))).toBe('OK');
    expect(await errCode(fs.setattr(BOB, f, { mtime: { sec: 1, nsec: 0 } }))).toBe('PERM');
    const r = await fs.setattr(ALICE, f, { atime: { sec: 10, nsec: 20 }, mtime: { sec: 30, nsec: 999_999_999 } });
    expect(r.after.atime).toEqual({ sec: 10, nsec: 20 });
    expect(r.after.mtime).toEqual({ sec: 30, nsec: 999_999_999 });
    expect(await errCode(fs.setattr(ALICE, f, { mtime: { sec: 1, nsec: 1e9 } }))).toBe('INVAL');
  });

  it('a guard on ctime answers NOT_SYNC when it differs and changes nothing', async () => {
    const f = await file(ROOT, fs.root, 'f');
    const ctime = fs.getattr(f).ctime;
    expect(await errCode(fs.setattr(ROOT, f, { mode: 0o600 }, { sec: ctime.sec, nsec: ctime.nsec + 1 }))).toBe('NOT_SYNC');
    expect(fs.getattr(f).mode).toBe(0o644);
    expect((await fs.setattr(ROOT, f, { mode: 0o600 }, ctime)).after.mode).toBe(0o600);
  });

  it('reports pre-op size/mtime/ctime and bumps ctime and change; an empty setattr changes nothing', async () => {
    const f = await file(ROOT, fs.root, 'f');
    await fs.write(ROOT, f, 0, Buffer.alloc(100, 1), 'unstable');
    const a = fs.getattr(f);
    const r = await fs.setattr(ROOT, f, { size: 50 });
    expect(r.before).toEqual({ size: 100, mtime: a.mtime, ctime: a.ctime, change: a.change });
    expect(r.after.size).toBe(50);
    expect(r.after.change).toBeGreaterThan(a.change);
    expect(r.after.ctime).not.toEqual(a.ctime);
    expect(r.after.mtime).toEqual(r.after.ctime);
    const r2 = await fs.setattr(ROOT, f, {});
    expect(r2.after).toEqual(r.after);
    // Truncating to the size it has changes nothing either.
    expect((await fs.setattr(ROOT, f, { size: 50 })).after).toEqual(r.after);
  });

  it('a refused change leaves the other requested changes undone', async () => {
    const f = await file(ALICE, fs.root, 'f');
    expect(await errCode(fs.setattr(ALICE, f, { mode: 0o600, uid: 0 }))).toBe('PERM');
    expect(fs.getattr(f).mode).toBe(0o644);
  });
});

describe('lookup and access', () => {
  it("resolves names, '.', and '..' (the root's parent is itself)", async () => {
    const d = await dir(ROOT, fs.root, 'd');
    const f = await file(ROOT, d, 'f');
    expect(fs.lookup(ROOT, d, 'f').node).toEqual(f);
    expect(fs.lookup(ROOT, d, '.').node).toEqual(d);
    expect(fs.lookup(ROOT, d, '..').node).toEqual(fs.root);
    expect(fs.lookup(ROOT, fs.root, '..').node).toEqual(fs.root);
    expect(fs.lookup(ROOT, d, 'f').dir.ino).toBe(d.ino);
  });

  it('answers NOENT, NOTDIR, ACCES, NAMETOOLONG and INVAL', async () => {
    const d = await dir(ALICE, fs.root, 'd', 0o700);
    const f = await file(ALICE, d, 'f');
    expect(await errCode(() => fs.lookup(ALICE, d, 'nope'))).toBe('NOENT');
    expect(await errCode(() => fs.lookup(ALICE, f, 'x'))).toBe('NOTDIR');
    expect(await errCode(() => fs.lookup(BOB, d, 'f'))).toBe('ACCES');
    expect(await errCode(() => fs.lookup(ROOT, d, 'f'))).toBe('OK');
    expect(await errCode(() => fs.lookup(ALICE, d, 'é'.repeat(128)))).toBe('NAMETOOLONG'); // 256 bytes
    expect(await errCode(() => fs.lookup(ALICE, d, 'a'.repeat(255)))).toBe('NOENT');
    expect(await errCode(() => fs.lookup(ALICE, d, 'a/b'))).toBe('INVAL');
    expect(await errCode(() => fs.lookup(ALICE, d, ''))).toBe('INVAL');
  });

  it('search permission through the group class and supplementary groups', async () => {
    const d = await dir(ALICE, fs.root, 'd', 0o710);
    await file(ALICE, d, 'f');
    expect(await errCode(() => fs.lookup(CAROL, d, 'f'))).toBe('OK');
    expect(await errCode(() => fs.lookup(BOB, d, 'f'))).toBe('ACCES');
  });

  it('ACCESS reports what the mode grants, per class, the way knfsd maps it', async () => {
    const d = await dir(ALICE, fs.root, 'd', 0o751);
    const f = await file(ALICE, d, 'f', 0o754);
    expect(fs.access(ALICE, d, ACCESS_ALL).granted).toBe(ACCESS_READ | ACCESS_LOOKUP | ACCESS_MODIFY | ACCESS_EXTEND | ACCESS_DELETE);
    expect(fs.access(CAROL, d, ACCESS_ALL).granted).toBe(ACCESS_READ | ACCESS_LOOKUP);
    expect(fs.access(BOB, d, ACCESS_ALL).granted).toBe(ACCESS_LOOKUP);
    expect(fs.access(ALICE, f, ACCESS_ALL).granted).toBe(ACCESS_READ | ACCESS_MODIFY | ACCESS_EXTEND | ACCESS_EXECUTE);
    expect(fs.access(CAROL, f, ACCESS_ALL).granted).toBe(ACCESS_READ | ACCESS_EXECUTE);
    expect(fs.access(BOB, f, ACCESS_ALL).granted).toBe(ACCESS_READ);
    expect(fs.access(BOB, f, ACCESS_MODIFY).granted).toBe(0);
    expect(fs.access(ROOT, f, ACCESS_ALL).granted).toBe(ACCESS_READ | ACCESS_MODIFY | ACCESS_EXTEND | ACCESS_EXECUTE);
    await fs.setattr(ALICE, f, { mode: 0o644 });
    expect(fs.access(ROOT, f, ACCESS_EXECUTE).granted).toBe(0); // root executes only what someone may
  });
});

describe('create', () => {
  it('makes a file owned by the caller in its primary group', async () => {
    const r = await fs.create(ALICE, fs.root, 'f', { mode: 'guarded', attrs: { mode: 0o640 } });
    expect(r.attr).toMatchObject({ type: FileType.REG, mode: 0o640, uid: ALICE.uid, gid: ALICE.gid, nlink: 1, size: 0, used: 0 });
    expect(r.existed).toBe(false);
    expect(r.dir.after.mtime).not.toEqual(r.dir.before.mtime);
  });

  it('UNCHECKED returns an existing file, truncating it only when asked', async () => {
    const f = await file(ALICE, fs.root, 'f');
    await fs.write(ALICE, f, 0, Buffer.from('content'), 'unstable');
    const again = await fs.create(ALICE, fs.root, 'f', { mode: 'unchecked', attrs: { mode: 0o600 } });
    expect(again).toMatchObject({ node: f, existed: true });
    expect(again.attr).toMatchObject({ size: 7, mode: 0o644 });
    const trunc = await fs.create(ALICE, fs.root, 'f', { mode: 'unchecked', attrs: { size: 0 } });
    expect(trunc.attr.size).toBe(0);
    await dir(ALICE, fs.root, 'd');
    expect(await errCode(fs.create(ALICE, fs.root, 'd', { mode: 'unchecked' }))).toBe('EXIST');
  });

  it('GUARDED refuses an existing name', async () => {
    await file(ALICE, fs.root, 'f');
    expect(await errCode(fs.create(ALICE, fs.root, 'f', { mode: 'guarded' }))).toBe('EXIST');
  });

  it('EXCLUSIVE succeeds again for a retransmission with the same verifier, also after a remount', async () => {
    const v = Buffer.from('12345678');
    const r = await fs.create(ALICE, fs.root, 'f', { mode: 'exclusive', verifier: v });
    expect(r.attr.mode).toBe(0);
    const again = await fs.create(ALICE, fs.root, 'f', { mode: 'exclusive', verifier: Buffer.from('12345678') });
    expect(again.node).toEqual(r.node);
    expect(again.existed).toBe(true);
    expect(await errCode(fs.create(ALICE, fs.root, 'f', { mode: 'exclusive', verifier: Buffer.from('87654321') }))).toBe('EXIST');
    expect(await errCode(fs.create(ALICE, fs.root, 'x', { mode: 'exclusive', verifier: Buffer.from('1234') }))).toBe('INVAL');
    fs = await fx.remount();
    expect((await fs.create(ALICE, fs.root, 'f', { mode: 'exclusive', verifier: v })).node).toEqual(r.node);
    await file(ALICE, fs.root, 'g');
    expect(await errCode(fs.create(ALICE, fs.root, 'g', { mode: 'exclusive', verifier: v }))).toBe('EXIST');
  });

  it("a file created mode 0 can still be written by its owner (the NFS owner override), by nobody else", async () => {
    const r = await fs.create(ALICE, fs.root, 'f', { mode: 'exclusive', verifier: Buffer.alloc(8, 1) });
    expect(await errCode(fs.write(ALICE, r.node, 0, Buffer.from('x'), 'unstable'))).toBe('OK');
    expect(await errCode(fs.read(ALICE, r.node, 0, 1))).toBe('OK');
    expect(await errCode(fs.write(BOB, r.node, 0, Buffer.from('x'), 'unstable'))).toBe('ACCES');
    expect(await errCode(fs.read(BOB, r.node, 0, 1))).toBe('ACCES');
  });

  it('EXCLUSIVE4_1 applies the attributes it carries', async () => {
    const r = await fs.create(ALICE, fs.root, 'f', { mode: 'exclusive', verifier: Buffer.alloc(8, 2), attrs: { mode: 0o600 } });
    expect(r.attr.mode).toBe(0o600);
  });

  it('needs write and search permission on the directory', async () => {
    const d = await dir(ALICE, fs.root, 'd', 0o755);
    expect(await errCode(fs.create(BOB, d, 'f', { mode: 'unchecked' }))).toBe('ACCES');
    await fs.setattr(ALICE, d, { mode: 0o773 });
    expect(await errCode(fs.create(BOB, d, 'f', { mode: 'unchecked' }))).toBe('OK');
    await fs.setattr(ALICE, d, { mode: 0o776 });
    expect(await errCode(fs.create(BOB, d, 'g', { mode: 'unchecked' }))).toBe('ACCES');
    expect(await errCode(fs.create(ROOT, d, 'g', { mode: 'unchecked' }))).toBe('OK');
  });

  it("refuses bad names and a parent that is not a directory", async () => {
    const f = await file(ALICE, fs.root, 'f');
    expect(await errCode(fs.create(ALICE, f, 'x', { mode: 'unchecked' }))).toBe('NOTDIR');
    expect(await errCode(fs.create(ALICE, fs.root, '.', { mode: 'unchecked' }))).toBe('EXIST');
    expect(await errCode(fs.create(ALICE, fs.root, '..', { mode: 'unchecked' }))).toBe('EXIST');
    expect(await errCode(fs.create(ALICE, fs.root, 'a/b', { mode: 'unchecked' }))).toBe('INVAL');
    expect(await errCode(fs.create(ALICE, fs.root, 'x\0', { mode: 'unchecked' }))).toBe('INVAL');
    expect(await errCode(fs.create(ALICE, fs.root, 'n'.repeat(256), { mode: 'unchecked' }))).toBe('NAMETOOLONG');
    expect(await errCode(fs.create(ALICE, fs.root, 'n'.repeat(255), { mode: 'unchecked' }))).toBe('OK');
  });

  it('a setgid directory gives new files its group and new subdirectories its setgid bit', async () => {
    const d = await dir(ROOT, fs.root, 'd', 0o2777);
    await fs.setattr(ROOT, d, { gid: 555 });
    const f = await fs.create(ALICE, d, 'f', { mode: 'guarded', attrs: { mode: 0o644 } });
    expect(f.attr.gid).toBe(555);
    const sub = await fs.mkdir(ALICE, d, 'sub', { mode: 0o755 });
    expect(sub.attr).toMatchObject({ gid: 555, mode: 0o2755 });
  });

  it('owner and group at creation follow the chown rules', async () => {
    expect(await errCode(fs.create(ALICE, fs.root, 'f', { mode: 'guarded', attrs: { uid: BOB.uid } }))).toBe('PERM');
    const r = await fs.create(ROOT, fs.root, 'g', { mode: 'guarded', attrs: { uid: BOB.uid, gid: 77 } });
    expect(r.attr).toMatchObject({ uid: BOB.uid, gid: 77 });
  });

  it('answers NOSPC when the inode limit is reached', async () => {
    const f = await makeFs({ inodeLimit: 3 });
    try {
      await f.fs.create(ROOT, f.fs.root, 'a', { mode: 'unchecked' });
      await f.fs.create(ROOT, f.fs.root, 'b', { mode: 'unchecked' });
      expect(await errCode(f.fs.create(ROOT, f.fs.root, 'c', { mode: 'unchecked' }))).toBe('NOSPC');
      expect(f.fs.fsstat().freeFiles).toBe(0);
      await f.fs.remove(ROOT, f.fs.root, 'a');
      expect(await errCode(f.fs.create(ROOT, f.fs.root, 'c', { mode: 'unchecked' }))).toBe('OK');
    } finally {
      await f.cleanup();
    }
  });
});

describe('mkdir, symlink, mknod, readlink', () => {
  it('mkdir links the new directory both ways', async () => {
    const d = await fs.mkdir(ALICE, fs.root, 'd', { mode: 0o750 });
    expect(d.attr).toMatchObject({ type: FileType.DIR, nlink: 2, mode: 0o750, uid: ALICE.uid });
    expect(fs.getattr(fs.root).nlink).toBe(3);
    expect(fs.lookup(ALICE, d.node, '..').node).toEqual(fs.root);
    expect(await errCode(fs.mkdir(ALICE, fs.root, 'd'))).toBe('EXIST');
  });

  it('symlink stores the target as given; readlink of anything else is INVAL', async () => {
    const l = await fs.symlink(ALICE, fs.root, 'l', 'a/b/../c ü', { mode: 0o600 });
    expect(l.attr).toMatchObject({ type: FileType.LNK, mode: 0o777, size: Buffer.byteLength('a/b/../c ü') });
    expect(fs.readlink(BOB, l.node).target).toBe('a/b/../c ü');
    const f = await file(ALICE, fs.root, 'f');
    expect(await errCode(() => fs.readlink(ALICE, f))).toBe('INVAL');
    expect(await errCode(fs.symlink(ALICE, fs.root, 'm', 'x'.repeat(4097)))).toBe('NAMETOOLONG');
    expect(await errCode(fs.symlink(ALICE, fs.root, 'm', ''))).toBe('INVAL');
    expect(await errCode(fs.symlink(ALICE, fs.root, 'l', 'y'))).toBe('EXIST');
  });

  it('mknod makes fifos and sockets for anyone, device nodes for root only, nothing else', async () => {
    expect((await fs.mknod(ALICE, fs.root, 'p', FileType.FIFO, { mode: 0o600 })).attr.type).toBe(FileType.FIFO);
    expect((await fs.mknod(ALICE, fs.root, 's', FileType.SOCK)).attr.type).toBe(FileType.SOCK);
    expect(await errCode(fs.mknod(ALICE, fs.root, 'c', FileType.CHR, {}, { major: 1, minor: 3 }))).toBe('PERM');
    const c = await fs.mknod(ROOT, fs.root, 'c', FileType.CHR, { mode: 0o666 }, { major: 1, minor: 3 });
    expect(c.attr).toMatchObject({ type: FileType.CHR, rdev: { major: 1, minor: 3 } });
    expect(await errCode(fs.mknod(ROOT, fs.root, 'x', FileType.REG))).toBe('BADTYPE');
    expect(await errCode(fs.read(ROOT, c.node, 0, 1))).toBe('INVAL');
    fs = await fx.remount();
    expect(fs.getattr(c.node).rdev).toEqual({ major: 1, minor: 3 });
  });
});

describe('remove and rmdir', () => {
  it('remove unlinks a file, makes its handle STALE and gives its blocks back once committed', async () => {
    const f = await file(ALICE, fs.root, 'f');
    await fs.write(ALICE, f, 0, Buffer.alloc(40_000, 3), 'unstable');
    const free = fs.fsstat().freeBytes;
    const r = await fs.remove(ALICE, fs.root, 'f');
    expect(r.dir.after.mtime).not.toEqual(r.dir.before.mtime);
    expect(await errCode(() => fs.getattr(f))).toBe('STALE');
    expect(await errCode(() => fs.lookup(ALICE, fs.root, 'f'))).toBe('NOENT');
    expect(fs.fsstat().freeBytes).toBe(free + 40_960);
    expect(fs.fsstat().freeFiles).toBe(fs.fsstat().totalFiles - 1);
  });

  it('a file with another hard link keeps its data', async () => {
    const f = await file(ALICE, fs.root, 'f');
    await fs.write(ALICE, f, 0, Buffer.from('kept'), 'unstable');
    await fs.link(ALICE, f, fs.root, 'g');
    await fs.remove(ALICE, fs.root, 'f');
    expect(fs.getattr(f).nlink).toBe(1);
    expect((await fs.read(ALICE, fs.lookup(ALICE, fs.root, 'g').node, 0, 10)).data.toString()).toBe('kept');
  });

  it('answers ISDIR, NOENT, INVAL and ACCES', async () => {
    await dir(ALICE, fs.root, 'd');
    expect(await errCode(fs.remove(ALICE, fs.root, 'd'))).toBe('ISDIR');
    expect(await errCode(fs.remove(ALICE, fs.root, 'nope'))).toBe('NOENT');
    expect(await errCode(fs.remove(ALICE, fs.root, '.'))).toBe('INVAL');
    const d = await dir(ALICE, fs.root, 'e', 0o755);
    await file(ALICE, d, 'f');
    expect(await errCode(fs.remove(BOB, d, 'f'))).toBe('ACCES');
  });

  it('in a sticky directory only the file owner, the directory owner or root may remove', async () => {
    const t = await dir(ALICE, fs.root, 'tmp', 0o1777);
    await file(BOB, t, 'bobs');
    await file(CAROL, t, 'carols');
    await file(CAROL, t, 'carols2');
    expect(await errCode(fs.remove(CAROL, t, 'bobs'))).toBe('PERM');
    expect(await errCode(fs.rename(CAROL, t, 'bobs', t, 'mine'))).toBe('PERM');
    expect(await errCode(fs.rename(BOB, t, 'bobs', t, 'carols'))).toBe('PERM'); // would replace Carol's file
    expect(await errCode(fs.remove(BOB, t, 'bobs'))).toBe('OK');
    expect(await errCode(fs.remove(ALICE, t, 'carols'))).toBe('OK');
    expect(await errCode(fs.remove(ROOT, t, 'carols2'))).toBe('OK');
  });

  it('rmdir removes an empty directory only', async () => {
    const d = await dir(ALICE, fs.root, 'd');
    await file(ALICE, d, 'f');
    expect(await errCode(fs.rmdir(ALICE, fs.root, 'd'))).toBe('NOTEMPTY');
    await fs.remove(ALICE, d, 'f');
    expect(fs.getattr(fs.root).nlink).toBe(3);
    await fs.rmdir(ALICE, fs.root, 'd');
    expect(fs.getattr(fs.root).nlink).toBe(2);
    expect(await errCode(() => fs.getattr(d))).toBe('STALE');
    await file(ALICE, fs.root, 'f');
    expect(await errCode(fs.rmdir(ALICE, fs.root, 'f'))).toBe('NOTDIR');
    expect(await errCode(fs.rmdir(ALICE, fs.root, '.'))).toBe('INVAL');
    expect(await errCode(fs.rmdir(ALICE, fs.root, '..'))).toBe('NOTEMPTY');
    expect(await errCode(fs.rmdir(ALICE, fs.root, 'nope'))).toBe('NOENT');
  });
});

describe('rename', () => {
  it('renames within a directory; the entry gets a new cookie, the object keeps its handle', async () => {
    const f = await file(ALICE, fs.root, 'a');
    const cookie = fs.readdir(ALICE, fs.root, 0).entries.find((e) => e.name === 'a')!.cookie;
    const r = await fs.rename(ALICE, fs.root, 'a', fs.root, 'b');
    expect(r.fromDir).toEqual(r.toDir);
    expect(names(ALICE, fs.root)).toEqual(['b']);
    expect(fs.lookup(ALICE, fs.root, 'b').node).toEqual(f);
    expect(fs.readdir(ALICE, fs.root, 0).entries.find((e) => e.name === 'b')!.cookie).toBeGreaterThan(cookie);
  });

  it("moves a directory across parents, fixing '..' and link counts", async () => {
    const a = await dir(ALICE, fs.root, 'a');
    const b = await dir(ALICE, fs.root, 'b');
    const c = await dir(ALICE, a, 'c');
    const r = await fs.rename(ALICE, a, 'c', b, 'c2');
    expect(r.fromDir.after.nlink).toBe(2);
    expect(r.toDir.after.nlink).toBe(3);
    // NFSv4 change_info4 for both directories.
    expect(r.fromDir.after.change).toBeGreaterThan(r.fromDir.before.change!);
    expect(r.toDir.after.change).toBeGreaterThan(r.toDir.before.change!);
    expect(fs.lookup(ALICE, c, '..').node).toEqual(b);
    fs = await fx.remount();
    expect(fs.lookup(ALICE, c, '..').node).toEqual(b);
    expect((await fs.fsck()).clean).toBe(true);
  });

  it('replaces a file target (its handle goes STALE, its blocks free) and an empty directory target', async () => {
    const a = await file(ALICE, fs.root, 'a');
    const b = await file(ALICE, fs.root, 'b');
    await fs.write(ALICE, b, 0, Buffer.alloc(8192, 1), 'unstable');
    const free = fs.fsstat().freeBytes;
    await fs.rename(ALICE, fs.root, 'a', fs.root, 'b');
    expect(await errCode(() => fs.getattr(b))).toBe('STALE');
    expect(fs.lookup(ALICE, fs.root, 'b').node).toEqual(a);
    expect(fs.fsstat().freeBytes).toBe(free + 8192);
    const d1 = await dir(ALICE, fs.root, 'd1');
    const d2 = await dir(ALICE, fs.root, 'd2');
    await fs.rename(ALICE, fs.root, 'd1', fs.root, 'd2');
    expect(await errCode(() => fs.getattr(d2))).toBe('STALE');
    expect(fs.lookup(ALICE, fs.root, 'd2').node).toEqual(d1);
    expect(fs.getattr(fs.root).nlink).toBe(3);
  });

  it('refuses incompatible or non-empty targets and moving a directory into itself', async () => {
    const d = await dir(ALICE, fs.root, 'd');
    const e = await dir(ALICE, fs.root, 'e');
    await file(ALICE, e, 'x');
    await file(ALICE, fs.root, 'f');
    expect(await errCode(fs.rename(ALICE, fs.root, 'f', fs.root, 'd'))).toBe('ISDIR');
    expect(await errCode(fs.rename(ALICE, fs.root, 'd', fs.root, 'f'))).toBe('NOTDIR');
    expect(await errCode(fs.rename(ALICE, fs.root, 'd', fs.root, 'e'))).toBe('NOTEMPTY');
    const sub = await dir(ALICE, d, 'sub');
    expect(await errCode(fs.rename(ALICE, fs.root, 'd', sub, 'x'))).toBe('INVAL');
    expect(await errCode(fs.rename(ALICE, fs.root, 'd', d, 'x'))).toBe('INVAL');
    expect(await errCode(fs.rename(ALICE, fs.root, 'nope', fs.root, 'x'))).toBe('NOENT');
    expect(await errCode(fs.rename(ALICE, fs.root, '.', fs.root, 'x'))).toBe('INVAL');
    expect(await errCode(fs.rename(ALICE, fs.root, 'f', fs.root, '..'))).toBe('INVAL');
    expect((await fs.fsck()).clean).toBe(true);
  });

  it('does nothing when source and target are links to the same file', async () => {
    const f = await file(ALICE, fs.root, 'a');
    await fs.link(ALICE, f, fs.root, 'b');
    await fs.rename(ALICE, fs.root, 'a', fs.root, 'b');
    expect(names(ALICE, fs.root)).toEqual(['a', 'b']);
    expect(fs.getattr(f).nlink).toBe(2);
    await fs.rename(ALICE, fs.root, 'a', fs.root, 'a');
    expect(names(ALICE, fs.root)).toEqual(['a', 'b']);
  });

  it('needs write permission on both directories, and on a directory moved to a new parent', async () => {
    const mine = await dir(ALICE, fs.root, 'mine', 0o755);
    const open = await dir(ALICE, fs.root, 'open', 0o777);
    await file(ALICE, mine, 'f');
    expect(await errCode(fs.rename(BOB, mine, 'f', open, 'f'))).toBe('ACCES');
    await dir(ALICE, open, 'alices', 0o755);
    const bobs = await dir(BOB, fs.root, 'bobs', 0o777);
    expect(await errCode(fs.rename(BOB, open, 'alices', bobs, 'x'))).toBe('ACCES');
    expect(await errCode(fs.rename(BOB, open, 'alices', open, 'renamed'))).toBe('OK');
  });
});

describe('link', () => {
  it('adds a name and a link; refuses directories, taken names, removed files', async () => {
    const f = await file(ALICE, fs.root, 'f');
    const r = await fs.link(ALICE, f, fs.root, 'g');
    expect(r.attr.nlink).toBe(2);
    expect(fs.lookup(ALICE, fs.root, 'g').node).toEqual(f);
    const d = await dir(ALICE, fs.root, 'd');
    expect(await errCode(fs.link(ALICE, d, fs.root, 'dd'))).toBe('ISDIR');
    expect(await errCode(fs.link(ALICE, f, fs.root, 'g'))).toBe('EXIST');
    expect(await errCode(fs.link(ALICE, f, f, 'x'))).toBe('NOTDIR');
    expect(await errCode(fs.link(BOB, f, d, 'x'))).toBe('ACCES');
    fs.hold(f);
    await fs.remove(ALICE, fs.root, 'f');
    await fs.remove(ALICE, fs.root, 'g');
    expect(await errCode(fs.link(ALICE, f, fs.root, 'again'))).toBe('NOENT');
    await fs.release(f);
  });

  it('stops at the link limit with MLINK', async () => {
    const f = await makeFs({ syncMetadata: false });
    try {
      const a = (await f.fs.create(ROOT, f.fs.root, 'a', { mode: 'unchecked' })).node;
      // 65,000 links in memory: the limit itself, not a lower stand-in.
      f.fs.getattr(a);
      for (let i = 1; i < 65000; i++) await f.fs.link(ROOT, a, f.fs.root, `l${i}`);
      expect(f.fs.getattr(a).nlink).toBe(65000);
      expect(await errCode(f.fs.link(ROOT, a, f.fs.root, 'one-too-many'))).toBe('MLINK');
    } finally {
      await f.cleanup();
    }
  }, 120_000);
});

describe('readdir', () => {
  it("lists '.', '..' and entries in cookie order, page by page", async () => {
    const d = await dir(ALICE, fs.root, 'd');
    for (let i = 0; i < 25; i++) await file(ALICE, d, `f${i}`);
    const all = fs.readdir(ALICE, d, 0);
    expect(all.eof).toBe(true);
    expect(all.entries.slice(0, 2).map((e) => [e.name, e.cookie])).toEqual([
      ['.', 1],
      ['..', 2],
    ]);
    expect(all.entries[1].node).toEqual(fs.root);
    expect(all.entries.slice(2).map((e) => e.name)).toEqual(Array.from({ length: 25 }, (_, i) => `f${i}`));
    const paged: string[] = [];
    let cookie = 0;
    let verf: Buffer | undefined;
    for (;;) {
      const page = fs.readdir(ALICE, d, cookie, verf, { maxEntries: 4 });
      paged.push(...page.entries.map((e) => e.name));
      verf = page.verifier;
      if (page.eof) break;
      cookie = page.entries[page.entries.length - 1].cookie;
    }
    expect(paged).toEqual(all.entries.map((e) => e.name));
    expect(fs.readdir(ALICE, d, 0, undefined, { dots: false }).entries.length).toBe(25);
  });

  it('stops where the accept callback says, with eof false', async () => {
    for (let i = 0; i < 5; i++) await file(ALICE, fs.root, `f${i}`);
    let budget = 3;
    const r = fs.readdir(ALICE, fs.root, 0, undefined, { dots: false, accept: () => budget-- > 0 });
    expect(r.entries.map((e) => e.name)).toEqual(['f0', 'f1', 'f2']);
    expect(r.eof).toBe(false);
  });

  it('answers BAD_COOKIE for a cookie never handed out or a foreign verifier, NOTDIR and ACCES', async () => {
    const d = await dir(ALICE, fs.root, 'd', 0o711);
    await file(ALICE, d, 'f');
    const r = fs.readdir(ALICE, d, 0);
    const last = r.entries[r.entries.length - 1].cookie;
    expect(await errCode(() => fs.readdir(ALICE, d, last + 100, r.verifier))).toBe('BAD_COOKIE');
    expect(await errCode(() => fs.readdir(ALICE, d, last, Buffer.from('xxxxxxxx')))).toBe('BAD_COOKIE');
    expect(fs.readdir(ALICE, d, last, Buffer.alloc(8)).entries).toEqual([]); // a zero verifier is accepted
    expect(await errCode(() => fs.readdir(ALICE, fs.lookup(ALICE, d, 'f').node, 0))).toBe('NOTDIR');
    expect(await errCode(() => fs.readdir(BOB, d, 0))).toBe('ACCES');
  });

  it('cookies of entries stay put while others come and go, also across remounts', async () => {
    const d = await dir(ALICE, fs.root, 'd');
    for (let i = 0; i < 60; i++) await file(ALICE, d, `keep${i}`);
    for (let i = 0; i < 30; i++) await file(ALICE, d, `tmp${i}`);
    const cookies = new Map(fs.readdir(ALICE, d, 0, undefined, { dots: false }).entries.map((e) => [e.name, e.cookie]));
    // Walk in small pages while creating and removing between pages.
    const seen: string[] = [];
    let cookie = 0;
    let verf: Buffer | undefined;
    let n = 0;
    for (;;) {
      const page = fs.readdir(ALICE, d, cookie, verf, { maxEntries: 7, dots: false });
      seen.push(...page.entries.map((e) => e.name));
      if (page.eof) break;
      cookie = page.entries[page.entries.length - 1].cookie;
      verf = page.verifier;
      await fs.remove(ALICE, d, `tmp${n}`);
      await file(ALICE, d, `new${n}`);
      n++;
    }
    const kept = seen.filter((s) => s.startsWith('keep'));
    expect(kept.sort()).toEqual(Array.from({ length: 60 }, (_, i) => `keep${i}`).sort());
    expect(new Set(seen).size).toBe(seen.length);
    fs = await fx.remount();
    for (const e of fs.readdir(ALICE, d, 0, undefined, { dots: false }).entries) {
      if (e.name.startsWith('keep')) expect(e.cookie).toBe(cookies.get(e.name));
    }
  });

  it('a listing with cookies keeps working while concurrent creates and removes run', async () => {
    const d = await dir(ALICE, fs.root, 'd');
    for (let i = 0; i < 100; i++) await file(ALICE, d, `stable${i}`);
    let stop = false;
    const churn = (async () => {
      // Each new entry replaces the previous one, so listings can reach the end.
      for (let i = 0; !stop && i < 2000; i++) {
        await file(ALICE, d, `churn${i}`);
        if (i > 0) await fs.remove(ALICE, d, `churn${i - 1}`);
      }
    })();
    const seen = new Map<string, number>();
    for (let round = 0; round < 5; round++) {
      let cookie = 0;
      const names = new Set<string>();
      for (;;) {
        const page = fs.readdir(ALICE, d, cookie, undefined, { maxEntries: 9, dots: false });
        for (const e of page.entries) {
          expect(names.has(e.name)).toBe(false);
          names.add(e.name);
          if (seen.has(e.name)) expect(seen.get(e.name)).toBe(e.cookie);
          seen.set(e.name, e.cookie);
        }
        if (page.eof) break;
        cookie = page.entries[page.entries.length - 1].cookie;
        await new Promise(setImmediate);
      }
      for (let i = 0; i < 100; i++) expect(names.has(`stable${i}`)).toBe(true);
    }
    stop = true;
    await churn;
  });
});
