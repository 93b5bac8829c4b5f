import { NestFactory } from '@nestjs/core';
import { close, open, read, write } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AppModule } from '../src/app.module';
import { loadConfig } from '../src/config/config';
import { DeviceService } from '../src/storage/device.service';
import { SYSTEM_ACTOR } from '../src/storage/domain';
import { PoolService } from '../src/storage/pool.service';
import { VolumeService } from '../src/storage/volume.service';
import { median, runWorkload, WORKLOADS, type IoTarget } from './workload';
import { quiesce } from './gateway-process';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

export interface Row {
  workload: string;
  raw: { iops: number; mbps: number; p50us: number; p99us: number };
  strata: { iops: number; mbps: number; p50us: number; p99us: number };
  ratio: number;
}

const pread = promisify(read);
const pwrite = promisify(write);

/** Node's own positional I/O on the file: the baseline the volume is held to. */
function rawFile(fd: number): IoTarget {
  return {
    async read(offset, buf) {
      await pread(fd, buf, 0, buf.length, offset);
    },
    async write(offset, buf) {
      await pwrite(fd, buf, 0, buf.length, offset);
    },
  };
}

/**
 * The virtualization layer against the bare file: a thick 1 GiB volume on a
 * file device through the real storage manager, and the same bytes of the
 * same backing file read and written straight from Node.
 */
export async function benchVirtualization(opts: { seconds: number; rounds: number; region: number }): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-'));
  const config = loadConfig({ cwd: dir, env: { STRATA_DATA_DIR: dir, STRATA_DEFAULT_POOL: 'false', STRATA_ADMIN_PASSWORD: 'bench-password', STRATA_SHELL: 'false', STRATA_SAN: 'false', STRATA_NBD: 'false' } });
  const app = await NestFactory.createApplicationContext(AppModule.forConfig(config), { logger: false });
  try {
    const path = join(dir, 'bench.img');
    await app.get(DeviceService).create(SYSTEM_ACTOR, { name: 'bench', kind: 'file', path, size: opts.region });
    await app.get(PoolService).create(SYSTEM_ACTOR, { name: 'bench', layout: 'concat', members: [{ device: 'bench' }] });
    const volumes = app.get(VolumeService);
    await volumes.create(SYSTEM_ACTOR, { name: 'bench', pool: 'bench', size: opts.region, provisioning: 'thick' });
    const disk = await volumes.disk('bench');
    // Fill the volume so reads hit real data, not holes.
    const fill = Buffer.alloc(8 * MiB, 0x5a);
    for (let off = 0; off < opts.region; off += fill.length) await disk.write(off, fill);
    await disk.flush();
    // Thick pages are allocated in order on one extent at offset 0, so volume
    // byte N is file byte N: both sides touch the very same bytes.
    if (disk.mappings().some((m) => m.logical !== m.physical)) throw new Error('bench volume is not laid out linearly');
    const fd = await promisify(open)(path, 'r+');
    const volume: IoTarget = { read: (o, b) => disk.readInto(o, b), write: (o, b) => disk.write(o, b) };
    const rows: Row[] = [];
    for (const w of WORKLOADS) {
      const raw: Awaited<ReturnType<typeof runWorkload>>[] = [];
      const ours: Awaited<ReturnType<typeof runWorkload>>[] = [];
      await runWorkload(rawFile(fd), w, opts.region, 300); // warm-up
      for (let r = 0; r < opts.rounds; r++) {
        await quiesce();
        raw.push(await runWorkload(rawFile(fd), w, opts.region, opts.seconds * 1000, r + 1));
        await quiesce();
        ours.push(await runWorkload(volume, w, opts.region, opts.seconds * 1000, r + 1));
      }
      const pick = (xs: typeof raw) => ({
        iops: median(xs.map((x) => x.iops)),
        mbps: median(xs.map((x) => x.mbps)),
        p50us: median(xs.map((x) => x.p50us)),
        p99us: median(xs.map((x) => x.p99us)),
      });
      const a = pick(raw);
      const b = pick(ours);
            // Each round runs both back to back: the median of per-round ratios cancels the machine's drift.
      rows.push({ workload: w.name, raw: a, strata: b, ratio: median(ours.map((o, i) => o.iops / raw[i].iops)) });
    }
    await promisify(close)(fd);
    return rows;
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export { GiB };
