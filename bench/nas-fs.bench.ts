import { closeSync, fsyncSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FileDevice } from '../src/devices/file-device';
import { FileSystem } from '../src/nas/fs/file-system';
import type { Credential } from '../src/nas/fs/fs-types';
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

/** A filesystem on a thin logical disk over a sparse file device in `dir`. */
async function mount(dir: string, size: number, syncMetadata: boolean): Promise<{ fs: FileSystem; device: FileDevice }> {
  const device = await FileDevice.create(join(dir, 'data.img'), size);
  const pool = new Pool({ id: 'p', name: 'bench', pageSize: MiB, layout: createLayout('concat', [{ deviceId: 'd', device, offset: 0, length: device.size }]) });
  const disk = new LogicalDisk({ id: 'share', name: 'share', size: device.size, provisioning: 'thin', pool, store: freePageMaps });
  const fs = await FileSystem.create(join(dir, 'meta.db'), disk, { root: { mode: 0o777, uid: 0, gid: 0 }, syncMetadata });
  return { fs, device };
}

/**
 * Metadata one operation at a time, as one NFS client's synchronous calls
 * make them: create + 100-byte UNSTABLE write (what libnfs sends for
 * creat/write/close), lookup + getattr (stat), remove (unlink).
 */
async function metadata(files: number, syncMetadata: boolean): Promise<NasFsRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-nasfs-bench-'));
  const { fs, device } = await mount(dir, 256 * MiB, syncMetadata);
  const mode = syncMetadata ? 'durable metadata' : 'lazy metadata';
  try {
    const rows: NasFsRow[] = [];
    const rate = (workload: string, ms: number) => rows.push({ workload: `${workload}, ${mode}`, value: (files / ms) * 1000, unit: 'ops/s' });
    const payload = Buffer.alloc(100, 0x61);
    let t = performance.now();
    for (let i = 0; i < files; i++) {
      const { node } = await fs.create(ROOT, fs.root, `f${i}`, { mode: 'guarded', attrs: { mode: 0o644 } });
      await fs.write(ROOT, node, 0, payload, 'unstable');
    }
    rate('create + 100 B write', performance.now() - t);
    t = performance.now();
    for (let i = 0; i < files; i++) fs.getattr(fs.lookup(ROOT, fs.root, `f${i}`).node);
    rate('lookup + getattr', performance.now() - t);
    t = performance.now();
    for (let i = 0; i < files; i++) await fs.remove(ROOT, fs.root, `f${i}`);
    rate('remove', performance.now() - t);
    await fs.close();
    return rows;
  } finally {
    await device.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** 1 MiB UNSTABLE writes then COMMIT, then 1 MiB reads; beside the same through Node's fs on a plain file. */
async function stream(bytes: number): Promise<NasFsRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-nasfs-bench-'));
  const { fs, device } = await mount(dir, bytes + 64 * MiB, true);
  const mb = bytes / MiB;
  const chunk = Buffer.alloc(MiB, 0x5a);
  const rows: NasFsRow[] = [];
  try {
    const rawPath = join(dir, 'raw.bin');
    const fd = openSync(rawPath, 'w+');
    let t = performance.now();
    for (let pos = 0; pos < bytes; pos += MiB) writeSync(fd, chunk, 0, MiB, pos);
    fsyncSync(fd);
    rows.push({ workload: `raw file: write ${mb} MiB + fsync`, value: mb / ((performance.now() - t) / 1000), unit: 'MB/s' });
    const back = Buffer.alloc(MiB);
    t = performance.now();
    for (let pos = 0; pos < bytes; pos += MiB) readSync(fd, back, 0, MiB, pos);
    rows.push({ workload: `raw file: read ${mb} MiB`, value: mb / ((performance.now() - t) / 1000), unit: 'MB/s' });
    closeSync(fd);
    rmSync(rawPath);

    const big = (await fs.create(ROOT, fs.root, 'big', { mode: 'guarded', attrs: { mode: 0o644 } })).node;
    t = performance.now();
    for (let pos = 0; pos < bytes; pos += MiB) await fs.write(ROOT, big, pos, chunk, 'unstable');
    await fs.commit(big);
    rows.push({ workload: `engine: write ${mb} MiB (1 MiB UNSTABLE) + COMMIT`, value: mb / ((performance.now() - t) / 1000), unit: 'MB/s' });
    t = performance.now();
    for (let pos = 0; pos < bytes; pos += MiB) await fs.read(ROOT, big, pos, MiB);
    rows.push({ workload: `engine: read ${mb} MiB (1 MiB reads)`, value: mb / ((performance.now() - t) / 1000), unit: 'MB/s' });
    await fs.close();
    return rows;
  } finally {
    await device.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The filesystem engine alone, no RPC: its metadata database and a thin
 * logical disk on a sparse file device in a temporary directory.
 */
export async function benchNasFs(opts: { files: number; streamBytes: number }): Promise<NasFsRow[]> {
  return [...(await metadata(opts.files, true)), ...(await metadata(opts.files, false)), ...(await stream(opts.streamBytes))];
}

if (require.main === module) {
  benchNasFs({ files: Number(process.env.BENCH_FILES ?? 1000), streamBytes: Number(process.env.BENCH_STREAM_MIB ?? 256) * MiB })
    .then((rows) => {
      console.log('NAS filesystem engine (no RPC), one operation at a time; data on a thin logical disk over a sparse file');
      for (const r of rows) console.log(`${r.workload.padEnd(52)} ${r.value.toFixed(0).padStart(9)} ${r.unit}`);
      console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
