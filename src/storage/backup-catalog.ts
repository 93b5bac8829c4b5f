import { Injectable } from '@nestjs/common';
import { DataSource, In, Repository } from 'typeorm';
import { InUse, NameTaken, NotFound } from '../common/errors';
import type { BackupRecord, BackupState, BackupTargetInfo, BackupTargetKind } from './domain';
import { BackupEntity, BackupTargetEntity, DeviceEntity, PoolEntity } from './entities';
import { findByKey, newId, now, validateName } from './lookup';

export type NewBackup = Pick<BackupRecord, 'volumeId' | 'volumeName' | 'snapshotName' | 'kind' | 'parentId' | 'targetId' | 'createdBy'> & { id?: string; shareId?: string | null };

export type BackupChanges = Partial<Pick<BackupRecord, 'location' | 'size' | 'pageSize' | 'bytesStored' | 'imageDigest' | 'state' | 'jobId' | 'finishedAt' | 'metadataLocation'>> & { manifest?: string };

/**
 * The backup catalog: targets and the backups on them. Plain rows in and
 * domain objects out; the backup service (src/services/backup) does the I/O.
 */
@Injectable()
export class BackupCatalog {
  private readonly targets: Repository<BackupTargetEntity>;
  private readonly backups: Repository<BackupEntity>;

  constructor(private readonly ds: DataSource) {
    this.targets = ds.getRepository(BackupTargetEntity);
    this.backups = ds.getRepository(BackupEntity);
  }

  async listTargets(): Promise<BackupTargetInfo[]> {
    return this.describeTargets(await this.targets.find({ order: { createdAt: 'ASC' } }));
  }

  async getTarget(key: string): Promise<BackupTargetInfo> {
    return (await this.describeTargets([await findByKey(this.targets, 'target', key)]))[0];
  }

  /** The caller has checked the path on the filesystem; this checks names, the pool, and the gateway's own devices. */
  async addTarget(req: { name: string; kind: BackupTargetKind; path: string | null; pool: string | null }): Promise<BackupTargetInfo> {
    const name = validateName('target', req.name);
    if (await this.targets.findOne({ where: { name } })) throw new NameTaken('target', name);
    const poolId = req.pool === null ? null : (await findByKey(this.ds.getRepository(PoolEntity), 'pool', req.pool)).id;
    const row = this.targets.create({ id: newId(), name, kind: req.kind, path: req.path, poolId, createdAt: now() });
    await this.targets.insert(row);
    return this.getTarget(row.id);
  }

  async removeTarget(key: string): Promise<BackupTargetInfo> {
    const target = await this.getTarget(key);
    if (target.backupCount > 0) throw new InUse('target', target.name, `${target.backupCount} backup(s) (remove them first)`);
    await this.targets.delete(target.id);
    return target;
  }

  /** Paths of this gateway's own devices: never a backup target. */
  async devicePaths(): Promise<string[]> {
    return (await this.ds.getRepository(DeviceEntity).find()).map((d) => d.path).filter((p): p is string => p !== null);
  }

  async insertBackup(b: NewBackup): Promise<BackupRecord> {
    const row = this.backups.create({
      id: b.id ?? newId(),
      volumeId: b.volumeId,
      volumeName: b.volumeName,
      snapshotName: b.snapshotName,
      kind: b.kind,
      parentId: b.parentId,
      targetId: b.targetId,
      location: null,
      size: 0,
      pageSize: 0,
      bytesStored: 0,
      imageDigest: null,
      manifest: null,
      state: 'pending',
      jobId: null,
      createdBy: b.createdBy,
      createdAt: now(),
      finishedAt: null,
      sourceType: b.shareId ? 'share' : 'volume',
      shareId: b.shareId ?? null,
      metadataLocation: null,
    });
    await this.backups.insert(row);
    return toRecord(row);
  }

  async getBackup(id: string): Promise<BackupRecord> {
    return toRecord(await this.backupRow(id));
  }

  /** The manifest JSON the catalog holds (null until the backup is complete). */
  async manifestOf(id: string): Promise<string | null> {
    return (await this.backupRow(id)).manifest;
  }

  async listBackups(filter: { volumeId?: string; volumeName?: string; targetId?: string; states?: BackupState[] } = {}): Promise<BackupRecord[]> {
    const rows = await this.backups.find({
      where: {
        ...(filter.volumeId ? { volumeId: filter.volumeId } : {}),
        ...(filter.volumeName ? { volumeName: filter.volumeName } : {}),
        ...(filter.targetId ? { targetId: filter.targetId } : {}),
        ...(filter.states ? { state: In(filter.states) } : {}),
      },
      order: { createdAt: 'ASC' },
    });
    return rows.map(toRecord);
  }

  async updateBackup(id: string, changes: BackupChanges): Promise<void> {
    await this.backups.update(id, changes);
  }

  /** Other backups on a device target: the new raw image writes over theirs. */
  async markOverwritten(targetId: string, exceptId: string): Promise<number> {
    const rows = await this.backups.find({ where: { targetId, state: In(['complete', 'pending']) } });
    const victims = rows.filter((r) => r.id !== exceptId).map((r) => r.id);
    if (victims.length) await this.backups.update({ id: In(victims) }, { state: 'overwritten' });
    return victims.length;
  }

  async children(id: string): Promise<BackupRecord[]> {
    return (await this.backups.find({ where: { parentId: id }, order: { createdAt: 'ASC' } })).map(toRecord);
  }

  /** Delete rows, children before their parents, in one transaction. */
  async deleteBackups(ids: string[]): Promise<void> {
    await this.ds.transaction(async (m) => {
      for (const id of ids) await m.delete(BackupEntity, id);
    });
  }

  private async backupRow(id: string): Promise<BackupEntity> {
    const row = await this.backups.findOne({ where: { id } });
    if (!row) throw new NotFound('backup', id);
    return row;
  }

  private async describeTargets(rows: BackupTargetEntity[]): Promise<BackupTargetInfo[]> {
    const pools = await this.ds.getRepository(PoolEntity).find();
    const counts = new Map<string, number>();
    for (const r of (await this.backups
      .createQueryBuilder('b')
      .select('b.target_id', 't')
      .addSelect('COUNT(*)', 'n')
      .groupBy('b.target_id')
      .getRawMany()) as Array<{ t: string; n: number }>) {
      counts.set(r.t, Number(r.n));
    }
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      kind: r.kind,
      path: r.path,
      poolId: r.poolId,
      poolName: r.poolId ? (pools.find((p) => p.id === r.poolId)?.name ?? null) : null,
      backupCount: counts.get(r.id) ?? 0,
      createdAt: r.createdAt,
    }));
  }
}

function toRecord(r: BackupEntity): BackupRecord {
  return {
    id: r.id,
    volumeId: r.volumeId,
    volumeName: r.volumeName,
    snapshotName: r.snapshotName,
    kind: r.kind,
    parentId: r.parentId,
    targetId: r.targetId,
    location: r.location,
    size: r.size,
    pageSize: r.pageSize,
    bytesStored: r.bytesStored,
    imageDigest: r.imageDigest,
    state: r.state,
    jobId: r.jobId,
    createdBy: r.createdBy,
    createdAt: r.createdAt,
    finishedAt: r.finishedAt,
    sourceType: r.sourceType,
    shareId: r.shareId,
    metadataLocation: r.metadataLocation,
  };
}
