import { NestFactory } from '@nestjs/core';
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AppModule } from '../src/app.module';
import { Prng } from '../src/common/prng';
import { loadConfig } from '../src/config/config';
import { JobService } from '../src/jobs/job.service';
import { BackupService } from '../src/services/backup/backup.service';
import { DeviceService } from '../src/storage/device.service';
import { SYSTEM_ACTOR } from '../src/storage/domain';
import { PoolService } from '../src/storage/pool.service';
import { StorageRuntime } from '../src/storage/runtime';
import { VolumeService } from '../src/storage/volume.service';
import { num } from './format';

const MiB = 2 ** 20;

export interface BackupBenchRow {
  what: string;
  bytes: number;
  seconds: number;
}

export interface BackupBench {
  region: number;
  pageSize: number;
  changedPages: number;
  rows: BackupBenchRow[];
  peer: BackupBenchRow | null;
  peerSkipped?: string;
}

/**
 * Backup to a directory on the same filesystem: a full backup of a full
 * volume and an incremental after 10 % of its pages changed (one 4 KiB write
 * each), then a restore; the peer is dd copying the same bytes of the pool's
 * backing file to a sparse, fsynced file (what a host-side image copy costs
 * at best). Each figure is one run, wall clock of the job.
 */
export async function benchBackup(opts: { region: number }): Promise<BackupBench> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-backup-'));
  const config = loadConfig({ cwd: dir, env: { STRATA_DATA_DIR: dir, STRATA_DEFAULT_POOL: 'false', STRATA_ADMIN_PASSWORD: 'bench-password', STRATA_SHELL: 'false', STRATA_SAN: 'false', STRATA_NBD: 'false' } });
  const app = await NestFactory.createApplicationContext(AppModule.forConfig(config), { logger: false });
  try {
    const device = join(dir, 'bench.img');
    await app.get(DeviceService).create(SYSTEM_ACTOR, { name: 'bench', kind: 'file', path: device, size: Math.ceil(opts.region * 2.25) + 64 * MiB });
    const pool = await app.get(PoolService).create(SYSTEM_ACTOR, { name: 'bench', layout: 'concat', members: [{ device: 'bench' }] });
    const volumes = app.get(VolumeService);
    await volumes.create(SYSTEM_ACTOR, { name: 'bench', pool: 'bench', size: opts.region });
    const disk = app.get(StorageRuntime).disks.get((await volumes.get('bench')).id)!;
    const fill = randomFillSync(Buffer.alloc(8 * MiB));
    for (let off = 0; off < opts.region; off += fill.length) {
      fill.writeUInt32LE(off / fill.length, 0);
      await disk.write(off, fill);
    }
    await disk.flush();
    mkdirSync(join(dir, 'backups'));
    const backups = app.get(BackupService);
    const jobs = app.get(JobService);
    await backups.addTarget(SYSTEM_ACTOR, { name: 'dir', kind: 'directory', path: join(dir, 'backups') });
    const timed = async (start: () => Promise<{ id: string }>): Promise<number> => {
      const t0 = performance.now();
      const job = await jobs.wait((await start()).id);
      if (job.state !== 'succeeded') throw new Error(`bench job ${job.kind} ${job.state}: ${job.error}`);
      return (performance.now() - t0) / 1000;
    };
    const rows: BackupBenchRow[] = [];
    rows.push({ what: 'full backup', bytes: opts.region, seconds: await timed(async () => (await backups.create(SYSTEM_ACTOR, { volume: 'bench', target: 'dir' })).job) });
    const pages = Math.ceil(opts.region / disk.pageSize);
    const rng = new Prng(1);
    const changed = new Set<number>();
    while (changed.size < Math.round(pages / 10)) changed.add(rng.int(0, pages));
    for (const p of changed) await disk.write(p * disk.pageSize, rng.bytes(4096));
    rows.push({ what: 'incremental (10 %)', bytes: changed.size * disk.pageSize, seconds: await timed(async () => (await backups.create(SYSTEM_ACTOR, { volume: 'bench', target: 'dir', incremental: true })).job) });
    const [, inc] = await backups.list({ volume: 'bench' });
    rows.push({ what: 'restore (chain of 2)', bytes: opts.region, seconds: await timed(async () => (await backups.restore(SYSTEM_ACTOR, inc.id, { to: 'restored' })).job) });
    rows.push({ what: 'verify (chain of 2)', bytes: opts.region, seconds: await timed(() => backups.verify(SYSTEM_ACTOR, inc.id)) });

    // The peer: the same bytes of the backing file, copied by dd to a sparse file and synced.
    const offset = pool.members[0].offset;
    const t0 = performance.now();
    const dd = spawnSync('dd', [`if=${device}`, `of=${join(dir, 'peer.img')}`, 'bs=4M', 'iflag=skip_bytes,count_bytes', `skip=${offset}`, `count=${opts.region}`, 'conv=sparse,fsync', 'status=none']);
    const seconds = (performance.now() - t0) / 1000;
    const peer = dd.status === 0 ? { what: 'dd conv=sparse,fsync', bytes: opts.region, seconds } : null;
    return { region: opts.region, pageSize: disk.pageSize, changedPages: changed.size, rows, peer, ...(peer ? {} : { peerSkipped: `dd failed: ${dd.stderr?.toString().trim() || dd.error?.message}` }) };
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function backupTable(b: BackupBench): string {
  const mbps = (r: BackupBenchRow) => r.bytes / 1e6 / r.seconds;
  const lines = [
    `Backup: a full ${num(b.region / MiB)} MiB volume (${num(b.pageSize / 1024)} KiB pages) to a directory on the same filesystem; the incremental after ${num(b.changedPages)} pages changed; peer: dd of the pool's backing region`,
    `${'what'.padEnd(22)} ${'MiB'.padStart(8)} ${'seconds'.padStart(8)} ${'MB/s'.padStart(8)}   vs peer`,
  ];
  for (const r of [...b.rows, ...(b.peer ? [b.peer] : [])]) {
    const ratio = b.peer && r !== b.peer ? num(mbps(r) / mbps(b.peer), 2) : '';
    lines.push(`${r.what.padEnd(22)} ${num(r.bytes / MiB).padStart(8)} ${num(r.seconds, 2).padStart(8)} ${num(mbps(r)).padStart(8)}   ${ratio}`);
  }
  if (b.peer) lines.push(`the incremental took ${num(b.rows[1].seconds / b.peer.seconds, 2)}x the time of copying the whole region with dd`);
  else lines.push(`peer skipped: ${b.peerSkipped}`);
  return lines.join('\n');
}
