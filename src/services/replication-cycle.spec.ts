import { describe, expect, it } from 'vitest';
import { Prng } from '../common/prng';
import { createLayout } from '../virtualization/layout';
import { LogicalDisk } from '../virtualization/logical-disk';
import { changedRuns, runTotals, type ChangedRun } from '../virtualization/page-diff';
import { Pool } from '../virtualization/pool';
import { FakePageMapStore } from '../virtualization/testing/fake-page-map-store';
import { MemDevice } from '../virtualization/testing/mem-device';
import { copyRuns, CycleStopped, pieces, type CopyOptions, type CyclePosition, type ReplicaTarget } from './replication-cycle';

const PS = 64 * 1024;

/**
 * A replica that acknowledges writes out of order and keeps what a FLUSH
 * made durable apart from what it merely acknowledged: a crash keeps only
 * the durable bytes, as a target gateway killed mid-cycle would.
 */
class FakeReplica implements ReplicaTarget {
  readonly acked: Buffer;
  readonly durable: Buffer;
  readonly commits: number[] = [];
  writes = 0;
  zeroes = 0;
  flushes = 0;
  inflight = 0;
  maxInflight = 0;
  /** Writes from this many on fail (the target went away). */
  failAfter = Infinity;

  constructor(
    readonly size: number,
    private readonly prng: Prng,
    from?: Buffer,
  ) {
    this.acked = Buffer.alloc(size);
    if (from) from.copy(this.acked);
    this.durable = Buffer.from(this.acked);
  }

  async write(offset: number, data: Buffer): Promise<void> {
    if (this.writes++ >= this.failAfter) throw new Error('target went away');
    this.inflight++;
    this.maxInflight = Math.max(this.maxInflight, this.inflight);
    await this.jitter();
    data.copy(this.acked, offset);
    this.inflight--;
  }

  async writeZeroes(offset: number, length: number): Promise<void> {
    this.zeroes++;
    await this.jitter();
    this.acked.fill(0, offset, offset + length);
  }

  async flush(): Promise<void> {
    if (this.writes > this.failAfter) throw new Error('target went away');
    this.flushes++;
    this.acked.copy(this.durable);
  }

  async commit(cycle: number): Promise<void> {
    this.commits.push(cycle);
  }

  /** A share's metadata database goes from replication.job, never from copyRuns. */
  async metadata(): Promise<void> {
    throw new Error('copyRuns sent REPLICA_META');
  }

  private async jitter(): Promise<void> {
    for (let n = this.prng.int(0, 4); n > 0; n--) await new Promise((r) => setImmediate(r));
  }
}

function env(pages = 64) {
  const device = new MemDevice('d', pages * 4 * PS);
  const pool = new Pool({ id: 'p', name: 'p', pageSize: PS, layout: createLayout('concat', [{ deviceId: 'd', device, offset: 0, length: device.size }]) });
  const store = new FakePageMapStore();
  const vol = new LogicalDisk({ id: 'v', name: 'v', size: pages * PS, provisioning: 'thin', pool, store });
  const snapshot = async (id: string) => {
    const release = await vol.hold();
    try {
      const map = vol.mappings();
      store.replace(id, map);
      return new LogicalDisk({ id, name: id, size: vol.size, provisioning: 'thin', pool, store, map, family: vol.family, readOnly: true });
    } finally {
      release();
    }
  };
  return { vol, snapshot };
}

async function randomWrites(vol: LogicalDisk, prng: Prng, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const offset = prng.int(0, vol.size / 4096 - 8) * 4096;
    if (prng.next() < 0.2) await vol.writeZeroes(Math.floor(offset / PS) * PS, PS);
    else await vol.write(offset, prng.bytes(4096 * prng.int(1, 8)));
  }
}

function options(runs: ChangedRun[], over: Partial<CopyOptions> = {}): CopyOptions & { saved: CyclePosition[]; admitted: number; sentBytes: number } {
  const o = {
    runs,
    from: null,
    chunk: 16 * 1024,
    depth: 4,
    zeroChunk: 3 * PS,
    checkpointBytes: 5 * PS,
    checkpointMs: Infinity,
    stopping: () => false,
    saved: [] as CyclePosition[],
    admitted: 0,
    sentBytes: 0,
    async admit(bytes: number) {
      o.admitted += bytes;
    },
    sent(bytes: number) {
      o.sentBytes += bytes;
    },
    async checkpoint(at: CyclePosition) {
      o.saved.push(at);
    },
    ...over,
  };
  return o;
}

const before = (a: CyclePosition, b: CyclePosition) => a.run < b.run || (a.run === b.run && a.offset <= b.offset);

describe('pieces', () => {
  const runs: ChangedRun[] = [
    { offset: 0, length: 10, kind: 'data' },
    { offset: 10, length: 3, kind: 'zero' },
    { offset: 20, length: 4, kind: 'data' },
  ];

  it('cuts data runs by the chunk and zero runs by the zero chunk, each piece saying where the copy then stands', () => {
    expect([...pieces(runs, null, 4, 2)].map((p) => [p.kind, p.offset, p.length, p.end.run, p.end.offset])).toEqual([
      ['data', 0, 4, 0, 4],
      ['data', 4, 4, 0, 8],
      ['data', 8, 2, 1, 0],
      ['zero', 10, 2, 1, 2],
      ['zero', 12, 1, 2, 0],
      ['data', 20, 4, 3, 0],
    ]);
  });

  it('resumes inside a run and after the last one', () => {
    expect([...pieces(runs, { run: 0, offset: 8 }, 4, 2)].map((p) => p.offset)).toEqual([8, 10, 12, 20]);
    expect([...pieces(runs, { run: 3, offset: 0 }, 4, 2)]).toEqual([]);
  });
});

describe('copyRuns against a fake replica', () => {
  it('a full copy then incremental cycles make the replica equal each snapshot, with zero runs as WRITE ZEROES', async () => {
    const prng = new Prng(7);
    const { vol, snapshot } = env();
    await randomWrites(vol, prng, 40);
    let base = await snapshot('s1');
    const target = new FakeReplica(vol.size, prng);
    let runs = changedRuns(null, base);
    let o = options(runs);
    await copyRuns(base, target, o);
    expect(target.acked.equals(await base.read(0, base.size))).toBe(true);
    expect(target.zeroes).toBeGreaterThan(0);
    expect(o.admitted).toBe(o.sentBytes);
    expect(target.maxInflight).toBeLessThanOrEqual(4);
    for (let cycle = 2; cycle <= 5; cycle++) {
      await randomWrites(vol, prng, 10);
      const next = await snapshot(`s${cycle}`);
      runs = changedRuns(base, next);
      o = options(runs);
      await copyRuns(next, target, o);
      expect(target.acked.equals(await next.read(0, next.size))).toBe(true);
      // Incremental: only what changed went out.
      expect(o.sentBytes).toBeLessThan(vol.size / 2);
      base = next;
    }
  });

  it('each checkpoint is saved after a flush that made everything before it durable, and checkpoints only move forward', async () => {
    const prng = new Prng(11);
    const { vol, snapshot } = env();
    await randomWrites(vol, prng, 60);
    const snap = await snapshot('s');
    const expected = await snap.read(0, snap.size);
    const target = new FakeReplica(vol.size, prng);
    const runs = changedRuns(null, snap);
    const o = options(runs, {
      async checkpoint(at) {
        o.saved.push(at);
        // Every run before `at` (and the part of `at`'s run before its offset) is in the durable bytes.
        for (let i = 0; i < runs.length && before({ run: i + 1, offset: 0 }, at); i++) {
          const r = runs[i];
          expect(target.durable.subarray(r.offset, r.offset + r.length).equals(expected.subarray(r.offset, r.offset + r.length))).toBe(true);
        }
        if (at.run < runs.length) {
          const r = runs[at.run];
          expect(target.durable.subarray(r.offset, r.offset + at.offset).equals(expected.subarray(r.offset, r.offset + at.offset))).toBe(true);
        }
      },
    });
    const end = await copyRuns(snap, target, o);
    expect(end).toEqual({ run: runs.length, offset: 0 });
    expect(o.saved.length).toBeGreaterThan(2);
    for (let i = 1; i < o.saved.length; i++) expect(before(o.saved[i - 1], o.saved[i])).toBe(true);
  });

  it('a target lost mid-copy (unflushed writes gone) resumes from the last checkpoint and converges, whatever the point of failure', async () => {
    let failed = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const prng = new Prng(seed);
      const { vol, snapshot } = env();
      await randomWrites(vol, prng, 50);
      const snap = await snapshot('s');
      const expected = await snap.read(0, snap.size);
      const runs = changedRuns(null, snap);
      let target = new FakeReplica(vol.size, prng);
      target.failAfter = prng.int(1, 40);
      const o = options(runs);
      const failure = await copyRuns(snap, target, o).then(() => null, (e: Error) => e);
      if (!failure) continue;
      failed++;
      expect(failure.message).toBe('target went away');
      // The restarted target has only what was flushed; the copy goes on from the saved point.
      target = new FakeReplica(vol.size, prng, target.durable);
      const resumed = options(runs, { from: o.saved[o.saved.length - 1] ?? null });
      await copyRuns(snap, target, resumed);
      expect(target.acked.equals(expected), `seed ${seed}`).toBe(true);
    }
    expect(failed).toBeGreaterThan(8);
  });

  it('a stop request ends the copy with CycleStopped at a durable point; resuming from it converges', async () => {
    const prng = new Prng(3);
    const { vol, snapshot } = env();
    await randomWrites(vol, prng, 50);
    const snap = await snapshot('s');
    const runs = changedRuns(null, snap);
    const target = new FakeReplica(vol.size, prng);
    let stop = false;
    const o = options(runs, {
      stopping: () => stop,
      sent(bytes) {
        o.sentBytes += bytes;
        if (o.sentBytes >= 3 * 16 * 1024) stop = true;
      },
    });
    const err = await copyRuns(snap, target, o).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(CycleStopped);
    const at = (err as CycleStopped).at;
    expect(o.saved[o.saved.length - 1]).toEqual(at);
    expect(target.flushes).toBeGreaterThan(0);
    const rest = options(runs, { from: at });
    await copyRuns(snap, target, rest);
    expect(target.acked.equals(await snap.read(0, snap.size))).toBe(true);
    // The resumed copy did not start over: what was durable before the stop is not sent again.
    const total = runTotals(runs).data;
    expect(rest.sentBytes).toBeLessThan(total);
    expect(o.sentBytes + rest.sentBytes).toBeGreaterThanOrEqual(total);
  });
});
