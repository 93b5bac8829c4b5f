import { Injectable } from '@nestjs/common';
import { DataSource, In, Repository } from 'typeorm';
import { InvalidArgument, NameTaken } from '../common/errors';
import { AuditService } from './audit.service';
import type { Actor, ConsistencyGroupInfo, SnapshotInfo } from './domain';
import { ConsistencyGroupEntity, ConsistencyGroupMemberEntity, VolumeEntity } from './entities';
import { findByKey, newId, now, validateName } from './lookup';
import { SnapshotService } from './snapshot.service';

/**
 * Named sets of volumes and shares snapshotted at one instant: every share
 * is frozen and every volume held (new writes wait, those in flight finish)
 * before any map is copied, so a group snapshot never shows a write on one
 * member without the writes on the others that were acknowledged before it.
 */
@Injectable()
export class ConsistencyGroupService {
  private readonly groups: Repository<ConsistencyGroupEntity>;
  private readonly members: Repository<ConsistencyGroupMemberEntity>;

  constructor(
    private readonly ds: DataSource,
    private readonly audit: AuditService,
    private readonly snapshots: SnapshotService,
  ) {
    this.groups = ds.getRepository(ConsistencyGroupEntity);
    this.members = ds.getRepository(ConsistencyGroupMemberEntity);
  }

  async list(): Promise<ConsistencyGroupInfo[]> {
    return this.describe(await this.groups.find({ order: { createdAt: 'ASC' } }));
  }

  async get(key: string): Promise<ConsistencyGroupInfo> {
    return (await this.describe([await findByKey(this.groups, 'group', key)]))[0];
  }

  create(actor: Actor, req: { name: string; volumes: string[] }): Promise<ConsistencyGroupInfo> {
    return this.audit.audited(
      actor,
      'group.create',
      { type: 'group', name: String(req.name) },
      async () => {
        const name = validateName('group', req.name);
        if (await this.groups.findOne({ where: { name } })) throw new NameTaken('group', name);
        const volumes = await this.resolve(req.volumes);
        const row = this.groups.create({ id: newId(), name, createdAt: now() });
        await this.ds.transaction(async (m) => {
          await m.insert(ConsistencyGroupEntity, row);
          for (const v of volumes) await m.insert(ConsistencyGroupMemberEntity, { groupId: row.id, volumeId: v.id });
        });
        return this.get(row.id);
      },
      (g) => ({ type: 'group', id: g.id, name: g.name }),
      { volumes: req.volumes },
    );
  }

  /** Replace the member list. */
  update(actor: Actor, key: string, req: { volumes: string[] }): Promise<ConsistencyGroupInfo> {
    return this.audit.audited(
      actor,
      'group.update',
      { type: 'group', name: key },
      async () => {
        const row = await findByKey(this.groups, 'group', key);
        const volumes = await this.resolve(req.volumes);
        await this.ds.transaction(async (m) => {
          await m.delete(ConsistencyGroupMemberEntity, { groupId: row.id });
          for (const v of volumes) await m.insert(ConsistencyGroupMemberEntity, { groupId: row.id, volumeId: v.id });
        });
        return this.get(row.id);
      },
      (g) => ({ type: 'group', id: g.id, name: g.name }),
      { volumes: req.volumes },
    );
  }

  /** The group goes; its volumes and the snapshots it took stay. Schedules of the group must go first. */
  remove(actor: Actor, key: string): Promise<void> {
    return this.audit.audited(actor, 'group.delete', { type: 'group', name: key }, async () => {
      const row = await findByKey(this.groups, 'group', key);
      const schedules = (await this.ds.query('SELECT name FROM snapshot_schedules WHERE group_id = ?', [row.id])) as Array<{ name: string }>;
      if (schedules.length > 0) {
        throw new InvalidArgument(`group '${row.name}' is used by snapshot schedule(s) ${schedules.map((s) => s.name).join(', ')}: delete them first`, 'group');
      }
      await this.ds.transaction(async (m) => {
        await m.delete(ConsistencyGroupMemberEntity, { groupId: row.id });
        await m.delete(ConsistencyGroupEntity, row.id);
      });
    });
  }

  /** One snapshot named `name` of every member (`<volume>@<name>`), all at the same instant. */
  snapshot(actor: Actor, key: string, req: { name: string }, scheduleId: string | null = null): Promise<SnapshotInfo[]> {
    return this.audit.audited(
      actor,
      'group.snapshot',
      { type: 'group', name: key },
      async () => {
        const row = await findByKey(this.groups, 'group', key);
        const volumes = await this.memberRows(row.id);
        if (volumes.length === 0) throw new InvalidArgument(`group '${row.name}' has no volumes`, 'group');
        const taken = await this.snapshots.takeExclusive(volumes.map((volume) => ({ volume, name: req.name, scheduleId })));
        return Promise.all(taken.map((s) => this.snapshots.get(s.originId!, s.id)));
      },
      undefined,
      { name: req.name },
    );
  }

  async memberRows(groupId: string): Promise<VolumeEntity[]> {
    const ids = (await this.members.find({ where: { groupId } })).map((m) => m.volumeId);
    return ids.length ? this.ds.getRepository(VolumeEntity).find({ where: { id: In(ids) }, order: { name: 'ASC' } }) : [];
  }

  private async resolve(keys: unknown): Promise<VolumeEntity[]> {
    if (!Array.isArray(keys) || keys.length === 0 || keys.some((k) => typeof k !== 'string')) {
      throw new InvalidArgument('volumes must be a non-empty list of volume or share names or ids', 'volumes');
    }
    const rows: VolumeEntity[] = [];
    for (const key of keys as string[]) {
      // Block volumes and shares (by share name or `share:<name>`); never snapshots.
      const row = await this.snapshots.origin(key);
      if (rows.some((r) => r.id === row.id)) throw new InvalidArgument(`volume '${row.name}' is listed twice`, 'volumes');
      rows.push(row);
    }
    return rows;
  }

  private async describe(rows: ConsistencyGroupEntity[]): Promise<ConsistencyGroupInfo[]> {
    return Promise.all(
      rows.map(async (row) => ({
        id: row.id,
        name: row.name,
        volumes: (await this.memberRows(row.id)).map((v) => ({ id: v.id, name: v.name })),
        createdAt: row.createdAt,
      })),
    );
  }
}
