import { Injectable, Logger } from '@nestjs/common';
import { DataSource, Like, Repository } from 'typeorm';
import { Conflict, InvalidArgument, NotFound } from '../common/errors';
import { changedRuns } from '../virtualization/page-diff';
import { AssignmentService } from './assignment.service';
import { AuditService } from './audit.service';
import { SYSTEM_ACTOR, type Actor, type VolumeInfo } from './domain';
import { HostEntity, ReplicaEntity, VolumeEntity } from './entities';
import { StorageEvents } from './events';
import { findByKey, now } from './lookup';
import { StorageRuntime } from './runtime';
import { SnapshotKeepers, type KeptSnapshot } from './snapshot-keepers';
import { SnapshotService } from './snapshot.service';
import { VolumeService } from './volume.service';

/** A replica's consistent points are `<volume>@cycle-<n>`; the last two are kept. */
export const CYCLE_PREFIX = 'cycle-';
const KEEP_CYCLES = 2;

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
 */
@Injectable()
export class ReplicaService {
  private readonly log = new Logger('ReplicaService');
  private readonly replicas: Repository<ReplicaEntity>;
  private readonly volumes: Repository<VolumeEntity>;
  /** Commits and promotes one at a time: a promote never races the snapshot of a cycle. */
  private serial: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly ds: DataSource,
    private readonly audit: AuditService,
    private readonly events: StorageEvents,
    private readonly assignments: AssignmentService,
    private readonly snapshots: SnapshotService,
    private readonly volumeService: VolumeService,
    private readonly runtime: StorageRuntime,
    keepers: SnapshotKeepers,
  ) {
    this.replicas = ds.getRepository(ReplicaEntity);
    this.volumes = ds.getRepository(VolumeEntity);
    keepers.register((snap, ctx) => (ctx.originDeleted ? Promise.resolve(null) : this.keeps(snap)));
  }

  /** A replica's last consistent point is what promote rolls back to: it stays while the volume is a replica. */
  private async keeps(snap: KeptSnapshot): Promise<string | null> {
    if (!snap.originId) return null;
    const replica = await this.replicas.findOne({ where: { volumeId: snap.originId } });
    if (!replica || replica.lastCycle === 0 || !snap.name.endsWith(`@${CYCLE_PREFIX}${replica.lastCycle}`)) return null;
    return `it is replica's last consistent point (cycle ${replica.lastCycle}), which promote rolls back to; promote the replica first, or wait for the next cycle`;
  }

  /** Mark a block volume as the replica the host (the source gateway's replication key) writes. */
  accept(actor: Actor, volumeKey: string, req: { host: string }): Promise<VolumeInfo> {
    return this.audit.audited(
      actor,
      'replica.accept',
      { type: 'volume', name: volumeKey },
      () =>
        this.exclusive(async () => {
          if (typeof req.host !== 'string' || req.host === '') throw new InvalidArgument('host is required: the host registered with the source gateway\'s replication key', 'host');
          const volume = await this.blockVolume(volumeKey);
          const host = await findByKey(this.ds.getRepository(HostEntity), 'host', req.host);
          if (await this.replicas.findOne({ where: { volumeId: volume.id } })) {
            throw new Conflict('ALREADY_REPLICA', `volume '${volume.name}' is already a replica`, { volume: volume.name });
          }
          const current = await this.assignments.list({ volume: volume.id });
          const writers = current.filter((a) => a.access === 'rw' && a.hostId !== host.id);
          if (writers.length > 0) {
            throw new Conflict('VOLUME_HAS_WRITERS', `volume '${volume.name}' is assigned read-write to host(s) ${writers.map((a) => a.hostName).join(', ')}: a replica is written by its source alone (revoke them, or make them ro)`, { volume: volume.name });
          }
          // Shared, so other hosts can still get read-only assignments; only the source host writes (AssignmentService checks).
          const own = current.find((a) => a.hostId === host.id);
          if (own) await this.assignments.update(actor, own.id, { access: 'rw', sharing: 'shared' });
          else await this.assignments.create(actor, { host: host.id, volume: volume.id, access: 'rw', sharing: 'shared' });
          await this.replicas.insert({ volumeId: volume.id, hostId: host.id, lastCycle: 0, lastCommitAt: null, createdAt: now() });
          return this.changed(volume.id);
        }),
      (v) => ({ type: 'volume', id: v.id, name: v.name }),
      { host: req.host },
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
          const volume = await this.blockVolume(volumeKey);
          const replica = await this.replicaOf(volume);
          if (replica.lastCycle === 0 && !opts.force) {
            throw new Conflict('NO_CONSISTENT_POINT', `replica '${volume.name}' has no committed cycle yet, so its contents may be a partial copy: promote with force to take it as it is`, { volume: volume.name });
          }
          // The source stops writing first: later calls of its sessions get REVOKED.
          for (const a of await this.assignments.list({ volume: volume.id })) if (a.hostId === replica.hostId) await this.assignments.remove(actor, a.id);
          if (replica.lastCycle > 0) {
            const point = `${volume.name}@${CYCLE_PREFIX}${replica.lastCycle}`;
            const snap = await this.volumes.findOne({ where: { name: point, originId: volume.id, role: 'snapshot', state: 'online' } });
            if (!snap) throw new NotFound('snapshot', point);
            const disk = this.runtime.disks.get(volume.id);
            const snapDisk = this.runtime.disks.get(snap.id);
            if (!disk || !snapDisk) throw new NotFound('volume', volume.name);
            if (changedRuns(snapDisk, disk).length > 0) {
              this.log.warn(`replica ${volume.name} changed after cycle ${replica.lastCycle}: rolling it back to ${point}`);
              await this.snapshots.rollback(actor, volume.id, { snapshot: snap.id, force: true });
            }
          }
          await this.replicas.delete({ volumeId: volume.id });
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
   */
  commit(volumeId: string, hostId: string, hostName: string, cycle: number): Promise<void> {
    return this.exclusive(async () => {
      const volume = await this.volumes.findOne({ where: { id: volumeId } });
      const replica = await this.replicas.findOne({ where: { volumeId } });
      if (!volume || !replica || replica.hostId !== hostId) throw new NotReplica(volume?.name ?? volumeId, hostName);
      if (cycle <= replica.lastCycle) return;
      const name = `${CYCLE_PREFIX}${cycle}`;
      const actor: Actor = { name: hostName, source: 'san:replica-commit' };
      // Taken by an earlier commit of this cycle whose record a crash lost: the source wrote nothing since.
      if (!(await this.volumes.findOne({ where: { name: `${volume.name}@${name}` } }))) {
        await this.audit.audited(actor, 'snapshot.create', { type: 'volume', name: `${volume.name}@${name}` }, () => this.snapshots.takeExclusive([{ volume, name }]), undefined, { replicaCycle: cycle });
      }
      await this.replicas.update({ volumeId }, { lastCycle: cycle, lastCommitAt: now() });
      await this.prune(actor, volume, cycle);
      this.events.emit('volume.updated', await this.volumeService.get(volumeId));
    });
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

  private async blockVolume(key: string): Promise<VolumeEntity> {
    const row = await findByKey(this.volumes, 'volume', key);
    if (row.state !== 'online' || row.mirrorOf) throw new NotFound('volume', key);
    if (row.role !== 'block') throw new InvalidArgument(`volume '${row.name}' is a ${row.role === 'share' ? "share's volume" : 'snapshot'}: only block volumes are replicas`, 'volume');
    return row;
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
