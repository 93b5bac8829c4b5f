import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Prng } from '../../common/prng';
import { FileSystem, MAX_FILE_SIZE, MAX_INLINE_BYTES, MAX_READ } from './file-system';
import { FileType, type BlockStore, type Credential, type NodeId } from './fs-types';
import { CrashStore } from './testing/crash-store';
import { errCode, pattern } from './testing/fs-expect';
import { ALICE, BOB, CAROL, makeFs, ROOT, type Fixture } from './testing/fs-fixture';
import { ramDisk } from './testing/ram-disk';

const KiB = 1024;
const MiB = 1024 * 1024;

const fixtures: Fixture[] = [];
async function setup(opts: Parameters<typeof makeFs>[0] = {}): Promise<{ fx: Fixture; fs: FileSystem }> {
  const fx = await makeFs({ storeSize: 32 * MiB, ...opts });
  fixtures.push(fx);
  return { fx, fs: fx.fs };
}

afterEach(async () => {
  for (const fx of fixtures.splice(0)) await fx.cleanup();
});

async function newFile(fs: FileSystem, name: string, cred: Credential = ROOT, mode = 0o644): Promise<NodeId> {
  return (await fs.create(cred, fs.root, name, { mode: 'guarded', attrs: { mode } })).node;
}

function extentRows(fx: Fixture, ino: number): Array<{ fblock: number; dblock: number; count: number }> {
  const db = new Database(fx.metaPath, { readonly: true });
  try {
    return db.prepare('SELECT fblock, dblock, count FROM extents WHERE ino = ? ORDER BY fblock').all(ino) as Array<{ fblock: number; dblock: number; count: number }>;
  } finally {
    db.close();
  }
}

describe('read and write', () => {
  it('reads back what was written at any offset, across blocks, with eof where the file ends', async () => {
    const { fs } = await setup();
    const f = await newFile(fs, 'f');
    const a = pattern(10_000, 1);
    const b = pattern(5_000, 2);
    await fs.write(ROOT, f, 3, a, 'unstable');
    await fs.write(ROOT, f, 7_000, b, 'unstable');
    const want = Buffer.alloc(12_000);
    a.copy(want, 3);
    b.copy(want, 7_000);
    const all = await fs.read(ROOT, f, 0, 100_000);
    expect(all.data.equals(want)).toBe(true);
    expect(all.eof).toBe(true);
    const mid = await fs.read(ROOT, f, 4095, 2);
    expect(mid.data.equals(want.subarray(4095, 4097))).toBe(true);
    expect(mid.eof).toBe(false);
    expect((await fs.read(ROOT, f, 11_999, 1)).eof).toBe(true);
    expect(await fs.read(ROOT, f, 12_000, 10)).toMatchObject({ data: Buffer.alloc(0), eof: true });
    expect(await fs.read(ROOT, f, 0, 0)).toMatchObject({ data: Buffer.alloc(0), eof: false });
    expect(fs.getattr(f)).toMatchObject({ size: 12_000, used: 3 * 4096 });
  });

  it('reads holes as zeros and allocates only written blocks', async () => {
    const { fs } = await setup();
    const f = await newFile(fs, 'f');
    await fs.write(ROOT, f, 10 * MiB + 10, Buffer.from('tail'), 'unstable');
    expect(fs.getattr(f)).toMatchObject({ size: 10 * MiB + 14, used: 4096 });
    const r = await fs.read(ROOT, f, 0, 10 * MiB + 14);
    expect(r.data.subarray(0, 10 * MiB + 10).every((x) => x === 0)).toBe(true);
    expect(r.data.subarray(10 * MiB + 10).toString()).toBe('tail');
  });

  it('a file larger than the store can exist as long as its blocks fit; one read returns at most MAX_READ', async () => {
    const { fs } = await setup({ storeSize: MiB });
    const f = await newFile(fs, 'f');
    await fs.setattr(ROOT, f, { size: 100 * 2 ** 30 });
    await fs.write(ROOT, f, 50 * 2 ** 30, Buffer.from('x'), 'file_sync');
    expect(fs.getattr(f).used).toBe(4096);
    const r = await fs.read(ROOT, f, 0, 2 ** 32);
    expect(r.data.length).toBe(MAX_READ);
    expect(r.eof).toBe(false);
  });

  it('truncate frees whole blocks and zeroes the tail of the last one; extending shows zeros', async () => {
    const { fs } = await setup();
    const f = await newFile(fs, 'f');
    await fs.write(ROOT, f, 0, pattern(20_000, 3), 'unstable');
    const free = fs.fsstat().freeBytes;
    await fs.setattr(ROOT, f, { size: 5_000 });
    expect(fs.getattr(f)).toMatchObject({ size: 5_000, used: 8192 });
    expect(fs.fsstat().freeBytes).toBe(free + 3 * 4096);
    await fs.setattr(ROOT, f, { size: 20_000 });
    const r = await fs.read(ROOT, f, 0, 20_000);
    expect(r.data.subarray(0, 5_000).equals(pattern(20_000, 3).subarray(0, 5_000))).toBe(true);
    expect(r.data.subarray(5_000).every((x) => x === 0)).toBe(true);
    await fs.setattr(ROOT, f, { size: 0 });
    expect(fs.getattr(f).used).toBe(0);
  });

  it('overwriting in place keeps the blocks', async () => {
    const { fx, fs } = await setup();
    const f = await newFile(fs, 'f');
    await fs.write(ROOT, f, 0, pattern(64 * KiB, 4), 'file_sync');
    const rows = extentRows(fx, f.ino);
    await fs.write(ROOT, f, 100, pattern(30_000, 5), 'file_sync');
    expect(extentRows(fx, f.ino)).toEqual(rows);
    expect(fs.getattr(f).used).toBe(64 * KiB);
  });

  it('a large sequential write lands in one extent; interleaved writers get runs of a whole page', async () => {
    const { fx, fs } = await setup({ store: new CrashStore(64 * MiB, MiB) });
    const f = await newFile(fs, 'f');
    for (let i = 0; i < 16; i++) await fs.write(ROOT, f, i * MiB, pattern(MiB, i), 'unstable');
    await fs.sync();
    expect(extentRows(fx, f.ino)).toEqual([{ fblock: 0, dblock: 0, count: 4096 }]);
    // Unaligned sequential chunks (as a client's 1 MB writes) stay in one extent too.
    const u = await newFile(fs, 'u');
    for (let pos = 0; pos < 4 * MiB; pos += 1_000_000) await fs.write(ROOT, u, pos, pattern(1_000_000, pos), 'unstable');
    await fs.sync();
    expect(extentRows(fx, u.ino).length).toBe(1);
    const a = await newFile(fs, 'a');
    const b = await newFile(fs, 'b');
    for (let i = 0; i < 8; i++) {
      await Promise.all([fs.write(ROOT, a, i * MiB, pattern(MiB, 100 + i), 'unstable'), fs.write(ROOT, b, i * MiB, pattern(MiB, 200 + i), 'unstable')]);
    }
    await fs.sync();
    for (const x of [a, b]) for (const e of extentRows(fx, x.ino)) expect(e.count).toBeGreaterThanOrEqual(256);
    expect((await fs.read(ROOT, b, 5 * MiB, MiB)).data.equals(pattern(MiB, 205))).toBe(true);
  });

  it('concurrent writes into the same new block all land', async () => {
    const store = new CrashStore(8 * MiB);
    const prng = new Prng(11);
    store.jitter = () => prng.int(0, 4);
    const { fs } = await setup({ store });
    const f = await newFile(fs, 'f');
    const model = Buffer.alloc(64 * KiB);
    // Each round: 10 writes in flight at once, in disjoint 6 KiB slots that share blocks at their edges
    // (overlapping writes in flight together have no defined order, for a client either).
    for (let round = 0; round < 20; round++) {
      const slots = Array.from({ length: 10 }, (_, j) => j).sort(() => prng.next() - 0.5);
      await Promise.all(
        slots.map((slot, j) => {
          const off = slot * 6 * KiB + prng.int(0, 3 * KiB);
          const len = prng.int(1, slot * 6 * KiB + 6 * KiB - off + 1);
          const data = pattern(len, round * 10 + j + 1);
          data.copy(model, off);
          return fs.write(ROOT, f, off, data, 'unstable');
        }),
      );
    }
    // Disjoint halves of fresh blocks, all at once.
    const g = await newFile(fs, 'g');
    const parts = Array.from({ length: 16 }, (_, i) => pattern(2048, 500 + i));
    await Promise.all(parts.map((p, i) => fs.write(ROOT, g, i * 2048, p, 'unstable')));
    expect((await fs.read(ROOT, g, 0, 32 * KiB)).data.equals(Buffer.concat(parts))).toBe(true);
    const size = fs.getattr(f).size;
    expect((await fs.read(ROOT, f, 0, size)).data.equals(model.subarray(0, size))).toBe(true);
    expect((await fs.fsck()).clean).toBe(true);
  });

  it('a write past EOF zeroes the gap in the old last block even if it held stale bytes', async () => {
    const store = new CrashStore(8 * MiB);
    const { fx, fs } = await setup({ store });
    const f = await newFile(fs, 'f');
    // Past the inline limit, then cut to 3 bytes: a file with a block (an inline file has none to hold stale bytes).
    const first = Buffer.alloc(MAX_INLINE_BYTES + 1);
    first.write('abc');
    await fs.write(ROOT, f, 0, first, 'file_sync');
    await fs.setattr(ROOT, f, { size: 3 });
    const [row] = extentRows(fx, f.ino);
    // As after a crash that lost a size update: bytes past EOF in the block.
    store.bytes.fill(0x77, row.dblock * 4096 + 3, row.dblock * 4096 + 4096);
    await fs.write(ROOT, f, 100, Buffer.from('xyz'), 'unstable');
    const r = await fs.read(ROOT, f, 0, 103);
    expect(r.data.subarray(3, 100).every((x) => x === 0)).toBe(true);
    store.bytes.fill(0x77, row.dblock * 4096 + 103, row.dblock * 4096 + 4096);
    await fs.setattr(ROOT, f, { size: 4000 });
    expect((await fs.read(ROOT, f, 103, 4000)).data.every((x) => x === 0)).toBe(true);
  });

  it('permissions: owner always, group and other by mode, read with execute only, root always', async () => {
    const { fs } = await setup();
    const f = await newFile(fs, 'f', ALICE, 0o640);
    expect(await errCode(fs.read(CAROL, f, 0, 1))).toBe('OK');
    expect(await errCode(fs.write(CAROL, f, 0, Buffer.from('x'), 'unstable'))).toBe('ACCES');
    expect(await errCode(fs.read(BOB, f, 0, 1))).toBe('ACCES');
    await fs.setattr(ALICE, f, { mode: 0o711 });
    expect(await errCode(fs.read(BOB, f, 0, 1))).toBe('OK');
    expect(await errCode(fs.write(ROOT, f, 0, Buffer.from('x'), 'unstable'))).toBe('OK');
    await fs.setattr(ALICE, f, { mode: 0o000 });
    expect(await errCode(fs.write(ALICE, f, 0, Buffer.from('x'), 'unstable'))).toBe('OK');
  });

  it('refuses directories, other types, bad ranges and sizes past the limit', async () => {
    const { fs } = await setup();
    const d = (await fs.mkdir(ROOT, fs.root, 'd')).node;
    const l = (await fs.symlink(ROOT, fs.root, 'l', 'x')).node;
    const p = (await fs.mknod(ROOT, fs.root, 'p', FileType.FIFO)).node;
    const f = await newFile(fs, 'f');
    expect(await errCode(fs.write(ROOT, d, 0, Buffer.from('x'), 'unstable'))).toBe('ISDIR');
    expect(await errCode(fs.read(ROOT, d, 0, 1))).toBe('ISDIR');
    expect(await errCode(fs.write(ROOT, l, 0, Buffer.from('x'), 'unstable'))).toBe('INVAL');
    expect(await errCode(fs.read(ROOT, p, 0, 1))).toBe('INVAL');
    expect(await errCode(fs.write(ROOT, f, -1, Buffer.from('x'), 'unstable'))).toBe('INVAL');
    expect(await errCode(fs.read(ROOT, f, 1.5, 1))).toBe('INVAL');
    expect(await errCode(fs.write(ROOT, f, MAX_FILE_SIZE, Buffer.from('x'), 'unstable'))).toBe('FBIG');
  });

  it('answers NOSPC without allocating anything when the blocks do not fit', async () => {
    const { fs } = await setup({ storeSize: MiB });
    const f = await newFile(fs, 'f');
    await fs.write(ROOT, f, 0, Buffer.alloc(512 * KiB, 1), 'unstable');
    const free = fs.fsstat().freeBytes;
    expect(await errCode(fs.write(ROOT, f, 512 * KiB, Buffer.alloc(MiB, 2), 'unstable'))).toBe('NOSPC');
    expect(fs.fsstat().freeBytes).toBe(free);
    expect(fs.getattr(f).size).toBe(512 * KiB);
    expect(await errCode(fs.write(ROOT, f, 512 * KiB, Buffer.alloc(free, 2), 'file_sync'))).toBe('OK');
    expect(fs.fsstat().freeBytes).toBe(0);
  });

  it('a write failure gives the new blocks back and leaves the file as it was', async () => {
    const store = new CrashStore(8 * MiB);
    const { fs } = await setup({ store });
    const f = await newFile(fs, 'f');
    await fs.write(ROOT, f, 0, Buffer.from('before'), 'file_sync');
    const free = fs.fsstat().freeBytes;
    store.failWrites = true;
    expect(await errCode(fs.write(ROOT, f, 4096, Buffer.alloc(64 * KiB, 9), 'unstable'))).toBe('IO');
    store.failWrites = false;
    expect(fs.fsstat().freeBytes).toBe(free);
    expect(fs.getattr(f).size).toBe(6);
    expect((await fs.fsck()).clean).toBe(true);
  });

  it('a write by someone other than root drops setuid and group-executable setgid', async () => {
    const { fs } = await setup();
    const f = await newFile(fs, 'f', ALICE, 0o6777);
    await fs.write(ALICE, f, 0, Buffer.from('x'), 'unstable');
    expect(fs.getattr(f).mode).toBe(0o777);
    await fs.setattr(ROOT, f, { mode: 0o6777 });
    await fs.write(ROOT, f, 0, Buffer.from('x'), 'unstable');
    expect(fs.getattr(f).mode).toBe(0o6777);
  });

  it('updates atime like relatime: once after a change, not on every read', async () => {
    let now = 1_000_000;
    const { fs } = await setup({ now: () => ({ sec: now, nsec: 0 }) });
    const f = await newFile(fs, 'f');
    now++;
    await fs.write(ROOT, f, 0, Buffer.from('x'), 'unstable');
    now++;
    await fs.read(ROOT, f, 0, 1);
    const atime = fs.getattr(f).atime;
    expect(atime.sec).toBe(now);
    now++;
    await fs.read(ROOT, f, 0, 1);
    expect(fs.getattr(f).atime).toEqual(atime);
    now += 24 * 3600;
    await fs.read(ROOT, f, 0, 1);
    expect(fs.getattr(f).atime.sec).toBe(now);
  });
});

describe('stability and the write verifier', () => {
  it('reports unstable and file_sync truthfully; the verifier holds for a mount and changes with the next', async () => {
    const { fx, fs } = await setup();
    const f = await newFile(fs, 'f');
    const u = await fs.write(ROOT, f, 0, Buffer.from('a'), 'unstable');
    const d = await fs.write(ROOT, f, 1, Buffer.from('b'), 'data_sync');
    const s = await fs.write(ROOT, f, 2, Buffer.from('c'), 'file_sync');
    expect([u.committed, d.committed, s.committed]).toEqual(['unstable', 'file_sync', 'file_sync']);
    expect(u.verifier.length).toBe(8);
    expect(d.verifier).toEqual(u.verifier);
    expect((await fs.commit(f)).verifier).toEqual(u.verifier);
    const fs2 = await fx.remount();
    expect(fs2.verifier).not.toEqual(u.verifier);
  });

  it('FILE_SYNC and committed data survive a power loss; unstable data may not', async () => {
    const store = new CrashStore(8 * MiB);
    const { fx, fs } = await setup({ store });
    const f = await newFile(fs, 'f');
    await fs.write(ROOT, f, 0, pattern(10_000, 1), 'file_sync');
    const g = await newFile(fs, 'g');
    await fs.write(ROOT, g, 0, pattern(10_000, 2), 'unstable');
    await fs.commit(g);
    const h = await newFile(fs, 'h');
    await fs.write(ROOT, h, 0, pattern(10_000, 3), 'unstable');
    fs.abort();
    const after = store.crash(new Prng(5));
    const fs2 = await FileSystem.open(fx.metaPath, after, { commitIntervalMs: 0 });
    fx.fs = fs2;
    expect((await fs2.read(ROOT, f, 0, 10_000)).data.equals(pattern(10_000, 1))).toBe(true);
    expect((await fs2.read(ROOT, g, 0, 10_000)).data.equals(pattern(10_000, 2))).toBe(true);
    expect(fs2.getattr(h).size).toBe(0);
    expect((await fs2.fsck()).clean).toBe(true);
  });

  it('a failed flush fails the commit with IO and changes the verifier; the batch is retried and lands', async () => {
    const store = new CrashStore(8 * MiB);
    const { fx, fs } = await setup({ store });
    const f = await newFile(fs, 'f');
    const w = await fs.write(ROOT, f, 0, pattern(5000, 7), 'unstable');
    store.failFlush = true;
    expect(await errCode(fs.commit(f))).toBe('IO');
    expect(fs.verifier).not.toEqual(w.verifier);
    store.failFlush = false;
    const c = await fs.commit(f);
    expect(c.verifier).toEqual(fs.verifier);
    fs.abort();
    fx.fs = await FileSystem.open(fx.metaPath, store.crash(new Prng(1)), { commitIntervalMs: 0 });
    expect((await fx.fs.read(ROOT, f, 0, 5000)).data.equals(pattern(5000, 7))).toBe(true);
  });

  it('a namespace commit defers rows of fresh unstable blocks, and flushes them when it must write those rows', async () => {
    const old = Buffer.alloc(8 * MiB, 0xee);
    const store = new CrashStore(8 * MiB, 64 * KiB, old);
    const { fx, fs } = await setup({ store });
    const f = await newFile(fs, 'f');
    const g = await newFile(fs, 'g');
    await fs.write(ROOT, f, 0, pattern(40_000, 1), 'unstable');
    await fs.write(ROOT, g, 0, pattern(40_000, 2), 'unstable');
    const flushes = store.flushes;
    // A create commits f's and g's new sizes but not their fresh blocks: no flush needed.
    await fs.create(ROOT, fs.root, 'h', { mode: 'unchecked' });
    expect(store.flushes).toBe(flushes);
    // Truncating f rewrites its rows, fresh blocks included: those must be flushed first.
    await fs.setattr(ROOT, f, { size: 30_000 });
    expect(store.flushes).toBe(flushes + 1);
    fs.abort();
    fx.fs = await FileSystem.open(fx.metaPath, store.crash(), { commitIntervalMs: 0 });
    expect((await fx.fs.read(ROOT, f, 0, 30_000)).data.equals(pattern(40_000, 1).subarray(0, 30_000))).toBe(true);
    // g: its size made it, its unstable data did not, and it reads as zeros, not old bytes.
    const gd = await fx.fs.read(ROOT, g, 0, 40_000);
    expect(gd.data.length).toBe(40_000);
    expect(gd.data.equals(pattern(40_000, 2)) || gd.data.every((x) => x === 0)).toBe(true);
    expect((await fx.fs.fsck()).problems).toEqual([]);
  });

  // 100 bytes stay inline (in the inode row): nothing reaches the store, so even the final sync flushes nothing.
  it.each([
    [100, 0],
    [4096, 1],
  ])('create + unstable write of %i bytes, one at a time: one commit each, no data flush, a bounded amount of SQL', async (bytes, syncFlushes) => {
    const { fs } = await setup();
    const before = fs.stats();
    for (let i = 0; i < 300; i++) {
      const f = await newFile(fs, `f${i}`);
      await fs.write(ROOT, f, 0, Buffer.alloc(bytes, 1), 'unstable');
    }
    const after = fs.stats();
    expect(after.commits - before.commits).toBe(300);
    expect(after.flushes - before.flushes).toBe(0);
    // A dirent, the new inode, the directory, the previous file's new size: files with deferred blocks are not rewritten each time.
    expect(after.sqlOps - before.sqlOps).toBeLessThanOrEqual(300 * 4);
    await fs.sync();
    expect(fs.stats().flushes - after.flushes).toBe(syncFlushes);
  });

  it('zeros past a truncation reach the store before the size change commits', async () => {
    const store = new CrashStore(8 * MiB, 64 * KiB, Buffer.alloc(8 * MiB, 0xee));
    const { fx, fs } = await setup({ store });
    const f = await newFile(fs, 'f');
    await fs.write(ROOT, f, 0, pattern(10_000, 1), 'file_sync');
    await fs.setattr(ROOT, f, { size: 5_000 });
    await fs.setattr(ROOT, f, { size: 10_000 });
    fs.abort();
    fx.fs = await FileSystem.open(fx.metaPath, store.crash(), { commitIntervalMs: 0 });
    const r = await fx.fs.read(ROOT, f, 0, 10_000);
    expect(r.data.subarray(0, 5_000).equals(pattern(10_000, 1).subarray(0, 5_000))).toBe(true);
    expect(r.data.subarray(5_000).every((x) => x === 0)).toBe(true);
  });

  it('group commit: many concurrent FILE_SYNC writes share a few commits', async () => {
    const { fs } = await setup();
    const files = await Promise.all(Array.from({ length: 64 }, (_, i) => newFile(fs, `f${i}`)));
    const commits = fs.stats().commits;
    const results = await Promise.all(files.map((f, i) => fs.write(ROOT, f, 0, pattern(100, i), 'file_sync')));
    expect(results.every((r) => r.committed === 'file_sync')).toBe(true);
    expect(fs.stats().commits - commits).toBeLessThanOrEqual(4);
  });

  it('new blocks are flushed before the metadata that points at them commits', async () => {
    const inner = new CrashStore(16 * MiB);
    const { fx } = await setup({ store: inner });
    let fs = fx.fs;
    await fs.close();
    const probe = new Database(fx.metaPath, { readonly: true });
    /** Store blocks the committed extent rows gave each file, as of the last check. */
    let owned = new Set<string>();
    let newlyOwned = 0;
    const violations: string[] = [];
    /** Blocks written since the last flush that completed. */
    const unflushed = new Set<number>();
    const check = () => {
      const now = new Set<string>();
      for (const r of probe.prepare('SELECT ino, dblock, count FROM extents').all() as Array<{ ino: number; dblock: number; count: number }>) {
        for (let b = r.dblock; b < r.dblock + r.count; b++) {
          const key = `${r.ino}:${b}`;
          now.add(key);
          if (owned.has(key)) continue;
          newlyOwned++;
          // A block a file did not own before must hold its data durably before the row commits.
          if (unflushed.has(b)) violations.push(key);
        }
      }
      owned = now;
    };
    const store: BlockStore = {
      size: inner.size,
      pageSize: inner.pageSize,
      readInto: (o, t) => inner.readInto(o, t),
      async write(o, d) {
        check();
        await inner.write(o, d);
        for (let b = Math.floor(o / 4096); b < Math.ceil((o + d.length) / 4096); b++) unflushed.add(b);
      },
      async flush() {
        check();
        const covered = [...unflushed];
        await inner.flush();
        for (const b of covered) unflushed.delete(b);
      },
      async discard(o, l) {
        check();
        await inner.discard(o, l);
      },
    };
    fs = fx.fs = await FileSystem.open(fx.metaPath, store, { commitIntervalMs: 0 });
    const prng = new Prng(3);
    const files = await Promise.all(Array.from({ length: 8 }, (_, i) => newFile(fs, `f${i}`)));
    for (let round = 0; round < 40; round++) {
      const ops: Promise<unknown>[] = files.map((f, i) => {
        const off = prng.int(0, 2 * MiB);
        const stable = prng.next() < 0.3 ? 'file_sync' : 'unstable';
        return fs.write(ROOT, f, off, pattern(prng.int(1, 200 * KiB), round * 10 + i), stable);
      });
      if (round % 7 === 0) ops.push(fs.setattr(ROOT, files[round % 8], { size: prng.int(0, MiB) }));
      await Promise.all(ops);
      check();
    }
    await fs.sync();
    check();
    probe.close();
    expect(newlyOwned).toBeGreaterThan(1000);
    expect(violations).toEqual([]);
  });
});

describe('space goes back to the pool', () => {
  it('removing or truncating a file discards its whole pages on the thin logical disk', async () => {
    const env = ramDisk(16 * MiB, 64 * KiB);
    const { fs } = await setup({ store: env.disk });
    const small = await newFile(fs, 'small');
    // Past the inline limit, so the small file has a block on the disk.
    await fs.write(ROOT, small, MAX_INLINE_BYTES, Buffer.from('stays'), 'file_sync');
    const f = await newFile(fs, 'f');
    await fs.write(ROOT, f, 0, pattern(2 * MiB, 1), 'file_sync');
    const mapped = env.disk.allocatedPages;
    expect(mapped).toBeGreaterThanOrEqual(32);
    await fs.setattr(ROOT, f, { size: MiB });
    (await fs.quiesce()).release();
    expect(env.disk.allocatedPages).toBeLessThanOrEqual(mapped - 15);
    await fs.remove(ROOT, fs.root, 'f');
    (await fs.quiesce()).release();
    // Only the page holding the small file's block stays mapped.
    expect(env.disk.allocatedPages).toBe(1);
    expect((await fs.read(ROOT, small, MAX_INLINE_BYTES, 5)).data.toString()).toBe('stays');
    expect((await fs.fsck()).clean).toBe(true);
  });

  it('discards a crash interrupted are done at the next mount; bytes outside the filesystem are left alone', async () => {
    const store = new CrashStore(8 * MiB, 64 * KiB);
    const { fx, fs } = await setup({ store });
    const f = await newFile(fs, 'f');
    await fs.write(ROOT, f, 0, pattern(256 * KiB, 1), 'file_sync');
    const [row] = extentRows(fx, f.ino);
    store.pauseDiscards();
    await fs.remove(ROOT, fs.root, 'f');
    fs.abort();
    const after = store.crash();
    const where = row.dblock * 4096;
    expect(after.bytes.subarray(where, where + 256 * KiB).equals(pattern(256 * KiB, 1))).toBe(true);
    // Bytes someone put on the volume past anything the filesystem uses.
    after.bytes.fill(0x42, 7 * MiB, 7 * MiB + 4096);
    fx.fs = await FileSystem.open(fx.metaPath, after, { commitIntervalMs: 0 });
    expect(after.discards).toBeGreaterThan(0);
    expect(after.bytes.subarray(where, where + 256 * KiB).every((x) => x === 0)).toBe(true);
    expect(after.bytes[7 * MiB]).toBe(0x42);
    const db = new Database(fx.metaPath, { readonly: true });
    expect(db.prepare('SELECT COUNT(*) AS n FROM pending_discards').get()).toEqual({ n: 0 });
    db.close();
    // trimOnOpen discards every wholly free page, those bytes included.
    await fx.fs.close();
    fx.fs = await FileSystem.open(fx.metaPath, after, { commitIntervalMs: 0, trimOnOpen: true });
    expect(after.bytes[7 * MiB]).toBe(0);
  });

  it('a freed block is given to another file only after the freeing commit reached the disk', async () => {
    const { fs } = await setup({ storeSize: 64 * KiB, syncMetadata: false });
    const a = await newFile(fs, 'a');
    await fs.write(ROOT, a, 0, Buffer.alloc(64 * KiB, 0xaa), 'unstable');
    await fs.sync();
    await fs.remove(ROOT, fs.root, 'a'); // committed, not synced: the blocks stay taken
    expect(fs.fsstat().freeBytes).toBe(0);
    const b = await newFile(fs, 'b');
    const syncs = fs.stats().syncs;
    // Out of blocks, the write has the removal synced first, then takes its blocks.
    expect(await errCode(fs.write(ROOT, b, 0, Buffer.alloc(4096, 0xbb), 'unstable'))).toBe('OK');
    expect(fs.stats().syncs).toBeGreaterThan(syncs);
    // With nothing left to reclaim, a write that does not fit is NOSPC.
    expect(await errCode(fs.write(ROOT, b, 4096, Buffer.alloc(64 * KiB, 0xbb), 'unstable'))).toBe('NOSPC');
  });
});
