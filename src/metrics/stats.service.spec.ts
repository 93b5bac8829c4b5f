import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../config/config';
import type { StorageRuntime } from '../storage/runtime';
import { LATENCY_BUCKETS_SECONDS } from '../common/latency-histogram';
import type { IoCounterSnapshot, IoStatsSnapshot } from '../virtualization/io-stats';
import type { LogicalDisk } from '../virtualization/logical-disk';
import { ListenerRegistry } from '../common/listeners';
import { StatsService } from './stats.service';

const N = LATENCY_BUCKETS_SECONDS.length + 1;

/** A stand-in for a LogicalDisk: the sampler reads only id, name and stats(). */
class FakeDisk {
  reads = 0;
  readBytes = 0;
  writes = 0;
  writeBytes = 0;
  constructor(
    readonly id: string,
    public name: string,
  ) {}

  stats(): IoStatsSnapshot {
    // Every operation took 1 ms: bucket 4 is (0.5 ms, 1 ms].
    const op = (ops: number, bytes: number): IoCounterSnapshot => {
      const buckets = new Array<number>(N).fill(0);
      buckets[4] = ops;
      return { ops, bytes, errors: 0, buckets, latencySumSeconds: ops / 1000 };
    };
    const idle = op(0, 0);
    return { read: op(this.reads, this.readBytes), write: op(this.writes, this.writeBytes), writeZeroes: idle, discard: idle, flush: idle };
  }
}

function setup(intervalMs: number) {
  const disks = new Map<string, FakeDisk>();
  const runtime = { disks: disks as unknown as Map<string, LogicalDisk> } as StorageRuntime;
  const config = loadConfig({ env: { STRATA_STATS_INTERVAL_MS: String(intervalMs) }, cwd: '/' });
  const add = (id: string, name: string) => {
    const d = new FakeDisk(id, name);
    disks.set(id, d);
    return d;
  };
  const listeners = new ListenerRegistry();
  return { stats: new StatsService(runtime, listeners, config), disks, add, listeners };
}

describe('StatsService', () => {
  afterEach(() => vi.useRealTimers());

  it('reports rates per volume and overall from the counter deltas', () => {
    const { stats, add } = setup(1000);
    const a = add('id-a', 'alpha');
    const b = add('id-b', 'beta');
    a.reads = 5;
    stats.sample(0, 1_000); // baseline: counts so far are not a rate
    a.reads += 20;
    a.readBytes += 20 * 4096;
    b.writes += 10;
    b.writeBytes += 10 * 65_536;
    stats.sample(2000, 3_000);
    const r = stats.report();
    expect(r.intervalSeconds).toBe(1);
    expect(r.windowSeconds).toBe(300);
    expect(r.samples).toHaveLength(1);
    expect(r.samples[0]).toMatchObject({ t: 3_000, readIops: 10, readBps: 40_960, writeIops: 5, writeBps: 327_680, readLatencyMs: 1, writeLatencyMs: 1 });
    expect(r.samples[0].readLatencyP99Ms).toBeCloseTo(0.995, 9);
    expect(r.volumes.alpha).toMatchObject({ readIops: 10, writeIops: 0, writeLatencyMs: null, writeLatencyP99Ms: null });
    expect(r.volumes.beta).toMatchObject({ readIops: 0, writeIops: 5, readLatencyMs: null });
    expect(r.san).toEqual({ available: false, reason: 'the SAN target is disabled or could not listen' });
    expect(r.nas).toEqual({ available: false, reason: 'the NAS front end is not running' });
  });

  it('reports the SAN target as available once it listens, and why not when it failed', () => {
    const { stats, listeners } = setup(1000);
    listeners.failed('san', 'EADDRINUSE');
    expect(stats.report().san).toEqual({ available: false, reason: 'the SAN target is disabled or could not listen: EADDRINUSE' });
    listeners.listening('san', 'udp 127.0.0.1:7700');
    expect(stats.report().san).toEqual({ available: true, address: 'udp 127.0.0.1:7700' });
  });

  it('reports the NAS front end as its service describes it, live at every report', () => {
    const { stats } = setup(1000);
    let listening = false;
    stats.setNasStatus(() =>
      listening
        ? { available: true, address: 'tcp 127.0.0.1:2049', nfs: 'tcp 127.0.0.1:2049', mount: 'tcp 127.0.0.1:20048', portmap: { mode: 'own', port: 111 } }
        : { available: false, reason: 'the NAS front end is disabled (nas.enabled is false)' },
    );
    expect(stats.report().nas).toEqual({ available: false, reason: 'the NAS front end is disabled (nas.enabled is false)' });
    listening = true;
    expect(stats.report().nas).toMatchObject({ available: true, mount: 'tcp 127.0.0.1:20048', portmap: { mode: 'own', port: 111 } });
  });

  it('counts a volume created since the last sample from zero, forgets a deleted one, and follows a rename', () => {
    const { stats, disks, add } = setup(1000);
    const a = add('id-a', 'alpha');
    a.writes = 100;
    stats.sample(0, 0);
    disks.delete('id-a');
    const c = add('id-c', 'gamma');
    c.writes = 3;
    stats.sample(1000, 1000);
    expect(Object.keys(stats.report().volumes)).toEqual(['gamma']);
    expect(stats.report().samples[0].writeIops).toBe(3);
    c.name = 'delta';
    c.writes += 1;
    stats.sample(2000, 2000);
    expect(stats.report().volumes).toEqual({ delta: expect.objectContaining({ writeIops: 1 }) });
  });

  it('keeps five minutes of samples, oldest first', () => {
    const { stats } = setup(1000);
    for (let t = 0; t <= 310; t++) stats.sample(t * 1000, t * 1000);
    const samples = stats.report().samples;
    expect(samples).toHaveLength(300);
    expect(samples[0].t).toBe(11_000);
    expect(samples[299].t).toBe(310_000);
  });

  it('ignores a clock that did not advance', () => {
    const { stats, add } = setup(1000);
    const a = add('id-a', 'alpha');
    stats.sample(1000, 1000);
    a.reads = 4;
    stats.sample(1000, 1000);
    stats.sample(500, 1000);
    expect(stats.report().samples).toEqual([]);
    stats.sample(2000, 2000);
    expect(stats.report().samples[0].readIops).toBe(4);
  });

  it('samples on its own timer once started, and stops', () => {
    vi.useFakeTimers();
    const { stats, add } = setup(100);
    const a = add('id-a', 'alpha');
    stats.onModuleInit();
    a.writes = 1;
    vi.advanceTimersByTime(250);
    expect(stats.report().samples).toHaveLength(2);
    stats.onModuleDestroy();
    vi.advanceTimersByTime(1000);
    expect(stats.report().samples).toHaveLength(2);
  });
});
