import { describe, expect, it } from 'vitest';
import { Prng } from '../../common/prng';
import { FileSystem } from './file-system';
import { FileType, type FileSystemOptions, type NodeId, type StableHow } from './fs-types';
import { CrashStore } from './testing/crash-store';
import { errCode, pattern } from './testing/fs-expect';
import { makeFs, ROOT, type Fixture } from './testing/fs-fixture';

/** The model: a tree of plain objects; a hard-linked file is one object under several names. */
type MFile = { kind: 'file'; id: number; data: Buffer; mode: number };
type MDir = { kind: 'dir'; id: number; children: Map<string, MNode>; mode: number };
type MLink = { kind: 'link'; id: number; target: string };
type MNode = MFile | MDir | MLink;

const NAMES = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
const MAX_MODEL_BYTES = 24 * 1024 * 1024;

class Model {
  readonly root: MDir = { kind: 'dir', id: 0, children: new Map(), mode: 0o777 };
  private nextId = 1;

  newId(): number {
    return this.nextId++;
  }

  dirs(): MDir[] {
    const out: MDir[] = [];
    const walk = (d: MDir) => {
      out.push(d);
      for (const c of d.children.values()) if (c.kind === 'dir') walk(c);
    };
    walk(this.root);
    return out;
  }

  files(): MFile[] {
    const seen = new Set<MFile>();
    for (const d of this.dirs()) for (const c of d.children.values()) if (c.kind === 'file') seen.add(c);
    return [...seen];
  }

  bytes(): number {
    return this.files().reduce((s, f) => s + f.data.length, 0);
  }

  links(f: MFile): number {
    let n = 0;
    for (const d of this.dirs()) for (const c of d.children.values()) if (c === f) n++;
    return n;
  }

  /** Is `d` equal to or inside `dir`? */
  within(d: MDir, dir: MDir): boolean {
    if (d === dir) return true;
    for (const c of dir.children.values()) if (c.kind === 'dir' && this.within(d, c)) return true;
    return false;
  }
}

/** Run `ops` random operations against the engine and the model, remounting now and then, comparing everything. */
async function runModel(seed: number, ops: number, opts: FileSystemOptions): Promise<void> {
  const prng = new Prng(seed);
  const store = new CrashStore(64 * 1024 * 1024);
  store.jitter = () => prng.int(0, 2);
  const fx: Fixture = await makeFs({ store, ...opts });
  const model = new Model();
  const handles = new Map<number, NodeId>([[0, fx.fs.root]]);
  const pick = <T>(xs: T[]): T => xs[prng.int(0, xs.length)];
  const h = (n: MNode): NodeId => handles.get(n.id)!;
  const counts: Record<string, number> = {};

  async function same(op: string, expected: string, call: Promise<unknown> | (() => unknown)): Promise<boolean> {
    const got = await errCode(call);
    counts[`${op}:${expected}`] = (counts[`${op}:${expected}`] ?? 0) + 1;
    if (got !== expected) throw new Error(`seed ${seed}: ${op} gave ${got}, model says ${expected}`);
    return got === 'OK';
  }

  try {
    for (let step = 0; step < ops; step++) {
      const fs = fx.fs;
      const dirs = model.dirs();
      const dir = pick(dirs);
      const name = pick(NAMES);
      const existing = dir.children.get(name);
      const r = prng.next();
      if (r < 0.12) {
        const expected = existing ? 'EXIST' : 'OK';
        const mode = prng.int(0, 0o1000);
        let node: NodeId | undefined;
        const ok = await same('create', expected, async () => {
          node = (await fs.create(ROOT, h(dir), name, { mode: 'guarded', attrs: { mode } })).node;
        });
        if (ok) {
          const f: MFile = { kind: 'file', id: model.newId(), data: Buffer.alloc(0), mode };
          dir.children.set(name, f);
          handles.set(f.id, node!);
        }
      } else if (r < 0.18) {
        let node: NodeId | undefined;
        if (await same('mkdir', existing ? 'EXIST' : 'OK', async () => (node = (await fs.mkdir(ROOT, h(dir), name, { mode: 0o755 })).node))) {
          // A setgid parent passes its setgid bit on.
          const d: MDir = { kind: 'dir', id: model.newId(), children: new Map(), mode: 0o755 | (dir.mode & 0o2000) };
          dir.children.set(name, d);
          handles.set(d.id, node!);
        }
      } else if (r < 0.21) {
        const target = `t${step}`;
        let node: NodeId | undefined;
        if (await same('symlink', existing ? 'EXIST' : 'OK', async () => (node = (await fs.symlink(ROOT, h(dir), name, target)).node))) {
          const l: MLink = { kind: 'link', id: model.newId(), target };
          dir.children.set(name, l);
          handles.set(l.id, node!);
        }
      } else if (r < 0.25) {
        const files = model.files();
        if (files.length === 0) continue;
        const f = pick(files);
        if (await same('link', existing ? 'EXIST' : 'OK', fs.link(ROOT, h(f), h(dir), name))) dir.children.set(name, f);
      } else if (r < 0.45) {
        const files = model.files();
        if (files.length === 0 || model.bytes() > MAX_MODEL_BYTES) continue;
        // Sometimes several files at once, concurrently.
        const batch = prng.next() < 0.3 ? files.slice(0, 4) : [pick(files)];
        await Promise.all(
          batch.map((f) => {
            const sparse = prng.next() < 0.05;
            const offset = sparse ? prng.int(0, 3 * 1024 * 1024) : prng.int(0, f.data.length + 5000);
            const data = pattern(prng.int(1, prng.next() < 0.1 ? 300_000 : 9000), step * 7 + f.id);
            const stable: StableHow = pick(['unstable', 'unstable', 'data_sync', 'file_sync']);
            const end = offset + data.length;
            if (end > f.data.length) {
              const grown = Buffer.alloc(end);
              f.data.copy(grown);
              f.data = grown;
            }
            data.copy(f.data, offset);
            return same('write', 'OK', fs.write(ROOT, h(f), offset, data, stable));
          }),
        );
      } else if (r < 0.5) {
        const files = model.files();
        if (files.length === 0) continue;
        const f = pick(files);
        const size = prng.next() < 0.5 ? prng.int(0, f.data.length + 1) : prng.int(0, f.data.length + 20_000);
        if (await same('truncate', 'OK', fs.setattr(ROOT, h(f), { size }))) {
          const next = Buffer.alloc(size);
          f.data.copy(next, 0, 0, Math.min(size, f.data.length));
          f.data = next;
        }
      } else if (r < 0.6) {
        const files = model.files();
        if (files.length === 0) continue;
        const f = pick(files);
        const offset = prng.int(0, f.data.length + 10);
        const count = prng.int(0, 20_000);
        const res = await fs.read(ROOT, h(f), offset, count);
        const want = f.data.subarray(offset, offset + count);
        if (!res.data.equals(want)) throw new Error(`seed ${seed}: read of file ${f.id} at ${offset}+${count} differs`);
        expect(res.eof).toBe(offset + count >= f.data.length);
      } else if (r < 0.68) {
        const expected = !existing ? 'NOENT' : existing.kind === 'dir' ? 'ISDIR' : 'OK';
        if (await same('remove', expected, fs.remove(ROOT, h(dir), name))) dir.children.delete(name);
      } else if (r < 0.73) {
        const expected = !existing ? 'NOENT' : existing.kind !== 'dir' ? 'NOTDIR' : existing.children.size > 0 ? 'NOTEMPTY' : 'OK';
        if (await same('rmdir', expected, fs.rmdir(ROOT, h(dir), name))) dir.children.delete(name);
      } else if (r < 0.88) {
        const to = pick(dirs);
        const toName = pick(NAMES);
        const dst = to.children.get(toName);
        let expected = 'OK';
        if (!existing) expected = 'NOENT';
        else if (dst === existing) expected = 'OK';
        else if (existing.kind === 'dir') {
          if (dst && dst.kind !== 'dir') expected = 'NOTDIR';
          else if (dst && dst.kind === 'dir' && dst.children.size > 0) expected = 'NOTEMPTY';
          else if (to !== dir && model.within(to, existing)) expected = 'INVAL';
        } else if (dst && dst.kind === 'dir') expected = 'ISDIR';
        if (await same('rename', expected, fs.rename(ROOT, h(dir), name, h(to), toName)) && dst !== existing) {
          dir.children.delete(name);
          to.children.set(toName, existing!);
        }
      } else if (r < 0.93) {
        if (!existing || existing.kind === 'link') continue;
        const mode = prng.int(0, 0o10000);
        if (await same('chmod', 'OK', fs.setattr(ROOT, h(existing), { mode }))) existing.mode = mode;
      } else if (r < 0.97) {
        const listed = fs.readdir(ROOT, h(dir), 0, undefined, { dots: false }).entries.map((e) => e.name).sort();
        expect(listed).toEqual([...dir.children.keys()].sort());
      } else {
        await fx.remount(opts);
        await compare(fx.fs, model, handles);
      }
    }
    await compare(fx.fs, model, handles);
    if (opts.inodeCacheSize !== undefined) {
      // The walk loaded every inode; the next commit trims the cache back.
      await fx.fs.sync();
      expect(fx.fs.stats().cachedInodes).toBeLessThanOrEqual(opts.inodeCacheSize);
      expect(fx.fs.stats().inodes).toBeGreaterThan(3 * opts.inodeCacheSize);
    }
    const report = await fx.fs.fsck();
    expect(report.problems).toEqual([]);
    fx.fs = await fx.remount(opts);
    await compare(fx.fs, model, handles);
    expect(FileSystem.fsck(fx.metaPath).clean).toBe(true);
    // Every kind of outcome was exercised.
    for (const key of ['create:OK', 'create:EXIST', 'write:OK', 'remove:OK', 'remove:ISDIR', 'rmdir:NOTEMPTY', 'rename:OK', 'rename:NOENT', 'link:OK', 'truncate:OK']) {
      expect(counts[key] ?? 0, key).toBeGreaterThan(0);
    }
  } finally {
    await fx.cleanup();
  }
}

/** Walk both trees: names, types, handles (hard links share one), link counts, modes, sizes, contents, targets. */
async function compare(fs: FileSystem, model: Model, handles: Map<number, NodeId>): Promise<void> {
  const walk = async (d: MDir): Promise<void> => {
    const node = handles.get(d.id)!;
    const listed = fs.readdir(ROOT, node, 0, undefined, { dots: false }).entries;
    expect(listed.map((e) => e.name).sort()).toEqual([...d.children.keys()].sort());
    let subdirs = 0;
    for (const e of listed) {
      const m = d.children.get(e.name)!;
      expect(e.node).toEqual(handles.get(m.id));
      const a = fs.getattr(e.node);
      if (m.kind === 'dir') {
        subdirs++;
        expect(a.type).toBe(FileType.DIR);
        expect(a.mode).toBe(m.mode);
        await walk(m);
      } else if (m.kind === 'file') {
        expect(a).toMatchObject({ type: FileType.REG, size: m.data.length, mode: m.mode, nlink: model.links(m) });
        const data = (await fs.read(ROOT, e.node, 0, m.data.length + 1)).data;
        if (!data.equals(m.data)) throw new Error(`file ${m.id} content differs`);
      } else {
        expect(a.type).toBe(FileType.LNK);
        expect(fs.readlink(ROOT, e.node).target).toBe(m.target);
      }
    }
    expect(fs.getattr(node).nlink).toBe(2 + subdirs);
  };
  await walk(model.root);
}

describe('randomized model test', () => {
  it('thousands of random operations agree with a simple model, across remounts (durable metadata)', async () => {
    await runModel(1, 2500, { syncMetadata: true });
  }, 120_000);

  it('thousands of random operations agree with a simple model, across remounts (lazy metadata)', async () => {
    await runModel(2, 2500, { syncMetadata: false });
  }, 120_000);

  it('the same with an inode cache of 8, so inodes are evicted and reloaded all the time', async () => {
    await runModel(3, 2000, { syncMetadata: false, inodeCacheSize: 8 });
  }, 120_000);
});
