import { NestFactory } from '@nestjs/core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppModule } from '../src/app.module';
import { loadConfig } from '../src/config/config';
import { JobService } from '../src/jobs/job.service';
import { MirrorSyncService } from '../src/services/mirror-sync.service';
import { DeviceService } from '../src/storage/device.service';
import { SYSTEM_ACTOR } from '../src/storage/domain';
import { PoolService } from '../src/storage/pool.service';
import { StorageRuntime } from '../src/storage/runtime';
import { VolumeService } from '../src/storage/volume.service';
import { num } from './format';
import { median, runWorkload, type IoTarget } from './workload';

const MiB = 2 ** 20;

export interface MirrorBench {
  /** Bytes the resync copied, and how long it took (median of rounds). */
  resyncBytes: number;
  resyncSeconds: number;
  resyncMBps: number;
  /** 4 KiB random writes QD32, unmirrored volume and mirrored volume, medians; ratio: median of per-round ratios. */
  plainIops: number;
  mirroredIops: number;
  ratio: number;
}

/**
 * The mirror's costs through the real storage manager, on two file-backed
 * pools: a resync of `region` bytes of dirty pages (a new mirror's sync of a
 * full volume: every region dirty, the same path a degraded mirror takes
 * when its device returns), and 4 KiB random writes on a mirrored volume
 * against an unmirrored one on the same pool, side by side in each round.
 */
export async function benchMirror(opts: { seconds: number; rounds: number; region: number }): Promise<MirrorBench> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-mirror-'));
  const config = loadConfig({
    cwd: dir,
    env: { STRATA_DATA_DIR: dir, STRATA_DEFAULT_POOL: 'false', STRATA_ADMIN_PASSWORD: 'bench-password', STRATA_SHELL: 'false', STRATA_SAN: 'false', STRATA_NBD: 'false', STRATA_NAS: 'false', STRATA_MIRROR_PROBE_MS: '0' },
  });
  const app = await NestFactory.createApplicationContext(AppModule.forConfig(config), { logger: false });
  try {
    const devices = app.get(DeviceService);
    const pools = app.get(PoolService);
    const volumes = app.get(VolumeService);
    const mirrors = app.get(MirrorSyncService);
    const jobs = app.get(JobService);
    const runtime = app.get(StorageRuntime);
    // Pool a: the plain volume and every round's primary; pool b: the mirrors.
    await devices.create(SYSTEM_ACTOR, { name: 'a', kind: 'file', path: join(dir, 'a.img'), size: 2 * opts.region + 64 * MiB });
    await devices.create(SYSTEM_ACTOR, { name: 'b', kind: 'file', path: join(dir, 'b.img'), size: opts.region + 64 * MiB });
    await pools.create(SYSTEM_ACTOR, { name: 'a', layout: 'concat', members: [{ device: 'a' }] });
    await pools.create(SYSTEM_ACTOR, { name: 'b', layout: 'concat', members: [{ device: 'b' }] });
    const fill = async (name: string) => {
      const disk = await volumes.disk(name);
      const chunk = Buffer.alloc(8 * MiB, 0x5a);
      for (let off = 0; off < opts.region; off += chunk.length) await disk.write(off, chunk.subarray(0, Math.min(chunk.length, opts.region - off)));
      await disk.flush();
      return disk;
    };
    await volumes.create(SYSTEM_ACTOR, { name: 'plain', pool: 'a', size: opts.region, provisioning: 'thick' });
    await volumes.create(SYSTEM_ACTOR, { name: 'mirrored', pool: 'a', size: opts.region, provisioning: 'thick' });
    const plain = await fill('plain');
    const mirrored = await fill('mirrored');

    const resyncs: number[] = [];
    let resyncBytes = 0;
    for (let r = 0; r < opts.rounds; r++) {
      const added = await mirrors.add(SYSTEM_ACTOR, 'mirrored', { pool: 'b' });
      const done = await jobs.wait(added.job!.id);
      // The job's own start and end: a thick member's provisioning before it is not the resync.
      resyncs.push((Date.parse(done.finishedAt!) - Date.parse(done.startedAt!)) / 1000);
      if (done.state !== 'succeeded') throw new Error(`resync ${done.state}: ${done.error}`);
      resyncBytes = done.bytesDone;
      // The last round keeps its mirror for the write test.
      if (r < opts.rounds - 1) await mirrors.remove(SYSTEM_ACTOR, 'mirrored');
    }
    if (runtime.disk(mirrored.id)?.state !== 'in-sync') throw new Error('mirror not in sync');

    const target = (d: typeof plain): IoTarget => ({ read: (o, b) => d.readInto(o, b), write: (o, b) => d.write(o, b) });
    const w = { name: '4k randwrite QD32', op: 'write' as const, pattern: 'random' as const, blockSize: 4096, depth: 32 };
    await runWorkload(target(plain), w, opts.region, 300);
    await runWorkload(target(mirrored), w, opts.region, 300);
    const a: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < opts.rounds; r++) {
      a.push((await runWorkload(target(plain), w, opts.region, opts.seconds * 1000, r + 1)).iops);
      b.push((await runWorkload(target(mirrored), w, opts.region, opts.seconds * 1000, r + 1)).iops);
    }
    const seconds = median(resyncs);
    return {
      resyncBytes,
      resyncSeconds: seconds,
      resyncMBps: resyncBytes / 1e6 / seconds,
      plainIops: median(a),
      mirroredIops: median(b),
      ratio: median(b.map((x, i) => x / a[i])),
    };
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function mirrorText(m: MirrorBench): string {
  return [
    'Mirror: two file-backed pools through the storage manager',
    `resync of ${num(m.resyncBytes / MiB)} MiB of dirty pages (as a job): ${num(m.resyncSeconds, 2)} s, ${num(m.resyncMBps)} MB/s`,
    `4k randwrite QD32: unmirrored ${num(m.plainIops)} IOPS, mirrored ${num(m.mirroredIops)} IOPS, ratio ${num(m.ratio, 2)}`,
  ].join('\n');
}
