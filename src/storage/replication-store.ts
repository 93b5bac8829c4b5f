import { Injectable } from '@nestjs/common';
import { DataSource, In, Like, Repository } from 'typeorm';
import { InvalidArgument, NotFound } from '../common/errors';
import { AuditService } from './audit.service';
import { SYSTEM_ACTOR, type Actor } from './domain';
import { ReplicationEntity, ShareEntity, VolumeEntity } from './entities';
import { findVolumeOrShare, newId, now, UUID_RE } from './lookup';
import { REPLICATION_PREFIX, REPLICATION_SNAPSHOT_RE, SnapshotService } from './snapshot.service';


/** A replication as the catalog keeps it, with its volume's current name. */
export interface ReplicationRecord {
  id: string;
  volumeId: string;
  volumeName: string;
  /** Set when the volume is a share's: the share is replicated, its metadata with it. */
  share: { id: string; name: string } | null;
  targetAddress: string;
  targetVolume: string;
  hostName: string;
  everySeconds: number | null;
  rateLimit: number;
  lastCycle: number;
  lastGoodAt: string | null;
  lastPointAt: string | null;
  bytesSent: number;
  lastError: string | null;
  nextRunAt: string | null;
  createdAt: string;
}

export type ReplicationChanges = Partial<Pick<ReplicationRecord, 'everySeconds' | 'rateLimit' | 'lastCycle' | 'lastGoodAt' | 'lastPointAt' | 'bytesSent' | 'lastError' | 'nextRunAt'>>;

/** A snapshot a replication cycle copies from: `<volume>@repl-<cycle>`. */
export interface CycleSnapshot {
  id: string;
  name: string;
  createdAt: string;
}

const actor: Actor = { ...SYSTEM_ACTOR, source: 'replication' };

/**
 * The source side of replication in the catalog: the replications table and
 * the cycle snapshots `<volume>@repl-<n>` (taken and deleted only here, so
 * SnapshotService refuses people's deletes of them while a replication exists).
 */
@Injectable()
export class ReplicationStore {
  private readonly repo: Repository<ReplicationEntity>;
  private readonly volumes: Repository<VolumeEntity>;

  constructor(
    private readonly ds: DataSource,
    private readonly snapshots: SnapshotService,
    private readonly audit: AuditService,
  ) {
    this.repo = ds.getRepository(ReplicationEntity);
    this.volumes = ds.getRepository(VolumeEntity);
  }

  async list(): Promise<ReplicationRecord[]> {
    return this.records(await this.repo.find({ order: { createdAt: 'ASC' } }));
  }

  /** By the replication's id, or its volume's id or name, or its share's name. */
  async get(key: string): Promise<ReplicationRecord> {
    let row = UUID_RE.test(key) ? await this.repo.findOne({ where: [{ id: key }, { volumeId: key }] }) : null;
    if (!row && !UUID_RE.test(key)) {
      const found = await findVolumeOrShare(this.volumes, this.ds.getRepository(ShareEntity), key).catch(() => null);
      if (found) row = await this.repo.findOne({ where: { volumeId: found.volume.id } });
    }
    if (!row) throw new NotFound('replication', key);
    return (await this.records([row]))[0];
  }

  /** The online block volume, or share (by its name), a replication may copy. */
  async sourceVolume(key: string): Promise<{ id: string; name: string; share: { id: string; name: string } | null }> {
    const found = await findVolumeOrShare(this.volumes, this.ds.getRepository(ShareEntity), key);
    const row = found.volume;
    let share = found.share;
    if (row.state !== 'online' || row.mirrorOf) throw new NotFound('volume', key);
    if (row.role === 'snapshot') throw new InvalidArgument(`volume '${row.name}' is a snapshot: only block volumes and shares are replicated`, 'volume');
    if (row.role === 'share') {
      share ??= await this.ds.getRepository(ShareEntity).findOne({ where: { volumeId: row.id } });
      if (!share || share.state !== 'online') throw new NotFound('share', key);
      if (share.restoringFrom) throw new InvalidArgument(`share '${share.name}' is being restored from a backup: replicate it once its restore is done`, 'volume');
    }
    return { id: row.id, name: row.name, share: share ? { id: share.id, name: share.name } : null };
  }

  async create(r: Pick<ReplicationRecord, 'volumeId' | 'targetAddress' | 'targetVolume' | 'hostName' | 'everySeconds' | 'rateLimit' | 'nextRunAt'>): Promise<ReplicationRecord> {
    const id = newId();
    await this.repo.insert({ id, ...r, lastCycle: 0, lastGoodAt: null, lastPointAt: null, bytesSent: 0, lastError: null, createdAt: now() });
    return this.get(id);
  }

  async update(id: string, changes: ReplicationChanges): Promise<void> {
    await this.repo.update(id, changes);
  }

  /** The replication goes, and every cycle snapshot it kept with it. */
  async remove(id: string): Promise<void> {
    const rec = await this.get(id);
    await this.repo.delete(id);
    for (const s of await this.cycleSnapshots(rec.volumeId)) await this.dropSnapshot(s.id);
  }

  /** `<volume>@repl-<cycle>`, if it exists. */
  async cycleSnapshot(volumeId: string, cycle: number): Promise<CycleSnapshot | null> {
    return (await this.cycleSnapshots(volumeId)).find((s) => s.name.endsWith(`@${REPLICATION_PREFIX}${cycle}`)) ?? null;
  }

  /** Take `<volume>@repl-<cycle>`, or find the one an interrupted cycle took already. */
  async takeCycleSnapshot(volumeId: string, cycle: number): Promise<CycleSnapshot> {
    const found = await this.cycleSnapshot(volumeId, cycle);
    if (found) return found;
    const volume = await this.volumes.findOneOrFail({ where: { id: volumeId } });
    const name = `${REPLICATION_PREFIX}${cycle}`;
    const [row] = await this.audit.audited(actor, 'snapshot.create', { type: 'volume', name: `${volume.name}@${name}` }, () => this.snapshots.takeExclusive([{ volume, name }]));
    return { id: row.id, name: row.name, createdAt: row.createdAt };
  }

  /** Every `repl-<n>` snapshot of the volume, oldest first (not a schedule's `repl-…-<time>` ones). */
  async cycleSnapshots(volumeId: string): Promise<CycleSnapshot[]> {
    const rows = await this.volumes.find({ where: { originId: volumeId, role: 'snapshot', state: 'online', name: Like(`%@${REPLICATION_PREFIX}%`) }, order: { createdAt: 'ASC' } });
    return rows.filter((r) => REPLICATION_SNAPSHOT_RE.test(r.name.slice(r.name.indexOf('@') + 1))).map((r) => ({ id: r.id, name: r.name, createdAt: r.createdAt }));
  }

  async dropSnapshot(id: string): Promise<void> {
    const row = await this.volumes.findOne({ where: { id } });
    if (!row) return;
    await this.audit.audited(actor, 'snapshot.delete', { type: 'volume', id: row.id, name: row.name }, () => this.snapshots.destroyExclusive(actor, row));
  }

  private async records(rows: ReplicationEntity[]): Promise<ReplicationRecord[]> {
    if (rows.length === 0) return [];
    const volumes = await this.volumes.find({ where: { id: In(rows.map((r) => r.volumeId)) } });
    const shares = await this.ds.getRepository(ShareEntity).find({ where: { volumeId: In(rows.map((r) => r.volumeId)) } });
    return rows.map((r) => ({
      id: r.id,
      volumeId: r.volumeId,
      volumeName: volumes.find((v) => v.id === r.volumeId)?.name ?? r.volumeId,
      share: ((s) => (s ? { id: s.id, name: s.name } : null))(shares.find((x) => x.volumeId === r.volumeId)),
      targetAddress: r.targetAddress,
      targetVolume: r.targetVolume,
      hostName: r.hostName,
      everySeconds: r.everySeconds,
      rateLimit: r.rateLimit,
      lastCycle: r.lastCycle,
      lastGoodAt: r.lastGoodAt,
      lastPointAt: r.lastPointAt,
      bytesSent: r.bytesSent,
      lastError: r.lastError,
      nextRunAt: r.nextRunAt,
      createdAt: r.createdAt,
    }));
  }
}
