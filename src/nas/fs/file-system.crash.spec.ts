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

/** What a meta commit leaves durable: today's names and sizes over the contents of the last durable state. */
function metaDurable(cur: Namespace, dur: Namespace): Namespace {
  const before = new Map([...dur.values()].map((f) => [f.node.ino, f.data]));
  const next: Namespace = new Map();
  for (const [path, f] of cur) {
    const old = before.get(f.node.ino) ?? Buffer.alloc(0);
    const data = Buffer.alloc(f.data.length);
    old.copy(data, 0, 0, Math.min(old.length, data.length));
    next.set(path, { node: f.node, data });
  }
  return next;
}

/**
 * Power loss at random points (between operations and in the middle of
 * one), then remount. What must survive:
 * - after a FILE_SYNC write or a COMMIT (a data commit): everything, exactly;
 * - after a namespace or attribute change (a meta commit): names and sizes
 *   as they were, file contents as of the last data commit cut or extended
 *   with zeros to the new size;
 * - bytes written by UNSTABLE writes since the last data commit (or by the
 *   interrupted write) may show their new value instead.
 * The interrupted operation either committed or not. Any other byte (stale
 * or another file's data), a wrong size or name, or an fsck problem fails.
 */
async function crashRun(seed: number, rounds: number): Promise<{ crashes: number; midOp: number; ops: number }> {
  const prng = new Prng(seed);
  // The store starts full of old bytes, as a reused volume would: lost data shows as 0xee, never as zeros.
  let store = new CrashStore(16 * 1024 * 1024, 64 * 1024, Buffer.alloc(16 * 1024 * 1024, 0xee));
  store.jitter = () => prng.int(0, 3);
  const fx = await makeFs({ store });
  const subNode = (await fx.fs.mkdir(ROOT, fx.fs.root, 'sub')).node;
  const dirNode = (d: string) => (d === '' ? fx.fs.root : subNode);
  let cur: Namespace = new Map();
  let dur: Namespace = new Map();
  let later = new Map<number, Write[]>();
  const dataCommit = () => {
    dur = clone(cur);
    later = new Map();
  };
  const metaCommit = () => {
    dur = metaDurable(cur, dur);
  };
  let midOps = 0;
  let opsRun = 0;
  /** The last write issued: if a crash interrupts it, its bytes may be on the store whether it failed or not. */
  const last: { issued?: Write & { ino: number } } = {};
  const lastIssued = () => last.issued;

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
        metaCommit();
      };
    }
    if (r < 0.6) {
      const offset = prng.next() < 0.7 ? prng.int(0, existing.data.length + 1) : prng.int(0, 300_000);
      const data = pattern(prng.int(1, prng.next() < 0.2 ? 130_000 : 9000), prng.int(1, 2 ** 30));
      const stable: StableHow = prng.next() < 0.6 ? 'unstable' : 'file_sync';
      last.issued = { ino: existing.node.ino, offset, data };
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
          dataCommit();
        }
      };
    }
    if (r < 0.68) {
      await fs.commit(existing.node);
      return dataCommit;
    }
    if (r < 0.78) {
      const size = prng.int(0, existing.data.length + 20_000);
      await fs.setattr(ROOT, existing.node, { size });
      return () => {
        const next = Buffer.alloc(size);
        existing.data.copy(next, 0, 0, Math.min(size, existing.data.length));
        existing.data = next;
        // Bytes past the new end are gone, whatever unstable writes put there.
        const list = later.get(existing.node.ino);
        if (list) later.set(existing.node.ino, list.filter((w) => w.offset < size).map((w) => ({ offset: w.offset, data: w.data.subarray(0, size - w.offset) })));
        metaCommit();
      };
    }
    if (r < 0.9) {
      // Sometimes the removed file is still open (NFSv4): an orphan the crash leaves behind.
      if (prng.next() < 0.3) fs.hold(existing.node);
      await fs.remove(ROOT, dirNode(d), path.slice(d.length));
      return () => {
        cur.delete(path);
        metaCommit();
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
      metaCommit();
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
      last.issued = undefined;
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
      const issued = lastIssued();
      if (issued) later.set(issued.ino, [...(later.get(issued.ino) ?? []), issued]);
      const before = dur;
      const asBefore = await matches(fx.fs, dur, later);
      let asAfter: string | null = 'no operation was in flight';
      if (after) {
        // The interrupted operation's own commit made it: the durable state it leaves.
        after();
        asAfter = await matches(fx.fs, dur, later);
      }
      if (asBefore !== null && asAfter !== null) throw new Error(`seed ${seed} round ${round}: ${asBefore} / ${asAfter}`);
      // From here on the remounted state is the truth.
      const truth = asBefore === null ? before : dur;
      const reread: Namespace = new Map();
      for (const [path, f] of truth) reread.set(path, { node: f.node, data: (await fx.fs.read(ROOT, f.node, 0, f.data.length)).data });
      cur = reread;
      dataCommit();
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
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`survives random power losses with every durable write intact (seed ${seed})`, async () => {
      const r = await crashRun(seed, 25);
      expect(r.crashes).toBe(25);
      expect(r.midOp).toBeGreaterThan(5);
    }, 120_000);
  }
});
