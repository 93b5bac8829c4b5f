import { Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager, In, IsNull, Repository } from 'typeorm';
import { Conflict, InUse, InvalidArgument, NameTaken, NoSpace, NotFound } from '../common/errors';
import type { LogicalDisk, Provisioning } from '../virtualization/logical-disk';
import type { VolumeIo } from '../virtualization/mirrored-disk';
import { AssignmentService } from './assignment.service';
import { AuditService } from './audit.service';
import type { Actor, MirrorInfo, ReplicaInfo, VolumeInfo, VolumeRole } from './domain';
import { ExportRuleEntity, HostEntity, MirrorEntity, PoolEntity, ReplicaEntity, ReplicationEntity, ShareEntity, VolumeEntity } from './entities';
import { StorageEvents } from './events';
import { findByKey, newId, now, shareVolumeError, snapshotVolumeError, validateName } from './lookup';
import { StorageRuntime } from './runtime';
import { SnapshotKeepers } from './snapshot-keepers';

export interface CreateVolume {
  name: string;
  pool: string;
  size: number;
  provisioning?: Provisioning;
  nbdExport?: boolean;
}

/** Which volumes a list shows: block volumes unless asked (a share's volume is managed through its share). */
export type VolumeListRole = VolumeRole | 'all';

/** A member's name: '~' is not allowed in names people give, so it never collides with one. */
export const memberName = (volume: string): string => `${volume}~mirror`;

/** Volume sizes are whole 4 KiB blocks: every client's logical block size divides them. */
const BLOCK = 4096;

export function checkSize(size: number, field = 'size'): void {
  if (!Number.isSafeInteger(size) || size <= 0 || size % BLOCK !== 0) {
    throw new InvalidArgument(`${field} must be a positive multiple of 4 KiB (4096 bytes), got ${size}`, field);
  }
}

@Injectable()
export class VolumeService {
  private readonly volumes: Repository<VolumeEntity>;
  private readonly log = new Logger('VolumeService');

  constructor(
    private readonly ds: DataSource,
    private readonly runtime: StorageRuntime,
    private readonly audit: AuditService,
    private readonly assignments: AssignmentService,
    private readonly events: StorageEvents,
    private readonly keepers: SnapshotKeepers,
  ) {
    this.volumes = ds.getRepository(VolumeEntity);
  }

  async list(filter: { pool?: string; role?: VolumeListRole } = {}): Promise<VolumeInfo[]> {
    const role = filter.role ?? 'block';
    if (role !== 'block' && role !== 'share' && role !== 'snapshot' && role !== 'all') {
      throw new InvalidArgument(`role must be block, share, snapshot or all, not '${String(role)}'`, 'role');
    }
    const where = {
      ...(filter.pool ? { poolId: (await findByKey(this.ds.getRepository(PoolEntity), 'pool', filter.pool)).id } : {}),
      ...(role === 'all' ? {} : { role }),
    };
    // A mirror's member is part of its volume, never listed on its own.
    return this.describe(await this.volumes.find({ where: { ...where, state: 'online', mirrorOf: IsNull() }, order: { createdAt: 'ASC' } }));
  }

  async get(key: string): Promise<VolumeInfo> {
    return (await this.describe([await this.row(key)]))[0];
  }

  /** The live logical disk behind a volume, for I/O (image transfer, SAN, NAS). */
  async disk(key: string): Promise<VolumeIo> {
    const row = await this.row(key);
    const disk = this.runtime.disk(row.id);
    if (!disk) throw new NotFound('volume', key);
    return disk;
  }

  /** The disk of a block volume, for raw writes: a share's volume holds a filesystem that only the NAS layer may write. */
  async blockDisk(key: string): Promise<VolumeIo> {
    const row = await this.row(key);
    await this.assertBlock(row, 'written as a raw image');
    return this.disk(row.id);
  }

  create(actor: Actor, req: CreateVolume): Promise<VolumeInfo> {
    return this.audit.audited(
      actor,
      'volume.create',
      { type: 'volume', name: req.name },
      () => this.doCreate(req),
      (v) => ({ type: 'volume', id: v.id, name: v.name }),
      { pool: req.pool, size: req.size, provisioning: req.provisioning ?? 'thin' },
    );
  }

  private async doCreate(req: CreateVolume): Promise<VolumeInfo> {
    const name = validateName('volume', req.name);
    checkSize(req.size);
    const provisioning = req.provisioning ?? 'thin';
    if (provisioning !== 'thin' && provisioning !== 'thick') {
      throw new InvalidArgument(`provisioning must be thin or thick, not '${String(provisioning)}'`, 'provisioning');
    }
    const poolRow = await findByKey(this.ds.getRepository(PoolEntity), 'pool', req.pool);
    if (await this.volumes.findOne({ where: { name } })) throw new NameTaken('volume', name);
    const pool = this.runtime.pools.get(poolRow.id)!;
    if (provisioning === 'thick') {
      const pages = Math.ceil(req.size / pool.pageSize);
      if (pages > pool.freePages) throw new NoSpace(`pool '${poolRow.name}'`, pool.freePages * pool.pageSize, pages * pool.pageSize);
    }
    const row = this.newRow({ name, poolId: poolRow.id, size: req.size, provisioning, nbdExport: req.nbdExport ?? false, role: 'block' });
    await this.volumes.insert(row);
    const disk = this.runtime.attachVolume(row, []);
    if (provisioning === 'thick') {
      try {
        await disk.provisionAll();
      } catch (e) {
        await this.destroy(row).catch((err) => this.log.error(`cleanup of ${name} failed: ${(err as Error).message}`));
        throw e;
      }
    }
    const info = await this.get(row.id);
    this.events.emit('volume.created', info);
    return info;
  }

  update(actor: Actor, key: string, changes: { name?: string; size?: number; nbdExport?: boolean }): Promise<VolumeInfo> {
    return this.audit.audited(actor, 'volume.update', { type: 'volume', name: key }, async () => {
      const row = await this.row(key);
      await this.assertBlock(row, 'changed on its own');
      if (changes.size !== undefined && changes.size !== row.size) await this.resize(row, changes.size);
      if (changes.name !== undefined && changes.name !== row.name) {
        const name = validateName('volume', changes.name);
        if (await this.volumes.findOne({ where: { name } })) throw new NameTaken('volume', name);
        await this.rename(row, name);
      }
      if (changes.nbdExport !== undefined && changes.nbdExport !== row.nbdExport) {
        await this.volumes.update(row.id, { nbdExport: changes.nbdExport });
      }
      const info = await this.get(row.id);
      this.events.emit('volume.updated', info);
      return info;
    }, (v) => ({ type: 'volume', id: v.id, name: v.name }), changes);
  }

  /**
   * Delete a volume and free the pages nobody else maps. Assigned volumes need
   * `force`, which also revokes the assignments; a volume with snapshots needs
   * `recursive`, which deletes them first (their clones stay: they hold their own references).
   */
  remove(actor: Actor, key: string, opts: { force?: boolean; recursive?: boolean } = {}): Promise<void> {
    return this.audit.audited(actor, 'volume.delete', { type: 'volume', name: key }, async () => {
      const row = await this.row(key);
      await this.assertBlock(row, 'deleted on its own (delete the share)');
      if (await this.ds.getRepository(MirrorEntity).findOne({ where: { volumeId: row.id } })) {
        throw new Conflict('MIRRORED', `volume '${row.name}' has a mirror: remove the mirror first`, { volume: row.name });
      }
      if (await this.ds.getRepository(ReplicationEntity).findOne({ where: { volumeId: row.id } })) {
        throw new Conflict('REPLICATED', `volume '${row.name}' is replicated to another gateway: remove the replication first (strata replication rm ${row.name})`, { volume: row.name });
      }
      const snapshots = await this.volumes.find({ where: { originId: row.id, role: 'snapshot' }, order: { createdAt: 'ASC' } });
      if (snapshots.length > 0 && !opts.recursive) {
        throw new Conflict(
          'HAS_SNAPSHOTS',
          `volume '${row.name}' has ${snapshots.length} snapshot(s) (${snapshots.map((s) => s.name).join(', ')}): delete them, or delete recursively`,
          { volume: row.name, snapshots: snapshots.map((s) => s.name) },
        );
      }
      for (const snap of snapshots) await this.keepers.assertDeletable(snap, { originDeleted: true });
      for (const victim of [...snapshots, row]) {
        const assigned = await this.assignments.list({ volume: victim.id });
        if (assigned.length > 0 && !opts.force) {
          throw new InUse('volume', victim.name, `host(s) ${assigned.map((a) => a.hostName).join(', ')} (revoke them, or delete with force)`);
        }
      }
      for (const victim of [...snapshots, row]) {
        for (const a of await this.assignments.list({ volume: victim.id })) await this.assignments.remove(actor, a.id);
        await this.destroy(victim);
        this.events.emit('volume.deleted', { id: victim.id, name: victim.name });
      }
    }, undefined, { force: !!opts.force, recursive: !!opts.recursive });
  }

  // ---- a share's backing volume: ShareService's half of a share's life ----

  /**
   * Create a share's thin volume (role 'share'); `alongside` inserts the share
   * row in the same transaction, so neither exists without the other.
   * `familyId`: the family of the snapshot a cloned share starts from.
   */
  async createBacking(req: { name: string; poolId: string; size: number; familyId?: string }, alongside: (m: EntityManager, volume: VolumeEntity) => Promise<void>): Promise<VolumeInfo> {
    checkSize(req.size);
    if (await this.volumes.findOne({ where: { name: req.name } })) throw new NameTaken('volume', req.name);
    const row = this.newRow({ name: req.name, poolId: req.poolId, size: req.size, provisioning: 'thin', nbdExport: false, role: 'share' });
    // A clone of a share's snapshot shares its pool pages: one family, so freeing checks them all.
    if (req.familyId) row.familyId = req.familyId;
    await this.ds.transaction(async (m) => {
      await m.insert(VolumeEntity, row);
      await alongside(m, row);
    });
    this.runtime.attachVolume(row, []);
    const info = await this.get(row.id);
    this.events.emit('volume.created', info);
    return info;
  }

  async growBacking(volumeId: string, size: number): Promise<VolumeInfo> {
    const row = await this.row(volumeId);
    if (size !== row.size) await this.resize(row, size);
    const info = await this.get(row.id);
    this.events.emit('volume.updated', info);
    return info;
  }

  async renameBacking(volumeId: string, name: string): Promise<void> {
    const row = await this.row(volumeId);
    if (name === row.name) return;
    if (await this.volumes.findOne({ where: { name } })) throw new NameTaken('volume', name);
    await this.rename(row, name);
    this.events.emit('volume.updated', await this.get(row.id));
  }

  /** Destroy a share's volume; the share's row and rules go in the same transaction as the volume's. */
  async destroyBacking(volumeId: string): Promise<void> {
    const row = await findByKey(this.volumes, 'volume', volumeId);
    // The share's snapshots go first: each names the volume as its origin.
    for (const snap of await this.volumes.find({ where: { originId: row.id, role: 'snapshot' }, order: { createdAt: 'ASC' } })) {
      await this.destroy(snap);
      this.events.emit('volume.deleted', { id: snap.id, name: snap.name });
    }
    await this.destroy(row);
    this.events.emit('volume.deleted', { id: row.id, name: row.name });
  }

  /** Mark a share's volume and its snapshots 'deleting' with `alongside` (the share's own mark) in one transaction. */
  async markDeleting(volumeId: string, alongside: (m: EntityManager) => Promise<void>): Promise<void> {
    await this.ds.transaction(async (m) => {
      await m.update(VolumeEntity, volumeId, { state: 'deleting' });
      await m.update(VolumeEntity, { originId: volumeId, role: 'snapshot' }, { state: 'deleting' });
      await alongside(m);
    });
  }

  private newRow(v: Pick<VolumeEntity, 'name' | 'poolId' | 'size' | 'provisioning' | 'nbdExport' | 'role'>): VolumeEntity {
    return this.volumes.create({ id: newId(), ...v, serial: randomBytes(8).toString('hex'), state: 'online', createdAt: now() });
  }

  private async resize(row: VolumeEntity, size: number): Promise<void> {
    const disk = this.runtime.disks.get(row.id)!;
    checkSize(size);
    if (size < row.size) {
      throw new InvalidArgument(`${row.role === 'share' ? 'shares' : 'volumes'} only grow: ${size} is smaller than the current ${row.size} bytes`, 'size');
    }
    if (row.provisioning === 'thick') {
      const more = Math.ceil(size / disk.pageSize) - Math.ceil(row.size / disk.pageSize);
      if (more > disk.pool.freePages) {
        throw new NoSpace(`pool '${disk.pool.name}'`, disk.pool.freePages * disk.pageSize, more * disk.pageSize);
      }
    }
    const member = await this.volumes.findOne({ where: { mirrorOf: row.id } });
    const memberDisk = member ? this.runtime.disks.get(member.id) : undefined;
    if (member && memberDisk && row.provisioning === 'thick') {
      const more = Math.ceil(size / memberDisk.pageSize) - Math.ceil(row.size / memberDisk.pageSize);
      if (more > memberDisk.pool.freePages) {
        throw new NoSpace(`pool '${memberDisk.pool.name}' (the mirror's)`, memberDisk.pool.freePages * memberDisk.pageSize, more * memberDisk.pageSize);
      }
    }
    // The mirror grows first: a write past the old end must find room on both sides.
    if (member && memberDisk) {
      await memberDisk.grow(size);
      await this.volumes.update(member.id, { size });
    }
    await disk.grow(size);
    await this.volumes.update(row.id, { size });
  }

  /** A volume's snapshots are named after it: `<volume>@<snapshot>`, so they follow a rename. */
  private async rename(row: VolumeEntity, name: string): Promise<void> {
    const snapshots = await this.volumes.find({ where: { originId: row.id, role: 'snapshot' } });
    const renamed = snapshots.map((s) => ({ row: s, name: `${name}@${s.name.slice(s.name.indexOf('@') + 1)}` }));
    const member = await this.volumes.findOne({ where: { mirrorOf: row.id } });
    await this.ds.transaction(async (m) => {
      await m.update(VolumeEntity, row.id, { name });
      for (const r of renamed) await m.update(VolumeEntity, r.row.id, { name: r.name });
      if (member) await m.update(VolumeEntity, member.id, { name: memberName(name) });
    });
    for (const r of [{ row, name }, ...renamed, ...(member ? [{ row: member, name: memberName(name) }] : [])]) {
      const disk = this.runtime.disks.get(r.row.id);
      if (disk) disk.name = r.name;
    }
    for (const r of renamed) this.events.emit('volume.updated', await this.get(r.row.id));
  }

  // ---- a mirror's member volume: MirrorService's half of a mirror's life ----

  /** Create the hidden member of `origin` on another pool: same size and provisioning (thick: fully provisioned). */
  async createMember(origin: VolumeInfo, poolId: string, alongside: (m: EntityManager, member: VolumeEntity) => Promise<void>): Promise<VolumeEntity> {
    const row = this.newRow({ name: memberName(origin.name), poolId, size: origin.size, provisioning: origin.provisioning, nbdExport: false, role: 'block' });
    row.mirrorOf = origin.id;
    await this.ds.transaction(async (m) => {
      await m.insert(VolumeEntity, row);
      await alongside(m, row);
    });
    const disk = this.runtime.attachVolume(row, []);
    if (row.provisioning === 'thick') {
      try {
        await disk.provisionAll();
      } catch (e) {
        await this.destroy(row).catch((err) => this.log.error(`cleanup of ${row.name} failed: ${(err as Error).message}`));
        throw e;
      }
    }
    return row;
  }

  /** Destroy a member volume whose mirror is already detached; `alongside` drops the mirror's rows in the same transaction. */
  async destroyMember(memberId: string, alongside: (m: EntityManager) => Promise<void>): Promise<void> {
    const row = await findByKey(this.volumes, 'volume', memberId);
    await this.destroy(row, alongside);
  }

  /** Refuse to act on a share's volume or a snapshot as if it were a block volume. */
  private async assertBlock(row: VolumeEntity, what: string): Promise<void> {
    if (row.role === 'snapshot') throw snapshotVolumeError(row.name, what);
    if (row.role !== 'share') return;
    const share = await this.ds.getRepository(ShareEntity).findOne({ where: { volumeId: row.id } });
    throw shareVolumeError(row.name, share?.name ?? '?', what);
  }

  /**
   * Mark 'deleting' first so a crash part way is finished at the next boot,
   * then give the pages back, then drop the row (and the share it backs, if any).
   * Storage-manager internal (snapshots are destroyed through it too).
   */
  async destroy(row: VolumeEntity, alongside?: (m: EntityManager) => Promise<void>): Promise<void> {
    await this.volumes.update(row.id, { state: 'deleting' });
    const disk = this.runtime.disks.get(row.id);
    // A mirror member going (also a removal a crash interrupted): its volume stops writing to it first.
    for (const face of this.runtime.volumes.values()) {
      if (!disk || face.mirror !== disk) continue;
      const release = await face.quiesce();
      face.detach();
      release();
    }
    if (disk) await disk.releaseAll();
    await this.ds.transaction(async (m) => {
      await alongside?.(m);
      await m.query('DELETE FROM mirror_dirty WHERE volume_id IN (SELECT volume_id FROM mirrors WHERE member_id = ?)', [row.id]);
      await m.query('DELETE FROM mirrors WHERE member_id = ?', [row.id]);
      await m.query('DELETE FROM page_maps WHERE volume_id = ?', [row.id]);
      await m.query('DELETE FROM replicas WHERE volume_id = ?', [row.id]);
      await m.query('DELETE FROM share_snapshots WHERE volume_id = ?', [row.id]);
      // Its group memberships and its own snapshot schedules go with it.
      await m.query('DELETE FROM consistency_group_members WHERE volume_id = ?', [row.id]);
      await m.query('UPDATE volumes SET schedule_id = NULL WHERE schedule_id IN (SELECT id FROM snapshot_schedules WHERE volume_id = ?)', [row.id]);
      await m.query('DELETE FROM snapshot_schedules WHERE volume_id = ?', [row.id]);
      if (row.role === 'share') {
        const share = await m.findOne(ShareEntity, { where: { volumeId: row.id } });
        if (share) {
          await m.delete(ExportRuleEntity, { shareId: share.id });
          await m.delete(ShareEntity, share.id);
        }
      }
      await m.delete(VolumeEntity, row.id);
    });
    this.runtime.disks.delete(row.id);
    this.runtime.volumes.delete(row.id);
  }

  /** Boot: finish deletes a crash interrupted. */
  async finishInterruptedDeletes(): Promise<void> {
    // Snapshots first: a volume row goes only after every snapshot that names it as origin.
    const rows = await this.volumes.find({ where: { state: 'deleting' } });
    rows.sort((a, b) => Number(b.role === 'snapshot') - Number(a.role === 'snapshot'));
    for (const row of rows) {
      this.log.warn(`finishing the interrupted delete of volume ${row.name}`);
      await this.destroy(row);
    }
  }

  private async row(key: string): Promise<VolumeEntity> {
    const row = await findByKey(this.volumes, 'volume', key);
    if (row.state !== 'online' || row.mirrorOf) throw new NotFound('volume', key);
    return row;
  }

  private async describe(rows: VolumeEntity[]): Promise<VolumeInfo[]> {
    if (rows.length === 0) return [];
    const pools = await this.ds.getRepository(PoolEntity).find({ where: { id: In([...new Set(rows.map((r) => r.poolId))]) } });
    const backing = rows.filter((r) => r.role === 'share').map((r) => r.id);
    const shares = backing.length ? await this.ds.getRepository(ShareEntity).find({ where: { volumeId: In(backing) } }) : [];
    const assignments = await this.assignments.list();
    const mirrors = await this.ds.getRepository(MirrorEntity).find({ where: { volumeId: In(rows.map((r) => r.id)) } });
    const members = mirrors.length ? await this.volumes.find({ where: { id: In(mirrors.map((m) => m.memberId)) } }) : [];
    const allPools = mirrors.length ? await this.ds.getRepository(PoolEntity).find() : pools;
    const replicaOf = await replicaInfos(this.ds, rows);
    const mirrorOf = (row: VolumeEntity): MirrorInfo | null => {
      const m = mirrors.find((x) => x.volumeId === row.id);
      const status = this.runtime.disk(row.id)?.status();
      if (!m || !status) return null;
      // After a swap the origin row holds the member's pool and the other way round: the mirror is where the primary is not.
      const memberPool = members.find((v) => v.id === m.memberId)?.poolId ?? '';
      const total = status.resyncTotal;
      const syncPercent = status.state === 'in-sync' ? 100 : total > 0 ? Math.floor((100 * (total - Math.min(total, status.dirtyRegions))) / total) : 0;
      return {
        poolId: memberPool,
        poolName: allPools.find((p) => p.id === memberPool)?.name ?? memberPool,
        state: status.state,
        reason: status.reason,
        syncPercent,
        regionSize: status.regionSize,
        dirtyRegions: status.dirtyRegions,
        dirtyBytes: status.dirtyRegions * status.regionSize,
        intentRegions: status.intentRegions,
      };
    };
    return rows.map((row) => {
      const disk = this.runtime.disk(row.id);
      const pool = this.runtime.pools.get(row.poolId);
      const pageSize = pool?.pageSize ?? 0;
      const poolState = pool ? pool.health().state : 'failed';
      const share = row.role === 'share' ? shares.find((sh) => sh.volumeId === row.id) : undefined;
      const originName = row.originId ? row.name.slice(0, row.name.indexOf('@')) : null;
      return {
        id: row.id,
        name: row.name,
        role: row.role,
        share: share ? { id: share.id, name: share.name } : null,
        origin: row.originId && originName ? { id: row.originId, name: originName } : null,
        poolId: row.poolId,
        poolName: pools.find((p) => p.id === row.poolId)?.name ?? row.poolId,
        size: row.size,
        provisioning: row.provisioning,
        pageSize,
        allocatedBytes: (disk?.allocatedPages ?? 0) * pageSize,
        serial: row.serial,
        state: poolState === 'online' ? 'online' : poolState,
        nbdExport: !!row.nbdExport,
        assignments: assignments.filter((a) => a.volumeId === row.id),
        mirror: mirrorOf(row),
        replica: replicaOf(row),
        createdAt: row.createdAt,
      };
    });
  }
}

/** The replica state of volumes received from other gateways (docs/replication.md), by volume; null for the others. */
export async function replicaInfos(ds: DataSource, rows: ReadonlyArray<{ id: string; name: string }>): Promise<(row: { id: string; name: string }) => ReplicaInfo | null> {
  const replicas = rows.length ? await ds.getRepository(ReplicaEntity).find({ where: { volumeId: In(rows.map((r) => r.id)) } }) : [];
  const hosts = replicas.length ? await ds.getRepository(HostEntity).find({ where: { id: In(replicas.map((r) => r.hostId)) } }) : [];
  return (row) => {
    const r = replicas.find((x) => x.volumeId === row.id);
    if (!r) return null;
    const snapshot = r.lastCycle > 0 ? `${row.name}@cycle-${r.lastCycle}` : null;
    return { hostId: r.hostId, hostName: hosts.find((h) => h.id === r.hostId)?.name ?? null, lastCycle: r.lastCycle, lastCommitAt: r.lastCommitAt, snapshot };
  };
}
