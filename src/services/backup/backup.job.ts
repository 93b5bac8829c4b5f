import { createHash } from 'node:crypto';
import { access, mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoOf } from '../../devices/fd-io';
import { sharesDir, snapshotMetaPath } from '../../nas/share-paths';
import { Conflict, NotFound } from '../../common/errors';
import type { JobContext, JobKind } from '../../jobs/job-kind';
import { Throttle } from '../../jobs/throttle';
import type { BackupRecord, BackupTargetInfo, SnapshotInfo } from '../../storage/domain';
import type { LogicalDisk } from '../../virtualization/logical-disk';
import { changedRuns, runTotals } from '../../virtualization/page-diff';
import { backupRuns, carriedDigests } from './backup-chain';
import { assertDirectory, BackupTargetError, copyFileHashed, DeviceSink, directoryPaths, DirectorySink, metadataFileName, syncDirectory, type BackupSink } from './backup-files';
import { decodeManifest, DIGEST_BYTES, encodeManifest, imageDigestOf, pageCount, zeroDigest, type BackupManifest, type BackupMetadataFile, type BackupRun } from './backup-manifest';
import { PoolSink, type PoolSinkDeps } from './pool-sink';
import { pieces, readAhead } from './read-ahead';
import type { ChainEnv } from './restore.job';

export const BACKUP_KIND = 'backup';

export interface BackupParams {
  backupId: string;
  /** Bytes per second, 0 or absent for no limit. */
  rateLimit?: number;
}

export interface BackupCheckpoint {
  /** Byte offset in the volume: every run below it is on the target and synced. */
  next: number;
}

/** What the backup and restore jobs work with (the backup service provides it). */
export interface BackupEnv extends PoolSinkDeps, ChainEnv {
  findSnapshot(volumeId: string, name: string): Promise<SnapshotInfo | null>;
  /** After a backup succeeded: delete the volume's backup snapshots no backup needs any more. */
  pruneSnapshots(volumeId: string): Promise<void>;
}

/** Checkpoints at most this often: each syncs the target and writes the catalog. */
const CHECKPOINT_MS = 1000;
/** Bytes read, hashed and written per step (whole pages). */
const CHUNK = 4 * 2 ** 20;

export const chunkFor = (pageSize: number) => Math.max(pageSize, Math.floor(CHUNK / pageSize) * pageSize);

/**
 * One backup: snapshot the volume (once: a resumed job finds it again by
 * name), diff it against the parent's snapshot (or copy it all), write the
 * runs to the target with each page's digest, then the manifest, and only
 * then mark the catalog row complete. Checkpoint: the offset below which
 * every run is on the target, synced.
 */
export class BackupJob implements JobKind<BackupParams, BackupCheckpoint> {
  readonly kind = BACKUP_KIND;
  readonly resumable = true;

  constructor(
    private readonly env: BackupEnv,
    private readonly sleep?: (ms: number) => Promise<void>,
  ) {}

  async run(ctx: JobContext<BackupParams, BackupCheckpoint>): Promise<void> {
    const { env } = this;
    const rec = await env.catalog.getBackup(ctx.params.backupId);
    if (rec.state !== 'pending') throw new Conflict('BACKUP_NOT_COMPLETE', `backup ${rec.id} is ${rec.state}: there is nothing left to do`, { backup: rec.id });
    const target = await env.catalog.getTarget(rec.targetId);
    let resume = ctx.resumeFrom !== null;
    let snap = await env.findSnapshot(rec.volumeId, rec.snapshotName);
    if (!snap) {
      snap = await env.snapshots.create(env.actor, rec.volumeId, { name: rec.snapshotName });
      resume = false;
    }
    const disk = env.runtime.disks.get(snap.id);
    if (!disk) throw new NotFound('snapshot', snap.volumeName);
    const { size, pageSize } = disk;
    const parent = rec.parentId ? await this.parentOf(rec, pageSize) : null;
    const runs = backupRuns(changedRuns(parent?.base ?? null, disk), parent?.manifest.size ?? null, size, pageSize);
    await env.catalog.updateBackup(rec.id, { size, pageSize });
    if (target.kind === 'device') await env.catalog.markOverwritten(target.id, rec.id);
    const sink = await this.openSink(target, rec, size, parent?.record ?? null, resume);
    try {
      const dataBytes = runTotals(runs).data;
      ctx.setTotal(dataBytes);
      let next = sink.resumed ? Math.min(ctx.resumeFrom?.next ?? 0, size) : 0;
      const digests = carriedDigests(parent?.manifest.pageDigests ?? null, pageCount(size, pageSize));
      // Pages copied before a restart: their digests again, from the snapshot (it never changes).
      await hashRuns(disk, runs, next, digests);
      await this.copy(ctx, disk, runs, next, sink, digests);
      next = size;
      // A share: its metadata database as of the snapshot goes beside the image, its digest into the manifest.
      const meta = rec.shareId ? await this.putMetadata(target, rec, snap.id) : null;
      const manifest: BackupManifest = {
        id: rec.id,
        source: rec.shareId ? { type: 'share', id: rec.shareId, name: shareNameOf(rec.volumeName), snapshot: rec.snapshotName } : { type: 'volume', id: rec.volumeId, name: rec.volumeName, snapshot: rec.snapshotName },
        ...(meta ? { metadata: meta.entry } : {}),
        kind: rec.kind,
        parent: rec.parentId,
        size,
        pageSize,
        createdAt: rec.createdAt,
        runs,
        pageDigests: digests,
        imageDigest: imageDigestOf(digests),
      };
      const bytes = encodeManifest(manifest);
      const { location, bytesStored } = await sink.finish(bytes, dataBytes);
      await env.catalog.updateBackup(rec.id, {
        state: 'complete',
        location,
        bytesStored: bytesStored + (meta?.entry.size ?? 0),
        metadataLocation: meta?.path ?? null,
        imageDigest: manifest.imageDigest,
        manifest: bytes.toString('utf8'),
        finishedAt: new Date().toISOString(),
      });
    } finally {
      await sink.close();
    }
    await env.pruneSnapshots(rec.volumeId);
  }

  private async copy(ctx: JobContext<BackupParams, BackupCheckpoint>, disk: LogicalDisk, runs: BackupRun[], from: number, sink: BackupSink, digests: Buffer): Promise<void> {
    const throttle = new Throttle(ctx.params.rateLimit ?? 0, this.sleep);
    const chunk = chunkFor(disk.pageSize);
    let saved = Date.now();
    /** The end of the last piece on the target: where a stop leaves the checkpoint, so progress is never counted twice. */
    let done = from;
    try {
      await readAhead(
        pieces(runs.map((r) => ({ ...r, read: r.kind === 'data' })), from, chunk),
        chunk,
        (offset, into) => disk.readInto(offset, into),
        async (piece, data) => {
          if (ctx.stopping) throw new Error('stopped');
          const end = piece.offset + piece.length;
          if (!data) {
            zeroDigests(piece.offset, end, disk.pageSize, digests);
            await sink.writeZeros(piece.offset, piece.length);
          } else {
            hashPages(data, piece.offset, disk.pageSize, digests);
            await sink.writeData(piece.offset, data);
            ctx.progress(data.length);
          }
          done = end;
          if (Date.now() - saved >= CHECKPOINT_MS) {
            await sink.sync();
            await ctx.checkpoint({ next: end });
            saved = Date.now();
          }
          if (data) await throttle.pace(data.length, () => ctx.stopping);
        },
      );
    } catch (e) {
      // Stopped or failed: what is on the target is kept, synced, for the resume.
      await sink
        .sync()
        .then(() => ctx.checkpoint({ next: done }))
        .catch(() => undefined);
      throw e;
    }
    await sink.sync();
    await ctx.checkpoint({ next: disk.size });
  }

  /**
   * Copy the share snapshot's metadata database to the target: beside the
   * image (directory), or under `<data dir>/backups/` (pool: a pool holds
   * volumes, not files). Written under a temporary name, synced, renamed.
   */
  private async putMetadata(target: BackupTargetInfo, rec: BackupRecord, snapshotId: string): Promise<{ path: string; entry: BackupMetadataFile }> {
    const src = snapshotMetaPath(sharesDir(this.env.dataDir), rec.shareId!, snapshotId);
    const file = metadataFileName(rec.id);
    const dir = target.kind === 'directory' ? directoryPaths(target.path!, rec.volumeName, rec.id).dir : join(this.env.dataDir, 'backups');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const part = join(dir, `.${file}.part`);
    const path = join(dir, file);
    let got: { size: number; sha256: string };
    try {
      got = await copyFileHashed(src, part);
    } catch (e) {
      if (errnoOf(e) === 'ENOENT' && !(await access(src).then(() => true, () => false))) {
        throw new Conflict('SNAPSHOT_METADATA_MISSING', `the metadata copy of snapshot '${rec.volumeName}@${rec.snapshotName}' (${src}) is missing: remove this backup and make a new one`, { backup: rec.id });
      }
      if (target.kind === 'directory') await assertDirectory(target.path!);
      throw new BackupTargetError(`backup metadata ${part}: copy failed (${errnoOf(e) ?? (e as Error).message})`, { path: part });
    }
    await rename(part, path);
    await syncDirectory(dir);
    return { path, entry: { file, size: got.size, sha256: got.sha256 } };
  }

  private async parentOf(rec: BackupRecord, pageSize: number) {
    const { env } = this;
    const record = await env.catalog.getBackup(rec.parentId!);
    if (record.state !== 'complete') throw new Conflict('BACKUP_NOT_COMPLETE', `backup ${record.id}, the parent of ${rec.id}, is ${record.state}`, { backup: record.id });
    const manifest = decodeManifest(Buffer.from((await env.catalog.manifestOf(record.id)) ?? '', 'utf8'));
    const snap = await env.findSnapshot(rec.volumeId, record.snapshotName);
    if (!snap) {
      throw new Conflict('BACKUP_NOT_COMPLETE', `snapshot '${rec.volumeName}@${record.snapshotName}' of backup ${record.id}, the base of this incremental, is gone: make a full backup`, { backup: record.id });
    }
    if (manifest.pageSize !== pageSize) throw new Conflict('BACKUP_NOT_COMPLETE', `backup ${record.id} has ${manifest.pageSize}-byte pages, the volume now ${pageSize}: make a full backup`, { backup: record.id });
    return { record, manifest, base: env.runtime.disks.get(snap.id)! };
  }

  private openSink(target: BackupTargetInfo, rec: BackupRecord, size: number, parent: BackupRecord | null, resume: boolean): Promise<BackupSink> {
    switch (target.kind) {
      case 'directory':
        return DirectorySink.open(target.path!, rec.volumeName, rec.id, size, resume);
      case 'device':
        return DeviceSink.open(target.path!, size, resume);
      case 'pool':
        return PoolSink.open(this.env, target, rec, size, parent, resume);
    }
  }
}

/** A share's name from its volume's (`share:<name>`). */
export const shareNameOf = (volumeName: string) => (volumeName.startsWith('share:') ? volumeName.slice('share:'.length) : volumeName);

/** Record the SHA-256 of each page of `data` (which starts at a page boundary). */
export function hashPages(data: Buffer, offset: number, pageSize: number, digests: Buffer): void {
  for (let i = 0; i < data.length; i += pageSize) {
    const page = (offset + i) / pageSize;
    createHash('sha256').update(data.subarray(i, Math.min(i + pageSize, data.length))).digest().copy(digests, page * DIGEST_BYTES);
  }
}

function zeroDigests(from: number, end: number, pageSize: number, digests: Buffer): void {
  for (let at = from; at < end; at += pageSize) zeroDigest(Math.min(pageSize, end - at)).copy(digests, (at / pageSize) * DIGEST_BYTES);
}

/** The digests of the runs' pages below `until`, read back from the snapshot. */
async function hashRuns(disk: LogicalDisk, runs: readonly BackupRun[], until: number, digests: Buffer): Promise<void> {
  const below = runs.filter((r) => r.offset < until).map((r) => ({ offset: r.offset, length: Math.min(r.length, until - r.offset), read: r.kind === 'data' }));
  const chunk = chunkFor(disk.pageSize);
  await readAhead(pieces(below, 0, chunk), chunk, (offset, into) => disk.readInto(offset, into), async (piece, data) => {
    if (data) hashPages(data, piece.offset, disk.pageSize, digests);
    else zeroDigests(piece.offset, piece.offset + piece.length, disk.pageSize, digests);
  });
}
