import { describe, expect, it } from 'vitest';
import { Prng } from '../../common/prng';
import { FileSystem } from './file-system';
import type { NodeId, StableHow } from './fs-types';
import { CrashStore } from './testing/crash-store';
import { errCode, pattern } from './testing/fs-expect';
import { makeFs, ROOT } from './testing/fs-fixture';

interface FileState {
  node: NodeId;
  data: Buffer;
}
type Namespace = Map<string, FileState>;
interface Write {
  offset: number;
  data: Buffer;
}

const DIRS = ['', 'sub/'];
const NAMES = ['a', 'b', 'c', 'd', 'e'];

function clone(ns: Namespace): Namespace {
  return new Map([...ns].map(([k, v]) => [k, { node: v.node, data: Buffer.from(v.data) }]));
}

/**
 * Power loss at random points (between operations and in the middle of
 * one), then remount. Every operation here except an UNSTABLE write is
 * durable when it returns, so after the crash the filesystem must show the
 * state at the last durable point, except that bytes an unstable write (or
 * the interrupted operation) overwrote in place may hold the new value; if
 * the interrupted operation's commit made it, everything is exactly the
 * latest state. Any other byte (stale or another file's data), a wrong size
 * or name, or an fsck problem fails the test.
 */
async function crashRun(seed: number, rounds: number): Promise<{ crashes: number; midOp: number; ops: number }> {
  const prng = new Prng(seed);
  let store = new CrashStore(16 * 1024 * 1024, 64 * 1024);
  store.jitter = () => prng.int(0, 3);
  const fx = await makeFs({ store });
  const subNode = (await fx.fs.mkdir(ROOT, fx.fs.root, 'sub')).node;
  const dirNode = (d: string) => (d === '' ? fx.fs.root : subNode);
  let cur: Namespace = new Map();
  let dur: Namespace = new Map();
  let later = new Map<number, Write[]>();
  const durable = () => {
    dur = clone(cur);
    later = new Map();
  };
  let midOps = 0;
  let opsRun = 0;
  /** The last write issued: if a crash interrupts it, its bytes may be on the store whether it failed or not. */
  let issued: (Write & { ino: number }) | undefined;

  /** One random operation: applies it to `cur` and returns whether it is a durable point. */
  async function randomOp(fs: FileSystem): Promise<() => void> {
    opsRun++;
    const d = DIRS[prng.int(0, DIRS.length)];
    const path = d + NAMES[prng.int(0, NAMES.length)];
    const existing = cur.get(path);
    const r = prng.next();
    if (!existing || r < 0.1) {
      if (existing) return () => undefined;
      const node = (await fs.create(ROOT, dirNode(d), path.slice(d.length), { mode: 'guarded', attrs: { mode: 0o644 } })).node;
      return () => {
        cur.set(path, { node, data: Buffer.alloc(0) });
        durable();
      };
    }
    if (r < 0.6) {
      const offset = prng.next() < 0.7 ? prng.int(0, existing.data.length + 1) : prng.int(0, 300_000);
      const data = pattern(prng.int(1, prng.next() < 0.2 ? 130_000 : 9000), prng.int(1, 2 ** 30));
      const stable: StableHow = prng.next() < 0.6 ? 'unstable' : 'file_sync';
      issued = { ino: existing.node.ino, offset, data };
      await fs.write(ROOT, existing.node, offset, data, stable);
      return () => {
        const end = offset + data.length;
        if (end > existing.data.length) {
          const grown = Buffer.alloc(end);
          existing.data.copy(grown);
          existing.data = grown;
        }
        data.copy(existing.data, offset);
        if (stable === 'unstable') {
          const list = later.get(existing.node.ino) ?? [];
          list.push({ offset, data });
          later.set(existing.node.ino, list);
        } else {
          durable();
        }
      };
    }
    if (r < 0.68) {
      await fs.commit(existing.node);
      return durable;
    }
    if (r < 0.78) {
      const size = prng.int(0, existing.data.length + 20_000);
      await fs.setattr(ROOT, existing.node, { size });
      return () => {
        const next = Buffer.alloc(size);
        existing.data.copy(next, 0, 0, Math.min(size, existing.data.length));
        existing.data = next;
        durable();
      };
    }
    if (r < 0.9) {
      // Sometimes the removed file is still open (NFSv4): an orphan the crash leaves behind.
      if (prng.next() < 0.3) fs.hold(existing.node);
      await fs.remove(ROOT, dirNode(d), path.slice(d.length));
      return () => {
        cur.delete(path);
        durable();
      };
    }
    const toDir = DIRS[prng.int(0, DIRS.length)];
    const to = toDir + NAMES[prng.int(0, NAMES.length)];
    await fs.rename(ROOT, dirNode(d), path.slice(d.length), dirNode(toDir), to.slice(toDir.length));
    return () => {
      if (to !== path) {
        cur.delete(path);
        cur.set(to, existing);
      }
      durable();
    };
  }

  /** Does the mounted filesystem show `ns`, allowing bytes from `extra` writes (by inode)? null if so, else why not. */
  async function matches(fs: FileSystem, ns: Namespace, extra: Map<number, Write[]> | null): Promise<string | null> {
    for (const d of DIRS) {
      const listed = fs
        .readdir(ROOT, dirNode(d), 0, undefined, { dots: false })
        .entries.map((e) => d + e.name)
        .filter((p) => p !== 'sub')
        .sort();
      const want = [...ns.keys()].filter((k) => k.startsWith(d) && !k.slice(d.length).includes('/')).sort();
      if (JSON.stringify(listed) !== JSON.stringify(want)) return `names in '${d}': ${listed} vs ${want}`;
    }
    for (const [path, f] of ns) {
      const look = fs.lookup(ROOT, dirNode(path.includes('/') ? 'sub/' : ''), path.split('/').pop()!);
      if (look.node.ino !== f.node.ino || look.node.gen !== f.node.gen) return `${path}: another object`;
      if (look.attr.size !== f.data.length) return `${path}: size ${look.attr.size}, want ${f.data.length}`;
      const got = (await fs.read(ROOT, f.node, 0, f.data.length)).data;
      const writes = extra?.get(f.node.ino) ?? [];
      for (let i = 0; i < got.length; i++) {
        if (got[i] === f.data[i]) continue;
        if (!writes.some((w) => i >= w.offset && i < w.offset + w.data.length && w.data[i - w.offset] === got[i])) {
          return `${path}: byte ${i} is ${got[i]}, want ${f.data[i]}${writes.length ? ' or an unstable write' : ''}`;
        }
      }
    }
    return null;
  }

  let crashes = 0;
  try {
    for (let round = 0; round < rounds; round++) {
      const fs = fx.fs;
      for (let i = prng.int(3, 25); i > 0; i--) (await randomOp(fs))();
      // Crash between operations, or while one is in flight.
      let inflight: Promise<() => void> | undefined;
      issued = undefined;
      if (prng.next() < 0.5) {
        midOps++;
        inflight = randomOp(fs);
        for (let t = prng.int(0, 40); t > 0; t--) await new Promise(setImmediate);
      }
      fs.abort();
      store = store.crash(prng);
      store.jitter = () => prng.int(0, 3);
      crashes++;
      const settled = inflight ? await errCode(inflight) : 'none';
      expect(['none', 'OK', 'IO']).toContain(settled);
      // If the interrupted op finished, its effect may or may not have been committed.
      const after = inflight && settled === 'OK' ? await inflight : undefined;
      const unmounted = FileSystem.fsck(fx.metaPath);
      expect(unmounted.problems).toEqual([]);
      fx.fs = await FileSystem.open(fx.metaPath, store, { commitIntervalMs: 0 });
      if (issued) later.set(issued.ino, [...(later.get(issued.ino) ?? []), issued]);
      const asDurable = await matches(fx.fs, dur, later);
      let asLatest: string | null = 'no operation was in flight';
      if (inflight) {
        after?.();
        asLatest = await matches(fx.fs, cur, null);
      }
      if (asDurable !== null && asLatest !== null) throw new Error(`seed ${seed} round ${round}: ${asDurable} / ${asLatest}`);
      // From here on the remounted state is the truth.
      const truth = asDurable === null ? dur : cur;
      const reread: Namespace = new Map();
      for (const [path, f] of truth) reread.set(path, { node: f.node, data: (await fx.fs.read(ROOT, f.node, 0, f.data.length)).data });
      cur = reread;
      durable();
      const mounted = await fx.fs.fsck();
      expect(mounted.problems).toEqual([]);
      expect(mounted.pendingOrphans).toEqual([]);
    }
  } finally {
    await fx.cleanup();
  }
  return { crashes, midOp: midOps, ops: opsRun };
}

describe('crash consistency', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`survives random power losses with every durable write intact (seed ${seed})`, async () => {
      const r = await crashRun(seed, 25);
      expect(r.crashes).toBe(25);
      expect(r.midOp).toBeGreaterThan(5);
    }, 120_000);
  }
});
