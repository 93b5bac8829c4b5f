import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource, Like, Repository } from 'typeorm';
import { Conflict, InvalidArgument, NotFound } from '../common/errors';
import { formatSize } from '../common/size';
import { STRATA_CONFIG, type StrataConfig } from '../config/config';
import { sharesDir } from '../nas/share-paths';
import { changedRuns } from '../virtualization/page-diff';
import { AssignmentService } from './assignment.service';
import { AuditService } from './audit.service';
import { SYSTEM_ACTOR, type Actor, type VolumeInfo } from './domain';
import { HostEntity, ReplicaEntity, ShareEntity, VolumeEntity } from './entities';
import { StorageEvents } from './events';
import { findByKey, findVolumeOrShare, now } from './lookup';
import { ReplicaMetadataFiles, ReplicaMismatch } from './replica-metadata';
import { StorageRuntime } from './runtime';
import { SnapshotKeepers, type KeptSnapshot } from './snapshot-keepers';
import { SnapshotService } from './snapshot.service';
import { ShareService, shareVolumeName } from './share.service';
import { VolumeService } from './volume.service';

export { ReplicaMismatch } from './replica-metadata';

/** A replica's consistent points are `<volume>@cycle-<n>`; the last two are kept. */
export const CYCLE_PREFIX = 'cycle-';
const KEEP_CYCLES = 2;
/** A share replica's metadata database may grow to its share's size, and to at least this. */
const MIN_METADATA_LIMIT = 4 * 2 ** 30;

/** What a REPLICA_META call brings: bytes of cycle `cycle`'s metadata database, in a copy that started as cycle `base`'s. */
export interface MetadataPiece {
  cycle: number;
  base: number;
  offset: number;
  data: Buffer;
}

/** A volume accepted as a replica, and the share it backs when it is a share's. */
interface ReplicaTarget {
  volume: VolumeEntity;
  share: ShareEntity | null;
}

/** REPLICA_COMMIT from a host that does not write this replica: the SAN target answers NOT_REPLICA. */
export class NotReplica extends Conflict {
  constructor(volume: string, host: string) {
    super('NOT_REPLICA', `volume '${volume}' is not a replica received from host '${host}' (strata replica accept ${volume} --host ${host} on this gateway)`, { volume, host });
  }
}

/**
 * The target side of replication (docs/replication.md): a volume accepted as
 * a replica is written only by the source gateway's host (read-write,
 * others read-only), and each REPLICA_COMMIT that host sends after a cycle's
 * FLUSH snapshots it as `<volume>@cycle-<n>`, keeping the last two. Promote
 * rolls back to the last such point if the replica took writes after it,
 * then makes it an ordinary volume.
 *
 * A share can be a replica too: its volume is written like a block
 * replica's, its metadata database arrives with REPLICA_META and is checked
 * at the commit, which keeps it as the metadata of the snapshot
 * `share:<name>@cycle-<n>`. The share is not served while it is a replica;
 * promote puts its last cycle's database in place and serves it.
 */
@Injectable()
export class ReplicaService {
  private readonly log = new Logger('ReplicaService');
  private readonly replicas: Repository<ReplicaEntity>;
  private readonly volumes: Repository<VolumeEntity>;
  /** Commits and promotes one at a time: a promote never races the snapshot of a cycle. */
  private serial: Promise<unknown> = Promise.resolve();
  private readonly metaFiles: ReplicaMetadataFiles;
  /** The staged metadata database of the cycle each share replica is receiving, so REPLICA_META needs no catalog query. */
  private readonly staging = new Map<string, { cycle: number; base: number; limit: number; path: Promise<string> }>();

  constructor(
    private readonly ds: DataSource,
    private readonly audit: AuditService,
    private readonly events: StorageEvents,
    private readonly assignments: AssignmentService,
    private readonly snapshots: SnapshotService,
    private readonly volumeService: VolumeService,
    private readonly runtime: StorageRuntime,
    private readonly shares: ShareService,
    keepers: SnapshotKeepers,
    @Inject(STRATA_CONFIG) config: StrataConfig,
  ) {
    this.replicas = ds.getRepository(ReplicaEntity);
    this.volumes = ds.getRepository(VolumeEntity);
    this.metaFiles = new ReplicaMetadataFiles(sharesDir(config.dataDir));
    keepers.register((snap, ctx) => (ctx.originDeleted ? Promise.resolve(null) : this.keeps(snap)));
  }

  /** A replica's last consistent point is what promote rolls back to: it stays while the volume is a replica. */
  private async keeps(snap: KeptSnapshot): Promise<string | null> {
    if (!snap.originId) return null;
    const replica = await this.replicas.findOne({ where: { volumeId: snap.originId } });
    if (!replica || replica.lastCycle === 0 || !snap.name.endsWith(`@${CYCLE_PREFIX}${replica.lastCycle}`)) return null;
    return `it is replica's last consistent point (cycle ${replica.lastCycle}), which promote rolls back to; promote the replica first, or wait for the next cycle`;
  }

  /** A replica's volume (a share's given its name): `replica` says who writes it and its last committed cycle. */
  async status(key: string): Promise<VolumeInfo> {
    return this.volumeService.get((await this.replicaTarget(key)).volume.id);
  }

  /**
   * Mark a block volume, or a share, as the replica the host (the source
   * gateway's replication key) writes. A share stops being served at once;
   * one that holds file data needs `force`, since the source's copy
   * replaces it.
   */
  accept(actor: Actor, key: string, req: { host: string; force?: boolean }): Promise<VolumeInfo> {
    return this.audit.audited(
      actor,
      'replica.accept',
      { type: 'volume', name: key },
      () =>
        this.exclusive(async () => {
          if (typeof req.host !== 'string' || req.host === '') throw new InvalidArgument('host is required: the host registered with the source gateway\'s replication key', 'host');
          const { volume, share } = await this.replicaTarget(key);
          const host = await findByKey(this.ds.getRepository(HostEntity), 'host', req.host);
          if (await this.replicas.findOne({ where: { volumeId: volume.id } })) {
            throw new Conflict('ALREADY_REPLICA', `${share ? `share '${share.name}'` : `volume '${volume.name}'`} is already a replica`, { volume: volume.name });
          }
          const current = await this.assignments.list({ volume: volume.id });
          const writers = current.filter((a) => a.access === 'rw' && a.hostId !== host.id);
          if (writers.length > 0) {
            throw new Conflict('VOLUME_HAS_WRITERS', `volume '${volume.name}' is assigned read-write to host(s) ${writers.map((a) => a.hostName).join(', ')}: a replica is written by its source alone (revoke them, or make them ro)`, { volume: volume.name });
          }
          const used = share ? (await this.shares.get(share.id)).allocatedBytes : 0;
          if (share && used > 0 && !req.force) {
            throw new Conflict('SHARE_NOT_EMPTY', `share '${share.name}' holds ${formatSize(used)} of file data, which the source's copy would replace: accept it with force, or use a new share`, { share: share.name });
          }
          // The row first: the assignment of a share's volume is allowed only to the host that writes it as a replica.
          await this.replicas.insert({ volumeId: volume.id, hostId: host.id, lastCycle: 0, lastCommitAt: null, createdAt: now() });
          try {
            // Shared, so other hosts can still get read-only assignments; only the source host writes (AssignmentService checks).
            const own = current.find((a) => a.hostId === host.id);
            if (own) await this.assignments.update(actor, own.id, { access: 'rw', sharing: 'shared' });
            else await this.assignments.create(actor, { host: host.id, volume: volume.id, access: 'rw', sharing: 'shared' });
          } catch (e) {
            await this.replicas.delete({ volumeId: volume.id });
            throw e;
          }
          if (share) {
            await this.metaFiles.discard(share.id);
            // Not served from now on: the NAS closes its filesystem (ExportTable sees served: false).
            this.events.emit('share.updated', await this.shares.exportOf(share.id));
          }
          return this.changed(volume.id);
        }),
      (v) => ({ type: 'volume', id: v.id, name: v.name }),
      { host: req.host, force: !!req.force },
    );
  }

  /**
   * Make a replica an ordinary volume: back to its last committed cycle if it
   * changed after it (an interrupted cycle), then drop the source host's
   * assignment and the flag. With no committed cycle it needs `force`.
   */
  promote(actor: Actor, volumeKey: string, opts: { force?: boolean } = {}): Promise<VolumeInfo> {
    return this.audit.audited(
      actor,
      'replica.promote',
      { type: 'volume', name: volumeKey },
      () =>
        this.exclusive(async () => {
          const { volume, share } = await this.replicaTarget(volumeKey);
          const replica = await this.replicaOf(volume);
          if (replica.lastCycle === 0 && !opts.force) {
            throw new Conflict('NO_CONSISTENT_POINT', `replica '${volume.name}' has no committed cycle yet, so its contents may be a partial copy: promote with force to take it as it is`, { volume: volume.name });
          }
          // The source stops writing first: later calls of its sessions get REVOKED.
          for (const a of await this.assignments.list({ volume: volume.id })) if (a.hostId === replica.hostId) await this.assignments.remove(actor, a.id);
          this.staging.delete(volume.id);
          if (replica.lastCycle > 0) {
            const point = `${volume.name}@${CYCLE_PREFIX}${replica.lastCycle}`;
            const snap = await this.volumes.findOne({ where: { name: point, originId: volume.id, role: 'snapshot', state: 'online' } });
            if (!snap) throw new NotFound('snapshot', point);
            const disk = this.runtime.disks.get(volume.id);
            const snapDisk = this.runtime.disks.get(snap.id);
            if (!disk || !snapDisk) throw new NotFound('volume', volume.name);
            if (changedRuns(snapDisk, disk).length > 0) {
              this.log.warn(`replica ${volume.name} changed after cycle ${replica.lastCycle}: rolling it back to ${point}`);
              if (share) await this.snapshots.rollbackUnservedShare(volume, snap);
              else await this.snapshots.rollback(actor, volume.id, { snapshot: snap.id, force: true });
            }
            // The files of the cycle the volume now holds: the database that goes with it.
            if (share) await this.metaFiles.installLive(share.id, this.metaFiles.snapshotCopy(share.id, snap.id));
          }
          await this.replicas.delete({ volumeId: volume.id });
          if (share) {
            await this.metaFiles.discard(share.id);
            // Served again: the NAS opens the filesystem it now finds in place.
            this.events.emit('share.updated', await this.shares.exportOf(share.id));
          }
          return this.changed(volume.id);
        }),
      (v) => ({ type: 'volume', id: v.id, name: v.name }),
      { force: !!opts.force },
    );
  }

  /**
   * REPLICA_COMMIT: the source's cycle `cycle` is flushed on the replica, so
   * snapshot it as the new consistent point. A cycle already committed is
   * answered OK again (the source resends after a restart of either side).
   * A share replica's commit carries its metadata database's length and
   * SHA-256: the staged database must match them, and becomes the
   * snapshot's metadata.
   */
  commit(volumeId: string, hostId: string, hostName: string, cycle: number, metadata?: { length: number; sha256: Buffer }): Promise<void> {
    return this.exclusive(async () => {
      const { volume, share, replica } = await this.writtenBy(volumeId, hostId, hostName);
      checkKind(volume, share, !!metadata);
      if (cycle <= replica.lastCycle) return;
      const name = `${CYCLE_PREFIX}${cycle}`;
      const actor: Actor = { name: hostName, source: 'san:replica-commit' };
      // Taken by an earlier commit of this cycle whose record a crash lost: the source wrote nothing since.
      if (!(await this.volumes.findOne({ where: { name: `${volume.name}@${name}` } }))) {
        const given = share && metadata ? this.metaFiles.adopt(share.id, await this.metaFiles.finish(share.id, cycle, metadata)) : undefined;
        await this.audit.audited(actor, 'snapshot.create', { type: 'volume', name: `${volume.name}@${name}` }, () => this.snapshots.takeExclusive([{ volume, name, metadata: given }]), undefined, { replicaCycle: cycle });
      }
      await this.replicas.update({ volumeId }, { lastCycle: cycle, lastCommitAt: now() });
      this.staging.delete(volumeId);
      await this.prune(actor, volume, cycle);
      this.events.emit('volume.updated', await this.volumeService.get(volumeId));
    });
  }

  /**
   * REPLICA_META: bytes of a share replica's metadata database for cycle
   * `cycle`. The first call of a cycle makes the staged copy from cycle
   * `base`'s database (which must be the replica's last committed cycle, or
   * 0: from nothing); later ones only write. Calls for a committed cycle are
   * answered OK and change nothing (a resend).
   */
  async stageMetadata(volumeId: string, hostId: string, hostName: string, piece: MetadataPiece): Promise<void> {
    let staged = this.staging.get(volumeId);
    if (!staged || staged.cycle !== piece.cycle || staged.base !== piece.base) {
      const begun = await this.exclusive(() => this.beginStaging(volumeId, hostId, hostName, piece));
      if (!begun) return;
      staged = begun;
    }
    if (piece.offset + piece.data.length > staged.limit) {
      throw new InvalidArgument(`REPLICA_META: bytes up to ${piece.offset + piece.data.length} are past the ${formatSize(staged.limit)} a share replica's metadata database may take`, 'offset');
    }
    await this.metaFiles.write(await staged.path, piece.offset, piece.data);
  }

  private async beginStaging(volumeId: string, hostId: string, hostName: string, piece: MetadataPiece) {
    const known = this.staging.get(volumeId);
    if (known && known.cycle === piece.cycle && known.base === piece.base) return known;
    const { volume, share, replica } = await this.writtenBy(volumeId, hostId, hostName);
    checkKind(volume, share, true);
    if (piece.cycle <= replica.lastCycle) return null;
    let from: string | null = null;
    if (piece.base !== 0) {
      if (piece.base !== replica.lastCycle) {
        throw new ReplicaMismatch(`share replica '${share!.name}' holds cycle ${replica.lastCycle}, and the source sent changes against cycle ${piece.base}: send the metadata whole (base 0)`, { share: share!.name, lastCycle: replica.lastCycle, base: piece.base });
      }
      const snap = await this.volumes.findOne({ where: { name: `${volume.name}@${CYCLE_PREFIX}${piece.base}`, originId: volume.id, role: 'snapshot', state: 'online' } });
      if (!snap) throw new ReplicaMismatch(`share replica '${share!.name}' no longer has cycle ${piece.base}: send the metadata whole (base 0)`, { share: share!.name, base: piece.base });
      from = this.metaFiles.snapshotCopy(share!.id, snap.id);
    }
    const entry = {
      cycle: piece.cycle,
      base: piece.base,
      limit: Math.max(MIN_METADATA_LIMIT, volume.size),
      path: this.metaFiles.begin(share!.id, piece.cycle, piece.base, from),
    };
    this.staging.set(volumeId, entry);
    entry.path.catch(() => {
      if (this.staging.get(volumeId) === entry) this.staging.delete(volumeId);
    });
    await entry.path;
    return entry;
  }

  /** The replica and its share, if the calling host is the one that writes it; NotReplica otherwise. */
  private async writtenBy(volumeId: string, hostId: string, hostName: string): Promise<ReplicaTarget & { replica: ReplicaEntity }> {
    const volume = await this.volumes.findOne({ where: { id: volumeId } });
    const replica = await this.replicas.findOne({ where: { volumeId } });
    if (!volume || !replica || replica.hostId !== hostId) throw new NotReplica(volume?.name ?? volumeId, hostName);
    const share = volume.role === 'share' ? await this.shares.rowOfVolume(volume.id) : null;
    return { volume, share, replica };
  }

  /** Cycle snapshots older than the last KEEP_CYCLES go. */
  private async prune(actor: Actor, volume: VolumeEntity, cycle: number): Promise<void> {
    const rows = await this.volumes.find({ where: { originId: volume.id, role: 'snapshot', state: 'online', name: Like(`${volume.name}@${CYCLE_PREFIX}%`) } });
    for (const row of rows) {
      const n = Number(row.name.slice(row.name.indexOf('@') + 1 + CYCLE_PREFIX.length));
      if (!Number.isSafeInteger(n) || n > cycle - KEEP_CYCLES) continue;
      await this.audit
        .audited(actor, 'snapshot.delete', { type: 'volume', id: row.id, name: row.name }, () => this.snapshots.destroyExclusive(SYSTEM_ACTOR, row))
        .catch((e: Error) => this.log.warn(`replica ${volume.name}: could not delete ${row.name}: ${e.message}`));
    }
  }

  private async replicaOf(volume: VolumeEntity): Promise<ReplicaEntity> {
    const replica = await this.replicas.findOne({ where: { volumeId: volume.id } });
    if (!replica) throw new NotFound('replica', volume.name);
    return replica;
  }

  /** A block volume or a share (by its name, or its volume's), online. */
  private async replicaTarget(key: string): Promise<ReplicaTarget> {
    const { volume: row } = await findVolumeOrShare(this.volumes, this.ds.getRepository(ShareEntity), key);
    if (row.state !== 'online' || row.mirrorOf) throw new NotFound('volume', key);
    if (row.role === 'snapshot') throw new InvalidArgument(`volume '${row.name}' is a snapshot: only block volumes and shares are replicas`, 'volume');
    if (row.role !== 'share') return { volume: row, share: null };
    const share = await this.shares.rowOfVolume(row.id);
    if (!share || share.state !== 'online') throw new NotFound('share', key);
    if (share.restoringFrom) throw new Conflict('SHARE_RESTORING', `share '${share.name}' is being restored from backup ${share.restoringFrom}`, { share: share.name });
    return { volume: row, share };
  }

  private async changed(volumeId: string): Promise<VolumeInfo> {
    const info = await this.volumeService.get(volumeId);
    this.events.emit('volume.updated', info);
    return info;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.serial.then(fn, fn);
    this.serial = run.catch(() => undefined);
    return run;
  }
}


/** A share's replica takes a share's replication (with metadata), a block volume's a volume's. */
function checkKind(volume: VolumeEntity, share: ShareEntity | null, withMetadata: boolean): void {
  if (share && !withMetadata) {
    throw new ReplicaMismatch(`'${share.name}' is a share replica, and the source sends a block volume without its metadata: replicate a volume into a volume (${shareVolumeName(share.name)} is the share's)`, { share: share.name });
  }
  if (!share && withMetadata) {
    throw new ReplicaMismatch(`volume '${volume.name}' is a block volume replica, and the source replicates a share: accept a share as its replica`, { volume: volume.name });
  }
}
