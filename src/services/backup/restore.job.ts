import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, basename } from 'node:path';
import { errnoOf } from '../../devices/fd-io';
import { FileSystem } from '../../nas/fs';
import { liveMetaPath, sharesDir } from '../../nas/share-paths';
import type { ShareService } from '../../storage/share.service';
import { Conflict, NotFound } from '../../common/errors';
import type { JobContext, JobKind } from '../../jobs/job-kind';
import { Throttle } from '../../jobs/throttle';
import type { BackupCatalog } from '../../storage/backup-catalog';
import type { BackupRecord, BackupTargetInfo } from '../../storage/domain';
import type { StorageRuntime } from '../../storage/runtime';
import { ChainError, composeChain, type ChainSegment } from './backup-chain';
import { BackupDamaged, copyFileHashed, openImageDevice, openImageFile, syncDirectory, type ImageReader } from './backup-files';
import { decodeManifest, DIGEST_BYTES, ManifestError, zeroDigest, type BackupManifest, type BackupMetadataFile } from './backup-manifest';
import { chunkFor } from './backup.job';
import { pieces, readAhead } from './read-ahead';

export const RESTORE_KIND = 'restore';
export const VERIFY_KIND = 'backup-verify';

export interface RestoreParams {
  backupId: string;
  /** The volume written. */
  volumeId: string;
  /** A share backup: the new share whose volume this is; it gets the metadata copy and is served at the end. */
  shareId?: string;
  rateLimit?: number;
}

export interface VerifyParams {
  backupId: string;
}

export interface ChainCheckpoint {
  /** Byte offset: every page below it was read, checked (and written, for a restore). */
  next: number;
}

const CHECKPOINT_MS = 1000;

export interface ChainEnv {
  catalog: BackupCatalog;
  runtime: StorageRuntime;
  shares: ShareService;
  dataDir: string;
}

/** A backup and the ones it builds on, oldest (the full one) first. */
export interface LoadedChain {
  records: BackupRecord[];
  manifests: BackupManifest[];
  targets: BackupTargetInfo[];
}

export async function loadChain(catalog: BackupCatalog, backupId: string): Promise<LoadedChain> {
  const records: BackupRecord[] = [];
  for (let id: string | null = backupId; id !== null; ) {
    const rec = await catalog.getBackup(id);
    if (rec.state !== 'complete') {
      throw new Conflict('BACKUP_NOT_COMPLETE', `backup ${rec.id}${rec.id === backupId ? '' : ` (in the chain of ${backupId})`} is ${rec.state === 'overwritten' ? 'overwritten by a newer backup to the same device' : 'not complete'}`, { backup: rec.id });
    }
    records.unshift(rec);
    id = rec.parentId;
    if (records.length > 100_000) throw new BackupDamaged(`the chain of backup ${backupId} loops`);
  }
  const manifests = await Promise.all(
    records.map(async (r) => {
      try {
        return decodeManifest(Buffer.from((await catalog.manifestOf(r.id)) ?? '', 'utf8'));
      } catch (e) {
        if (e instanceof ManifestError) throw new BackupDamaged(`the catalog's manifest of backup ${r.id}: ${e.message}`, { backup: r.id });
        throw e;
      }
    }),
  );
  const last = records[records.length - 1];
  if (manifests[manifests.length - 1].imageDigest !== last.imageDigest) {
    throw new BackupDamaged(`backup ${last.id}: its manifest's image digest is not the catalog's`, { backup: last.id });
  }
  const targets = await Promise.all(records.map((r) => catalog.getTarget(r.targetId)));
  return { records, manifests, targets };
}

/**
 * Reads a chain's image in order, page by page from the newest backup that
 * carries it, and checks every page against the chosen backup's digest
 * before handing it on: a damaged byte stops the job, naming the backup,
 * the file and the page.
 */
export class ChainReader {
  readonly segments: ChainSegment[];
  readonly size: number;
  private readonly readers = new Map<number, ImageReader>();
  private readonly last: BackupManifest;

  constructor(
    private readonly env: ChainEnv,
    private readonly chain: LoadedChain,
  ) {
    try {
      this.segments = composeChain(chain.manifests);
    } catch (e) {
      if (e instanceof ChainError) throw new BackupDamaged(e.message);
      throw e;
    }
    this.last = chain.manifests[chain.manifests.length - 1];
    this.size = this.last.size;
  }

  /** Bytes to read (the zero segments are not read). */
  get dataBytes(): number {
    return this.segments.reduce((n, s) => n + (s.source === null ? 0 : s.length), 0);
  }

  /** Hand on [from, size) in order: data (checked) or null for zeros. */
  async each(from: number, out: (offset: number, data: Buffer | null, length: number) => Promise<void>, stopping: () => boolean): Promise<void> {
    const ps = this.last.pageSize;
    const chunk = chunkFor(ps);
    /** The source of the segment a piece is in (pieces never cross segments): the last one starting at or below it. */
    const sourceOf = (offset: number): number | null => {
      let lo = 0;
      let hi = this.segments.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (this.segments[mid].offset <= offset) lo = mid;
        else hi = mid - 1;
      }
      return this.segments[lo].source;
    };
    await readAhead(
      pieces(this.segments.map((s) => ({ offset: s.offset, length: s.length, read: s.source !== null })), from, chunk),
      chunk,
      async (offset, into) => (await this.reader(sourceOf(offset)!)).read(offset, into),
      async (piece, data) => {
        if (stopping()) throw new Error('stopped');
        const end = piece.offset + piece.length;
        if (!data) {
          for (let p = piece.offset; p < end; p += ps) this.check(p, zeroDigest(Math.min(ps, end - p)), null);
        } else {
          const src = sourceOf(piece.offset);
          for (let i = 0; i < data.length; i += ps) this.check(piece.offset + i, createHash('sha256').update(data.subarray(i, Math.min(i + ps, data.length))).digest(), src);
        }
        await out(piece.offset, data, piece.length);
      },
    );
  }

  /** The digest the chosen backup has for this page, or a precise error. */
  private check(offset: number, digest: Buffer, source: number | null): void {
    const ps = this.last.pageSize;
    const page = offset / ps;
    const want = this.last.pageDigests.subarray(page * DIGEST_BYTES, (page + 1) * DIGEST_BYTES);
    if (want.equals(digest)) return;
    const end = Math.min(offset + ps, this.size);
    if (source === null) {
      throw new BackupDamaged(`backup ${this.last.id}: page ${page} (bytes [${offset}, ${end})) holds data by its digest, but the chain says zeros: the manifests disagree`, { page });
    }
    const rec = this.chain.records[source];
    throw new BackupDamaged(`backup ${rec.id} (${rec.location}): page ${page} (bytes [${offset}, ${end})) does not match its SHA-256: the image is damaged`, { backup: rec.id, page, offset });
  }

  private async reader(i: number): Promise<ImageReader> {
    let r = this.readers.get(i);
    if (r) return r;
    const rec = this.chain.records[i];
    const target = this.chain.targets[i];
    const manifest = this.chain.manifests[i];
    if (target.kind === 'directory') {
      const image = rec.location!;
      r = await openImageFile(image, join(dirname(image), `${basename(image, '.img')}.json`), Buffer.from((await this.env.catalog.manifestOf(rec.id))!, 'utf8'), manifest.size);
    } else if (target.kind === 'device') {
      r = await openImageDevice(rec.location!, manifest.size);
    } else {
      const disk = this.env.runtime.disks.get(rec.location!);
      if (!disk) throw new BackupDamaged(`backup ${rec.id}: its snapshot volume in pool '${target.poolName}' is gone`, { backup: rec.id });
      r = { read: (offset, target) => disk.readInto(offset, target), close: async () => undefined };
    }
    this.readers.set(i, r);
    return r;
  }

  async close(): Promise<void> {
    for (const r of this.readers.values()) await r.close().catch(() => undefined);
    this.readers.clear();
  }
}

/**
 * Run a chain reader from the job's checkpoint: each piece handled, progress
 * counted, a checkpoint about once a second (after `sync`), and on a stop or
 * a failure one where it got, so a resume never counts a byte twice.
 */
async function walk(
  ctx: JobContext<{ backupId: string }, ChainCheckpoint>,
  reader: ChainReader,
  handle: (offset: number, data: Buffer | null, length: number) => Promise<void>,
  sync: () => Promise<void>,
): Promise<void> {
  let saved = Date.now();
  let done = ctx.resumeFrom?.next ?? 0;
  const save = async () => {
    await sync();
    await ctx.checkpoint({ next: done });
  };
  try {
    await reader.each(
      done,
      async (offset, data, length) => {
        await handle(offset, data, length);
        if (data) ctx.progress(length);
        done = offset + length;
        if (Date.now() - saved >= CHECKPOINT_MS) {
          await save();
          saved = Date.now();
        }
      },
      () => ctx.stopping,
    );
  } catch (e) {
    await save().catch(() => undefined);
    throw e;
  } finally {
    await reader.close();
  }
}

/** Write a backup's image onto a volume (a new one, or one overwritten with force), checking every page. */
export class RestoreJob implements JobKind<RestoreParams, ChainCheckpoint> {
  readonly kind = RESTORE_KIND;
  readonly resumable = true;

  constructor(
    private readonly env: ChainEnv,
    private readonly sleep?: (ms: number) => Promise<void>,
  ) {}

  async run(ctx: JobContext<RestoreParams, ChainCheckpoint>): Promise<void> {
    const chain = await loadChain(this.env.catalog, ctx.params.backupId);
    const disk = this.env.runtime.disk(ctx.params.volumeId);
    if (!disk) throw new NotFound('volume', ctx.params.volumeId);
    const { shareId } = ctx.params;
    // The metadata first (small, and a damaged copy should stop the job before it writes the image).
    const metaPart = shareId ? join(sharesDir(this.env.dataDir), shareId, '.meta.sqlite.part') : null;
    if (shareId) {
      await mkdir(dirname(metaPart!), { recursive: true, mode: 0o700 });
      await copyMetadata(chain, metaPart!);
    }
    const reader = new ChainReader(this.env, chain);
    if (disk.size < reader.size) throw new Conflict('BACKUP_NOT_COMPLETE', `volume '${disk.name}' holds ${disk.size} bytes, the backup ${reader.size}`, { volume: disk.name });
    ctx.setTotal(reader.dataBytes);
    const throttle = new Throttle(ctx.params.rateLimit ?? 0, this.sleep);
    await walk(
      ctx,
      reader,
      async (offset, data, length) => {
        if (!data) return disk.discard(offset, length);
        await disk.write(offset, data);
        await throttle.pace(length, () => ctx.stopping);
      },
      () => disk.flush(),
    );
    // A larger volume restored over: past the image it reads as zeros, like the volume the backup was of.
    if (disk.size > reader.size) await disk.discard(reader.size, disk.size - reader.size);
    await disk.flush();
    await ctx.checkpoint({ next: reader.size });
    if (shareId) {
      await checkFilesystem(chain, metaPart!);
      // In place under the name the share's filesystem opens, durably, and only then served.
      const live = liveMetaPath(sharesDir(this.env.dataDir), shareId);
      await rename(metaPart!, live);
      await syncDirectory(dirname(live));
      await this.env.shares.finishRestore(shareId);
    }
  }
}

/** The chosen backup's metadata copy and its manifest entry, or a precise error when it has none. */
function metadataOf(chain: LoadedChain): { rec: BackupRecord; entry: BackupMetadataFile } {
  const rec = chain.records[chain.records.length - 1];
  const entry = chain.manifests[chain.manifests.length - 1].metadata;
  if (rec.sourceType !== 'share' || !entry) throw new Conflict('BACKUP_NOT_SHARE', `backup ${rec.id} is of volume '${rec.volumeName}', not a share`, { backup: rec.id });
  if (!rec.metadataLocation) throw new BackupDamaged(`backup ${rec.id}: the catalog does not say where its metadata file is`, { backup: rec.id });
  return { rec, entry };
}

/** Copy the backup's metadata database to `dest`, checking its size and SHA-256 against the manifest's. */
async function copyMetadata(chain: LoadedChain, dest: string): Promise<void> {
  const { rec, entry } = metadataOf(chain);
  let got: { size: number; sha256: string };
  try {
    got = await copyFileHashed(rec.metadataLocation!, dest);
  } catch (e) {
    await rm(dest, { force: true });
    throw new BackupDamaged(`backup ${rec.id}: metadata file ${rec.metadataLocation} ${errnoOf(e) === 'ENOENT' ? 'is missing' : `cannot be read (${errnoOf(e) ?? (e as Error).message})`}`, { backup: rec.id, path: rec.metadataLocation });
  }
  if (got.size !== entry.size || got.sha256 !== entry.sha256) {
    await rm(dest, { force: true });
    throw new BackupDamaged(
      `backup ${rec.id}: metadata file ${rec.metadataLocation} ${got.size !== entry.size ? `is ${got.size} bytes, its manifest says ${entry.size}` : 'does not match its SHA-256'}: the metadata copy is damaged`,
      { backup: rec.id, path: rec.metadataLocation },
    );
  }
}

/** The share's filesystem check (metadata against block allocation) on a metadata copy: a restore never serves an inconsistent one. */
async function checkFilesystem(chain: LoadedChain, metaPath: string): Promise<void> {
  const { rec } = metadataOf(chain);
  let report: ReturnType<typeof FileSystem.fsck>;
  try {
    report = FileSystem.fsck(metaPath);
  } catch (e) {
    throw new BackupDamaged(`backup ${rec.id}: its metadata database cannot be checked: ${(e as Error).message}`, { backup: rec.id });
  }
  if (!report.clean) {
    const first = report.problems[0];
    throw new BackupDamaged(`backup ${rec.id}: the filesystem check of its metadata found ${report.problems.length} problem(s), first: ${first.kind}: ${first.detail}`, { backup: rec.id, problems: report.problems.length });
  }
}

/** Read a backup chain and check every page, writing nothing. */
export class VerifyJob implements JobKind<VerifyParams, ChainCheckpoint> {
  readonly kind = VERIFY_KIND;
  readonly resumable = true;

  constructor(private readonly env: ChainEnv) {}

  async run(ctx: JobContext<VerifyParams, ChainCheckpoint>): Promise<void> {
    const chain = await loadChain(this.env.catalog, ctx.params.backupId);
    if (chain.records[chain.records.length - 1].sourceType === 'share') {
      // The metadata copy: its digest, and the filesystem check on a scratch copy (opening the backup's own file could leave files beside it).
      const scratch = await mkdtemp(join(tmpdir(), 'strata-verify-'));
      try {
        await copyMetadata(chain, join(scratch, 'meta.sqlite'));
        await checkFilesystem(chain, join(scratch, 'meta.sqlite'));
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    }
    const reader = new ChainReader(this.env, chain);
    ctx.setTotal(reader.dataBytes);
    await walk(ctx, reader, async () => undefined, async () => undefined);
  }
}
