import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { isAbsolute, normalize } from 'node:path';
import { Conflict, InUse, InvalidArgument, NotFound } from '../../common/errors';
import { STRATA_CONFIG, type StrataConfig } from '../../config/config';
import type { JobInfo } from '../../jobs/job-kind';
import { JobService } from '../../jobs/job.service';
import { AuditService } from '../../storage/audit.service';
import { BackupCatalog } from '../../storage/backup-catalog';
import type { Actor, BackupRecord, BackupTargetInfo, BackupTargetKind, ShareInfo, SnapshotInfo, VolumeInfo } from '../../storage/domain';
import { ShareService, type ExportRuleInput } from '../../storage/share.service';
import { newId } from '../../storage/lookup';
import { StorageRuntime } from '../../storage/runtime';
import { SnapshotKeepers, type KeptSnapshot } from '../../storage/snapshot-keepers';
import { SnapshotService } from '../../storage/snapshot.service';
import { VolumeService } from '../../storage/volume.service';
import { BackupTargetError, directoryPaths, probeWritable, removeFiles } from './backup-files';
import { BACKUP_KIND, BackupJob, shareNameOf, type BackupEnv } from './backup.job';
import { backupSnapshotName } from './pool-sink';
import { RestoreJob, RESTORE_KIND, VerifyJob, VERIFY_KIND } from './restore.job';

/** A backup as people see it: the catalog row, its target, and its job. */
export interface BackupView extends BackupRecord {
  targetName: string;
  targetKind: BackupTargetKind;
  /** The job that makes it (its state says why a pending backup is not complete). */
  job: JobInfo | null;
  /** Backups that build on this one. */
  dependents: string[];
}

export interface StartedBackup {
  backup: BackupView;
  job: JobInfo;
}

export interface StartedRestore {
  volume: VolumeInfo;
  job: JobInfo;
  /** Restored to a new share: it, not served until the job is done. */
  share?: ShareInfo;
}

/** The snapshot names backups use: `backup-<backup id>`. */
const SNAPSHOT_RE = /^backup-([0-9a-f-]{36})$/;

/**
 * Client-free backup: targets, backups (full and incremental) of a volume's
 * snapshot, restore and verify, each a resumable job. Also keeps the
 * snapshots backups need from being deleted by hand.
 */
@Injectable()
export class BackupService implements OnModuleInit {
  private readonly log = new Logger('BackupService');
  /** What the jobs do their work with; snapshots and volumes they make are audited under it. */
  private readonly env: BackupEnv;

  constructor(
    private readonly catalog: BackupCatalog,
    private readonly jobs: JobService,
    private readonly audit: AuditService,
    private readonly runtime: StorageRuntime,
    private readonly volumes: VolumeService,
    private readonly snapshots: SnapshotService,
    private readonly keepers: SnapshotKeepers,
    private readonly shares: ShareService,
    @Inject(STRATA_CONFIG) config: StrataConfig,
  ) {
    this.env = {
      dataDir: config.dataDir,
      shares,
      catalog,
      runtime,
      volumes,
      snapshots,
      actor: { name: 'system', source: 'backup' },
      findSnapshot: (volumeId, name) => this.findSnapshot(volumeId, name),
      pruneSnapshots: (volumeId) => this.pruneSnapshots(volumeId),
    };
  }

  onModuleInit(): void {
    this.jobs.register(new BackupJob(this.env));
    this.jobs.register(new RestoreJob(this.env));
    this.jobs.register(new VerifyJob(this.env));
    this.keepers.register((snap, ctx) => this.keeps(snap, ctx.originDeleted));
  }

  // ---- targets ----

  listTargets(): Promise<BackupTargetInfo[]> {
    return this.catalog.listTargets();
  }

  getTarget(key: string): Promise<BackupTargetInfo> {
    return this.catalog.getTarget(key);
  }

  addTarget(actor: Actor, req: { name: string; kind: string; path?: string; pool?: string }): Promise<BackupTargetInfo> {
    return this.audit.audited(actor, 'backup-target.create', { type: 'backup-target', name: String(req.name) }, async () => {
      const kind = req.kind;
      if (kind !== 'directory' && kind !== 'device' && kind !== 'pool') throw new InvalidArgument(`kind must be directory, device or pool, not '${String(kind)}'`, 'kind');
      if (kind === 'pool') {
        if (typeof req.pool !== 'string' || req.pool === '') throw new InvalidArgument('a pool target needs pool: the name of a pool of this gateway', 'pool');
        if (req.path !== undefined) throw new InvalidArgument('a pool target takes no path', 'path');
        return this.catalog.addTarget({ name: req.name, kind, path: null, pool: req.pool });
      }
      if (req.pool !== undefined) throw new InvalidArgument(`a ${kind} target takes no pool`, 'pool');
      if (typeof req.path !== 'string' || !isAbsolute(req.path)) throw new InvalidArgument(`a ${kind} target needs path: an absolute path`, 'path');
      const path = normalize(req.path);
      if ((await this.catalog.devicePaths()).map((p) => normalize(p)).includes(path)) {
        throw new InvalidArgument(`'${path}' is a device of this gateway: backups there would overwrite its pools`, 'path');
      }
      try {
        if (kind === 'directory') await probeWritable(path);
      } catch (e) {
        if (e instanceof BackupTargetError) throw new InvalidArgument(e.message, 'path');
        throw e;
      }
      return this.catalog.addTarget({ name: req.name, kind, path, pool: null });
    }, (t) => ({ type: 'backup-target', id: t.id, name: t.name }), { kind: req.kind, path: req.path, pool: req.pool });
  }

  removeTarget(actor: Actor, key: string): Promise<BackupTargetInfo> {
    return this.audit.audited(actor, 'backup-target.delete', { type: 'backup-target', name: key }, () => this.catalog.removeTarget(key), (t) => ({ type: 'backup-target', id: t.id, name: t.name }));
  }

  // ---- backups ----

  async list(filter: { volume?: string } = {}): Promise<BackupView[]> {
    let rows: BackupRecord[];
    if (filter.volume) {
      const live = await this.volumes.get(filter.volume).catch(() => null);
      rows = live ? await this.catalog.listBackups({ volumeId: live.id }) : await this.catalog.listBackups({ volumeName: filter.volume });
    } else rows = await this.catalog.listBackups();
    return this.describe(rows);
  }

  async get(id: string): Promise<BackupView> {
    return (await this.describe([await this.catalog.getBackup(id)]))[0];
  }

  create(actor: Actor, req: { volume: string; target: string; incremental?: boolean; rateLimit?: number }): Promise<StartedBackup> {
    return this.audit.audited(actor, 'backup.create', { type: 'volume', name: String(req.volume) }, async () => {
      const { volume, share } = await this.sourceOf(req.volume);
      const target = await this.catalog.getTarget(req.target);
      if (share && target.kind === 'device') {
        throw new InvalidArgument(`target '${target.name}' is a device: it holds one raw image and has no room for share '${share.name}''s metadata database; back shares up to a directory or pool target`, 'target');
      }
      let parentId: string | null = null;
      if (req.incremental) {
        if (target.kind === 'device') throw new InvalidArgument(`target '${target.name}' is a device: it holds one full raw image, never an incremental`, 'incremental');
        const parent = await this.latest(volume.id, target.id);
        if (!parent) throw new Conflict('BACKUP_NOT_COMPLETE', `volume '${volume.name}' has no complete backup on target '${target.name}' to build on: make a full backup first`, { volume: volume.name });
        if (!(await this.findSnapshot(volume.id, parent.snapshotName))) {
          throw new Conflict('BACKUP_NOT_COMPLETE', `the snapshot of backup ${parent.id} (the base for an incremental) is gone: make a full backup`, { backup: parent.id });
        }
        parentId = parent.id;
      }
      const id = newId();
      await this.catalog.insertBackup({ id, volumeId: volume.id, volumeName: volume.name, snapshotName: backupSnapshotName(id), kind: parentId ? 'incremental' : 'full', parentId, targetId: target.id, createdBy: actor.name, shareId: share?.id ?? null });
      let job: JobInfo;
      try {
        const params: Record<string, unknown> = { backupId: id };
        if (req.rateLimit) params.rateLimit = req.rateLimit;
        job = await this.jobs.start(actor, BACKUP_KIND, share ? { type: 'share', id: share.id, name: share.name } : { type: 'volume', id: volume.id, name: volume.name }, params);
      } catch (e) {
        await this.catalog.deleteBackups([id]);
        throw e;
      }
      await this.catalog.updateBackup(id, { jobId: job.id });
      return { backup: await this.get(id), job };
    }, (b) => ({ type: 'backup', id: b.backup.id, name: b.backup.volumeName }), { target: req.target, incremental: !!req.incremental, rateLimit: req.rateLimit });
  }

  /** Remove a backup (and, asked to, every backup built on it): files, snapshots, rows. */
  remove(actor: Actor, id: string, opts: { withDependents?: boolean } = {}): Promise<void> {
    return this.audit.audited(actor, 'backup.delete', { type: 'backup', id }, async () => {
      const root = await this.catalog.getBackup(id);
      const victims: BackupRecord[] = [];
      const walk = async (b: BackupRecord) => {
        const children = await this.catalog.children(b.id);
        if (children.length && !opts.withDependents) {
          throw new Conflict('BACKUP_HAS_DEPENDENTS', `backup ${b.id} has ${children.length} incremental backup(s) built on it (${children.map((c) => c.id).join(', ')}): remove them first, or remove with dependents`, { backup: b.id, dependents: children.map((c) => c.id) });
        }
        for (const c of children) await walk(c);
        victims.push(b);
      };
      await walk(root);
      for (const v of victims) {
        const job = v.jobId ? await this.jobs.get(v.jobId).catch(() => null) : null;
        if (job && (job.state === 'running' || job.state === 'queued' || job.state === 'paused')) await this.jobs.cancel(actor, job.id);
      }
      // Rows first: a crash after leaves files and snapshots nobody needs, never a row without its data.
      await this.catalog.deleteBackups(victims.map((v) => v.id));
      for (const v of victims) await this.dropData(v);
      for (const volumeId of new Set(victims.map((v) => v.volumeId))) await this.pruneSnapshots(volumeId);
    }, undefined, { withDependents: !!opts.withDependents });
  }

  restore(actor: Actor, id: string, req: { to?: string; toShare?: string; pool?: string; over?: string; force?: boolean; rateLimit?: number; rules?: ExportRuleInput[] }): Promise<StartedRestore> {
    return this.audit.audited(actor, 'backup.restore', { type: 'backup', id }, async () => {
      const backup = await this.catalog.getBackup(id);
      if (backup.state !== 'complete') throw new Conflict('BACKUP_NOT_COMPLETE', `backup ${id} is ${backup.state === 'pending' ? 'not complete' : backup.state}`, { backup: id });
      if (backup.sourceType === 'share' || req.toShare !== undefined) return this.restoreShare(actor, backup, req);
      if (req.rules !== undefined) throw new InvalidArgument('rules are for a restore to a new share (toShare)', 'rules');
      if ((req.to === undefined) === (req.over === undefined)) throw new InvalidArgument('give either to (a new volume) or over (an existing volume, with force)', 'to');
      let volume: VolumeInfo;
      let created = false;
      if (req.to !== undefined) {
        const source = await this.volumes.get(backup.volumeId).catch(() => null);
        const pool = req.pool ?? source?.poolName;
        if (!pool) throw new InvalidArgument(`volume '${backup.volumeName}' no longer exists: name the pool to restore into`, 'pool');
        volume = await this.volumes.create(actor, { name: req.to, pool, size: backup.size });
        created = true;
      } else {
        volume = await this.volumes.get(req.over!);
        if (volume.role !== 'block') throw new InvalidArgument(`volume '${volume.name}' is not a block volume`, 'over');
        if (volume.assignments.length > 0 || volume.nbdExport) throw new InUse('volume', volume.name, `${volume.assignments.length ? `host(s) ${volume.assignments.map((a) => a.hostName).join(', ')}` : 'the NBD export'} (detach it before restoring over it)`);
        if (!req.force) throw new Conflict('RESTORE_NEEDS_FORCE', `restoring over volume '${volume.name}' replaces everything on it: add force`, { volume: volume.name });
        if (volume.size < backup.size) volume = await this.volumes.update(actor, volume.id, { size: backup.size });
      }
      try {
        const params: Record<string, unknown> = { backupId: id, volumeId: volume.id };
        if (req.rateLimit) params.rateLimit = req.rateLimit;
        const job = await this.jobs.start(actor, RESTORE_KIND, { type: 'volume', id: volume.id, name: volume.name }, params);
        return { volume, job };
      } catch (e) {
        if (created) await this.volumes.remove(actor, volume.id).catch(() => undefined);
        throw e;
      }
    }, (r) => ({ type: 'backup', id, name: r.share?.name ?? r.volume.name }), { to: req.to, toShare: req.toShare, pool: req.pool, over: req.over, force: !!req.force });
  }

  /**
   * A share backup goes to a new share only (writing over a served share
   * under its clients is not offered): same size, in the backed-up share's
   * pool unless `pool`, export rules as given (none by default: it admits
   * nobody until the admin says who). It is not served until the job is done.
   */
  private async restoreShare(actor: Actor, backup: BackupRecord, req: { to?: string; toShare?: string; pool?: string; over?: string; rateLimit?: number; rules?: ExportRuleInput[] }): Promise<StartedRestore> {
    if (backup.sourceType !== 'share') throw new InvalidArgument(`backup ${backup.id} is of volume '${backup.volumeName}', not a share: restore it with to or over`, 'toShare');
    if (req.toShare === undefined || req.to !== undefined || req.over !== undefined) {
      throw new InvalidArgument(`backup ${backup.id} is of share '${shareNameOf(backup.volumeName)}': restore it to a new share with toShare (and no to or over)`, 'toShare');
    }
    const source = await this.volumes.get(backup.volumeId).catch(() => null);
    const pool = req.pool ?? source?.poolName;
    if (!pool) throw new InvalidArgument(`share '${shareNameOf(backup.volumeName)}' no longer exists: name the pool to restore into`, 'pool');
    const share = await this.shares.createRestoring(actor, { name: req.toShare, pool, size: backup.size, rules: req.rules ?? [] }, backup.id);
    try {
      const params: Record<string, unknown> = { backupId: backup.id, volumeId: share.volumeId, shareId: share.id };
      if (req.rateLimit) params.rateLimit = req.rateLimit;
      const job = await this.jobs.start(actor, RESTORE_KIND, { type: 'share', id: share.id, name: share.name }, params);
      return { volume: await this.volumes.get(share.volumeId), share, job };
    } catch (e) {
      await this.shares.remove(actor, share.id, { force: true }).catch(() => undefined);
      throw e;
    }
  }

  /** What a backup is of: a block volume, or a share (by its name, or its volume's `share:<name>`). */
  private async sourceOf(key: string): Promise<{ volume: VolumeInfo; share: ShareInfo | null }> {
    const volume = await this.volumes.get(key).catch((e: unknown) => {
      if (e instanceof NotFound) return null;
      throw e;
    });
    if (volume?.role === 'snapshot') throw new InvalidArgument(`volume '${volume.name}' is a snapshot: back up the volume it was taken of`, 'volume');
    if (volume?.role === 'block') return { volume, share: null };
    const share = volume ? (await this.shares.list()).find((s) => s.volumeId === volume.id) : await this.shares.get(key).catch(() => null);
    if (!share) throw new NotFound('volume', key);
    if (share.restoringFrom) throw new Conflict('SHARE_RESTORING', `share '${share.name}' is being restored from backup ${share.restoringFrom}: back it up once its restore job is done`, { share: share.name });
    return { volume: volume ?? (await this.volumes.get(share.volumeId)), share };
  }

  verify(actor: Actor, id: string): Promise<JobInfo> {
    return this.audit.audited(actor, 'backup.verify', { type: 'backup', id }, async () => {
      const backup = await this.catalog.getBackup(id);
      return this.jobs.start(actor, VERIFY_KIND, { type: 'backup', id: backup.id, name: `${backup.volumeName} ${backup.id}` }, { backupId: id });
    });
  }

  // ---- snapshots backups need ----

  /** Why a backup snapshot must stay, or null. */
  private async keeps(snap: KeptSnapshot, originDeleted: boolean): Promise<string | null> {
    const at = snap.name.indexOf('@');
    const m = SNAPSHOT_RE.exec(snap.name.slice(at + 1));
    if (!m) return null;
    const backup = await this.catalog.getBackup(m[1]).catch(() => null);
    if (!backup) return null;
    if (snap.originId !== backup.volumeId) return `it is backup ${backup.id} on a pool target: remove it with 'strata backup rm ${backup.id}'`;
    if (backup.state === 'pending') {
      const job = backup.jobId ? await this.jobs.get(backup.jobId).catch(() => null) : null;
      const active = job && (job.state === 'running' || job.state === 'queued' || job.state === 'paused');
      if (active || !originDeleted) return `backup ${backup.id} is being made from it${job ? ` (job ${job.id} is ${job.state})` : ''}: cancel and remove the backup first`;
      return null;
    }
    if (originDeleted || backup.state !== 'complete') return null;
    const latest = await this.latest(backup.volumeId, backup.targetId);
    if (latest?.id !== backup.id) return null;
    const target = await this.catalog.getTarget(backup.targetId).catch(() => null);
    return `it is the base of the next incremental backup of '${backup.volumeName}' to target '${target?.name ?? backup.targetId}' (remove backup ${backup.id} to let it go)`;
  }

  /** Delete the volume's backup snapshots that no backup needs any more. */
  private async pruneSnapshots(volumeId: string): Promise<void> {
    const snaps = await this.snapshots.list(volumeId).catch((e: unknown) => {
      if (e instanceof NotFound) return [] as SnapshotInfo[];
      throw e;
    });
    for (const s of snaps) {
      if (!SNAPSHOT_RE.test(s.name)) continue;
      if (await this.keeps({ id: s.id, name: s.volumeName, originId: s.originId }, false)) continue;
      try {
        await this.snapshots.remove(this.env.actor, volumeId, s.id);
      } catch (e) {
        this.log.warn(`could not delete backup snapshot ${s.volumeName}: ${(e as Error).message}`);
      }
    }
  }

  /** A removed backup's bytes: its files, or its snapshot (and the pool volume once it holds no backup). */
  private async dropData(b: BackupRecord): Promise<void> {
    const target = await this.catalog.getTarget(b.targetId).catch(() => null);
    try {
      if (target?.kind === 'directory') {
        const p = directoryPaths(target.path!, b.volumeName, b.id);
        await removeFiles([p.image, p.manifest, p.imagePart, p.manifestPart, p.metadata, p.metadataPart]);
      } else if (target?.kind === 'pool' && b.metadataLocation) await removeFiles([b.metadataLocation]);
      if (target?.kind === 'pool' && b.location) {
        const at = await this.volumes.get(b.location).catch(() => null);
        const backupVolume = at?.role === 'snapshot' ? at.origin! : at ? { id: at.id, name: at.name } : null;
        if (at?.role === 'snapshot') await this.snapshots.remove(this.env.actor, backupVolume!.id, at.id);
        if (backupVolume && (await this.snapshots.list(backupVolume.id)).length === 0) {
          const inUse = (await this.catalog.listBackups({ targetId: target.id, states: ['pending'] })).some((x) => x.location === backupVolume.id);
          if (!inUse) await this.volumes.remove(this.env.actor, backupVolume.id);
        }
      }
    } catch (e) {
      this.log.warn(`backup ${b.id}: could not remove its data: ${(e as Error).message}`);
    }
  }

  /** The volume's newest complete backup on a target: the parent of its next incremental. */
  private async latest(volumeId: string, targetId: string): Promise<BackupRecord | null> {
    const done = (await this.catalog.listBackups({ volumeId, targetId, states: ['complete'] })).sort((a, b) => (a.finishedAt! < b.finishedAt! ? -1 : 1));
    return done[done.length - 1] ?? null;
  }

  private async findSnapshot(volumeId: string, name: string): Promise<SnapshotInfo | null> {
    return (await this.snapshots.list(volumeId)).find((s) => s.name === name) ?? null;
  }

  private async describe(rows: BackupRecord[]): Promise<BackupView[]> {
    const targets = new Map((await this.catalog.listTargets()).map((t) => [t.id, t]));
    const all = await this.catalog.listBackups();
    return Promise.all(
      rows.map(async (r) => ({
        ...r,
        targetName: targets.get(r.targetId)?.name ?? r.targetId,
        targetKind: targets.get(r.targetId)?.kind ?? 'directory',
        job: r.jobId ? await this.jobs.get(r.jobId).catch(() => null) : null,
        dependents: all.filter((b) => b.parentId === r.id).map((b) => b.id),
      })),
    );
  }
}
