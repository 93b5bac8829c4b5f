import { Injectable } from '@nestjs/common';
import { DataSource, Repository } from 'typeorm';
import { Conflict, InvalidArgument, NotFound } from '../common/errors';
import { AuditService } from './audit.service';
import type { Actor, AssignmentInfo } from './domain';
import { AssignmentEntity, HostEntity, ShareEntity, VolumeEntity } from './entities';
import { StorageEvents } from './events';
import { findByKey, newId, now, shareVolumeError } from './lookup';

export type Access = 'rw' | 'ro';
export type Sharing = 'exclusive' | 'shared';

export interface CreateAssignment {
  host: string;
  volume: string;
  access?: Access;
  sharing?: Sharing;
}

function checkModes(access: unknown, sharing: unknown): void {
  if (access !== 'rw' && access !== 'ro') throw new InvalidArgument(`access must be rw or ro, not '${String(access)}'`, 'access');
  if (sharing !== 'exclusive' && sharing !== 'shared') {
    throw new InvalidArgument(`sharing must be exclusive or shared, not '${String(sharing)}'`, 'sharing');
  }
}

function checkSnapshotAccess(volume: VolumeEntity, access: Access): void {
  if (volume.role === 'snapshot' && access === 'rw') {
    throw new InvalidArgument(`volume '${volume.name}' is a snapshot: it can only be assigned read-only (access ro); clone it for a writable copy`, 'access');
  }
}

function checkReplicaAccess(volume: VolumeEntity, replicaHost: string | null, hostId: string, access: Access): void {
  if (access === 'rw' && replicaHost !== null && replicaHost !== hostId) {
    throw new InvalidArgument(`volume '${volume.name}' is a replica: only its source gateway writes it; assign it read-only (access ro), or promote it first`, 'access');
  }
}

/** Which host may touch which volume, how: host × volume × rw/ro × exclusive/shared. */
@Injectable()
export class AssignmentService {
  private readonly repo: Repository<AssignmentEntity>;

  constructor(
    private readonly ds: DataSource,
    private readonly audit: AuditService,
    private readonly events: StorageEvents,
  ) {
    this.repo = ds.getRepository(AssignmentEntity);
  }

  async list(filter: { host?: string; volume?: string } = {}): Promise<AssignmentInfo[]> {
    const qb = this.ds
      .createQueryBuilder()
      .select(['a.id AS id', 'a.host_id AS hostId', 'h.name AS hostName', 'a.volume_id AS volumeId', 'v.name AS volumeName'])
      .addSelect(['a.access AS access', 'a.sharing AS sharing', 'a.created_at AS createdAt'])
      .from(AssignmentEntity, 'a')
      .innerJoin(HostEntity, 'h', 'h.id = a.host_id')
      .innerJoin(VolumeEntity, 'v', 'v.id = a.volume_id')
      .orderBy('a.created_at', 'ASC');
    if (filter.host) qb.andWhere('(h.id = :host OR h.name = :host)', { host: filter.host });
    if (filter.volume) qb.andWhere('(v.id = :vol OR v.name = :vol)', { vol: filter.volume });
    return qb.getRawMany<AssignmentInfo>();
  }

  async get(id: string): Promise<AssignmentInfo> {
    const found = (await this.list()).find((a) => a.id === id);
    if (!found) throw new NotFound('assignment', id);
    return found;
  }

  create(actor: Actor, req: CreateAssignment): Promise<AssignmentInfo> {
    return this.audit.audited(
      actor,
      'assignment.create',
      { type: 'assignment', name: `${req.host}/${req.volume}` },
      async () => {
        const host = await findByKey(this.ds.getRepository(HostEntity), 'host', req.host);
        const volume = await findByKey(this.ds.getRepository(VolumeEntity), 'volume', req.volume);
        if (volume.state !== 'online' || volume.mirrorOf) throw new NotFound('volume', req.volume);
        const replicaHost = await this.replicaHost(volume.id);
        // A snapshot is read-only: assigned 'ro' unless told otherwise, and never 'rw'; so is a replica to all but its source.
        const readOnly = volume.role === 'snapshot' || (replicaHost !== null && replicaHost !== host.id);
        const access = req.access ?? (readOnly ? 'ro' : 'rw');
        // A replica's source host shares it with readers.
        const sharing = req.sharing ?? (replicaHost !== null ? 'shared' : 'exclusive');
        checkModes(access, sharing);
        checkSnapshotAccess(volume, access);
        checkReplicaAccess(volume, replicaHost, host.id, access);
        // A share's snapshot is its volume's too: its blocks mean nothing without the metadata copy.
        // Only a share replica's source gateway writes its volume over SAN (docs/replication.md).
        const backing = volume.role === 'snapshot' && volume.originId ? volume.originId : volume.id;
        const replicaWriter = volume.role === 'share' && replicaHost === host.id && access === 'rw';
        if (!replicaWriter && (volume.role === 'share' || backing !== volume.id)) {
          const share = await this.ds.getRepository(ShareEntity).findOne({ where: { volumeId: backing } });
          if (volume.role === 'share' || share) throw shareVolumeError(volume.name, share?.name ?? '?', 'assigned to a SAN host');
        }
        const others = await this.list({ volume: volume.id });
        if (others.some((o) => o.hostId === host.id)) {
          throw new Conflict('ALREADY_ASSIGNED', `volume '${volume.name}' is already assigned to host '${host.name}'`, {
            host: host.name,
            volume: volume.name,
          });
        }
        this.checkSharing(volume.name, sharing, others);
        const row = this.repo.create({ id: newId(), hostId: host.id, volumeId: volume.id, access, sharing, createdAt: now() });
        await this.repo.insert(row);
        const info = await this.get(row.id);
        this.events.emit('assignment.created', info);
        return info;
      },
      (a) => ({ type: 'assignment', id: a.id, name: `${a.hostName}/${a.volumeName}` }),
      { access: req.access, sharing: req.sharing },
    );
  }

  update(actor: Actor, id: string, changes: { access?: Access; sharing?: Sharing }): Promise<AssignmentInfo> {
    return this.audit.audited(actor, 'assignment.update', { type: 'assignment', id }, async () => {
      const current = await this.get(id);
      const access = changes.access ?? current.access;
      const sharing = changes.sharing ?? current.sharing;
      checkModes(access, sharing);
      if (access !== current.access) {
        const volume = await this.ds.getRepository(VolumeEntity).findOne({ where: { id: current.volumeId } });
        if (volume) checkSnapshotAccess(volume, access);
        if (volume) checkReplicaAccess(volume, await this.replicaHost(volume.id), current.hostId, access);
      }
      if (sharing !== current.sharing) {
        const others = (await this.list({ volume: current.volumeId })).filter((o) => o.id !== id);
        this.checkSharing(current.volumeName, sharing, others);
      }
      await this.repo.update(id, { access, sharing });
      const info = await this.get(id);
      this.events.emit('assignment.updated', info);
      return info;
    }, (a) => ({ type: 'assignment', id: a.id, name: `${a.hostName}/${a.volumeName}` }), changes);
  }

  remove(actor: Actor, id: string): Promise<void> {
    return this.audit.audited(actor, 'assignment.delete', { type: 'assignment', id }, async () => {
      const current = await this.get(id);
      await this.repo.delete(id);
      this.events.emit('assignment.deleted', current);
    });
  }

  /** The host writing a replica volume (docs/replication.md), or null when the volume is no replica. */
  private async replicaHost(volumeId: string): Promise<string | null> {
    const [row] = (await this.ds.query('SELECT host_id AS hostId FROM replicas WHERE volume_id = ?', [volumeId])) as Array<{ hostId: string }>;
    return row?.hostId ?? null;
  }

  /** An exclusive volume has exactly one host; a shared one may have many, all shared. */
  private checkSharing(volume: string, sharing: Sharing, others: AssignmentInfo[]): void {
    const exclusive = others.find((o) => o.sharing === 'exclusive');
    if (exclusive) {
      throw new Conflict('VOLUME_EXCLUSIVE', `volume '${volume}' is assigned exclusively to host '${exclusive.hostName}'`, {
        volume,
        host: exclusive.hostName,
      });
    }
    if (sharing === 'exclusive' && others.length > 0) {
      throw new Conflict(
        'VOLUME_EXCLUSIVE',
        `volume '${volume}' is already assigned to ${others.map((o) => `'${o.hostName}'`).join(', ')}; an exclusive assignment needs it to have no other host`,
        { volume, hosts: others.map((o) => o.hostName) },
      );
    }
  }
}
