import { NestFactory } from '@nestjs/core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AppModule } from '../src/app.module';
import { loadConfig } from '../src/config/config';
import { DeviceService } from '../src/storage/device.service';
import { SYSTEM_ACTOR } from '../src/storage/domain';
import { PoolService } from '../src/storage/pool.service';
import { StorageRuntime } from '../src/storage/runtime';
import { SnapshotService } from '../src/storage/snapshot.service';
import { VolumeService } from '../src/storage/volume.service';
import { num } from './format';
import { median, runWorkload, type IoTarget, type Workload, type WorkloadResult } from './workload';

const MiB = 2 ** 20;
const RANDWRITE: Workload = { name: '4k randwrite QD32', op: 'write', pattern: 'random', blockSize: 4096, depth: 32 };

export interface SnapshotBench {
  region: number;
  pageSize: number;
  before: WorkloadResult;
  after: WorkloadResult;
  /** A second window right after the first: most touched pages are already private again. */
  later: WorkloadResult;
  /** Median of per-round after/before IOPS. */
  ratio: number;
  snapshotMs: number;
  /** Pages the writes after the snapshot moved (redirect-on-write), median per round. */
  redirected: number;
}

/**
 * The cost of a snapshot on writes: 4 KiB random writes on a full thin volume
 * (file device, real storage manager), then a snapshot, then the same
 * workload again: until every page it touches has been redirected once, a
 * write copies its whole page. Each round deletes the snapshot at the end, so
 * the next starts with nothing shared.
 */
export async function benchSnapshot(opts: { seconds: number; rounds: number; region: number; pageSize?: number }): Promise<SnapshotBench> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-snap-'));
  const config = loadConfig({ cwd: dir, env: { STRATA_DATA_DIR: dir, STRATA_DEFAULT_POOL: 'false', STRATA_ADMIN_PASSWORD: 'bench-password', STRATA_SHELL: 'false', STRATA_SAN: 'false', STRATA_NBD: 'false' } });
  const app = await NestFactory.createApplicationContext(AppModule.forConfig(config), { logger: false });
  try {
    // Room for the volume and a full second copy of it (every page redirected once).
    await app.get(DeviceService).create(SYSTEM_ACTOR, { name: 'bench', kind: 'file', path: join(dir, 'bench.img'), size: 2 * opts.region + 64 * MiB });
    await app.get(PoolService).create(SYSTEM_ACTOR, { name: 'bench', layout: 'concat', pageSize: opts.pageSize, members: [{ device: 'bench' }] });
    const volumes = app.get(VolumeService);
    const snapshots = app.get(SnapshotService);
    await volumes.create(SYSTEM_ACTOR, { name: 'bench', pool: 'bench', size: opts.region });
    const disk = app.get(StorageRuntime).disks.get((await volumes.get('bench')).id)!;
    const fill = Buffer.alloc(8 * MiB, 0x5a);
    for (let off = 0; off < opts.region; off += fill.length) await disk.write(off, fill);
    await disk.flush();
    const target: IoTarget = { read: (o, b) => disk.readInto(o, b), write: (o, b) => disk.write(o, b) };
    await runWorkload(target, RANDWRITE, opts.region, 300); // warm-up
    const before: WorkloadResult[] = [];
    const after: WorkloadResult[] = [];
    const later: WorkloadResult[] = [];
    const took: number[] = [];
    const moved: number[] = [];
    for (let r = 0; r < opts.rounds; r++) {
      before.push(await runWorkload(target, RANDWRITE, opts.region, opts.seconds * 1000, r + 1));
      const t0 = performance.now();
      await snapshots.create(SYSTEM_ACTOR, 'bench', { name: `round${r}` });
      took.push(performance.now() - t0);
      const pages = new Map(disk.mappings().map((m) => [m.logical, m.physical]));
      after.push(await runWorkload(target, RANDWRITE, opts.region, opts.seconds * 1000, r + 100));
      later.push(await runWorkload(target, RANDWRITE, opts.region, opts.seconds * 1000, r + 200));
      await disk.settled();
      moved.push(disk.mappings().filter((m) => pages.get(m.logical) !== m.physical).length);
      await snapshots.remove(SYSTEM_ACTOR, 'bench', `round${r}`);
    }
    const pick = (xs: WorkloadResult[]): WorkloadResult => ({
      ops: median(xs.map((x) => x.ops)),
      bytes: median(xs.map((x) => x.bytes)),
      seconds: median(xs.map((x) => x.seconds)),
      iops: median(xs.map((x) => x.iops)),
      mbps: median(xs.map((x) => x.mbps)),
      p50us: median(xs.map((x) => x.p50us)),
      p99us: median(xs.map((x) => x.p99us)),
    });
    return {
      region: opts.region,
      pageSize: disk.pageSize,
      before: pick(before),
      after: pick(after),
      later: pick(later),
      ratio: median(after.map((a, i) => a.iops / before[i].iops)),
      snapshotMs: median(took),
      redirected: median(moved),
    };
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function snapshotTable(b: SnapshotBench): string {
  return [
    `Snapshots: ${RANDWRITE.name} on a full ${num(b.region / MiB)} MiB thin volume (file device, ${num(b.pageSize / 1024)} KiB pages), before and after a snapshot`,
    `${'phase'.padEnd(16)} ${'IOPS'.padStart(10)} ${'MB/s'.padStart(8)} ${'p50/p99 µs'.padStart(16)}`,
    `${'before'.padEnd(16)} ${num(b.before.iops).padStart(10)} ${num(b.before.mbps).padStart(8)} ${`${num(b.before.p50us)}/${num(b.before.p99us)}`.padStart(16)}`,
    `${'after snapshot'.padEnd(16)} ${num(b.after.iops).padStart(10)} ${num(b.after.mbps).padStart(8)} ${`${num(b.after.p50us)}/${num(b.after.p99us)}`.padStart(16)}`,
    `${'then'.padEnd(16)} ${num(b.later.iops).padStart(10)} ${num(b.later.mbps).padStart(8)} ${`${num(b.later.p50us)}/${num(b.later.p99us)}`.padStart(16)}`,
    `after/before ratio ${num(b.ratio, 2)}; taking the snapshot: ${num(b.snapshotMs, 1)} ms; pages redirected per round: ${num(b.redirected)}`,
  ].join('\n');
}
