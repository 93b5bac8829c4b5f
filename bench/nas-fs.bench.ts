import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FileDevice } from '../src/devices/file-device';
import { FileSystem } from '../src/nas/fs/file-system';
import type { Credential, NodeId } from '../src/nas/fs/fs-types';
import { createLayout } from '../src/virtualization/layout';
import { LogicalDisk, type PageMapStore } from '../src/virtualization/logical-disk';
import { Pool } from '../src/virtualization/pool';

const MiB = 2 ** 20;
const ROOT: Credential = { uid: 0, gid: 0, gids: [] };

export interface NasFsRow {
  workload: string;
  value: number;
  unit: 'ops/s' | 'MB/s';
}

/** Page-map commits are the storage manager's business; here they cost nothing, so the figures are the engine's. */
const freePageMaps: PageMapStore = {
  async commitAllocations() {},
  async commitReleases() {},
};

/**
 * The filesystem engine alone, no RPC: its metadata database and a thin
 * logical disk on a sparse file device in a temporary directory. Metadata
 * rows one operation at a time (as one NFS client's sync calls), each
 * durable before the next starts; then a sequential write (1 MiB UNSTABLE
 * writes, COMMIT at the end) and read of `streamBytes`.
 */
export async function benchNasFs(opts: { files: number; streamBytes: number }): Promise<NasFsRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-nasfs-bench-'));
  const device = await FileDevice.create(join(dir, 'data.img'), opts.streamBytes + 512 * MiB);
  try {
    const pool = new Pool({ id: 'p', name: 'bench', pageSize: MiB, layout: createLayout('concat', [{ deviceId: 'd', device, offset: 0, length: device.size }]) });
    const disk = new LogicalDisk({ id: 'share', name: 'share', size: device.size, provisioning: 'thin', pool, store: freePageMaps });
    const fs = await FileSystem.create(join(dir, 'meta.db'), disk, { root: { mode: 0o777, uid: 0, gid: 0 } });
    const rows: NasFsRow[] = [];
    const rate = (workload: string, n: number, ms: number) => rows.push({ workload, value: (n / ms) * 1000, unit: 'ops/s' });
    const payload = Buffer.alloc(100, 0x61);
    const nodes: NodeId[] = [];

    let t = performance.now();
    for (let i = 0; i < opts.files; i++) {
      const { node } = await fs.create(ROOT, fs.root, `f${i}`, { mode: 'guarded', attrs: { mode: 0o644 } });
      await fs.write(ROOT, node, 0, payload, 'file_sync');
      nodes.push(node);
    }
    rate(`create + 100 B write (FILE_SYNC), ${opts.files} files`, opts.files, performance.now() - t);

    t = performance.now();
    for (let i = 0; i < opts.files; i++) fs.getattr(fs.lookup(ROOT, fs.root, `f${i}`).node);
    rate(`lookup + getattr, ${opts.files} files`, opts.files, performance.now() - t);

    t = performance.now();
    for (let i = 0; i < opts.files; i++) await fs.remove(ROOT, fs.root, `f${i}`);
    rate(`remove, ${opts.files} files`, opts.files, performance.now() - t);

    const big = (await fs.create(ROOT, fs.root, 'big', { mode: 'guarded', attrs: { mode: 0o644 } })).node;
    const chunk = Buffer.alloc(MiB, 0x5a);
    t = performance.now();
    for (let pos = 0; pos < opts.streamBytes; pos += MiB) await fs.write(ROOT, big, pos, chunk, 'unstable');
    await fs.commit(big);
    rows.push({ workload: `sequential write ${opts.streamBytes / MiB} MiB (1 MiB UNSTABLE + COMMIT)`, value: opts.streamBytes / MiB / ((performance.now() - t) / 1000), unit: 'MB/s' });

    t = performance.now();
    for (let pos = 0; pos < opts.streamBytes; pos += MiB) await fs.read(ROOT, big, pos, MiB);
    rows.push({ workload: `sequential read ${opts.streamBytes / MiB} MiB (1 MiB reads)`, value: opts.streamBytes / MiB / ((performance.now() - t) / 1000), unit: 'MB/s' });

    await fs.close();
    return rows;
  } finally {
    await device.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  benchNasFs({ files: Number(process.env.BENCH_FILES ?? 1000), streamBytes: Number(process.env.BENCH_STREAM_MIB ?? 256) * MiB })
    .then((rows) => {
      console.log('NAS filesystem engine (no RPC): metadata one op at a time, durable; data through a thin logical disk on a file');
      for (const r of rows) console.log(`${r.workload.padEnd(60)} ${r.value.toFixed(0).padStart(8)} ${r.unit}`);
      console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
