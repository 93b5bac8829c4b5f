import { Injectable } from '@nestjs/common';
import { DataSource, Repository } from 'typeorm';
import { Conflict, InUse, InvalidArgument, NameTaken } from '../common/errors';
import { AssignmentService } from './assignment.service';
import { AuditService } from './audit.service';
import { HOST_SECURITIES, type Actor, type HostInfo, type HostSecurity } from './domain';
import { HostEntity } from './entities';
import { StorageEvents } from './events';
import { parseHostKey } from './host-key';
import { findByKey, newId, now, validateName } from './lookup';

export interface CreateHost {
  name: string;
  publicKey: string;
  description?: string;
  security?: HostSecurity;
}

export type HostChanges = { name?: string; publicKey?: string; description?: string; security?: HostSecurity };

function validateSecurity(security: string): HostSecurity {
  if (!(HOST_SECURITIES as readonly string[]).includes(security)) throw new InvalidArgument(`security must be one of ${HOST_SECURITIES.join(', ')}, not '${security}'`, 'security');
  return security as HostSecurity;
}

/** SAN client hosts, each known by its name and Ed25519 public key. */
@Injectable()
export class HostService {
  private readonly hosts: Repository<HostEntity>;

  constructor(
    ds: DataSource,
    private readonly audit: AuditService,
    private readonly assignments: AssignmentService,
    private readonly events: StorageEvents,
  ) {
    this.hosts = ds.getRepository(HostEntity);
  }

  async list(): Promise<HostInfo[]> {
    const assignments = await this.assignments.list();
    return (await this.hosts.find({ order: { createdAt: 'ASC' } })).map((h) => this.describe(h, assignments.filter((a) => a.hostId === h.id)));
  }

  async get(key: string): Promise<HostInfo> {
    const row = await findByKey(this.hosts, 'host', key);
    return this.describe(row, await this.assignments.list({ host: row.id }));
  }

  /** For the SAN login: the host whose key has this fingerprint. */
  async findByFingerprint(fingerprint: string): Promise<HostInfo | null> {
    const row = await this.hosts.findOne({ where: { keyFingerprint: fingerprint } });
    return row ? this.describe(row, await this.assignments.list({ host: row.id })) : null;
  }

  create(actor: Actor, req: CreateHost): Promise<HostInfo> {
    return this.audit.audited(
      actor,
      'host.create',
      { type: 'host', name: req.name },
      async () => {
        const name = validateName('host', req.name);
        const key = parseHostKey(req.publicKey);
        if (await this.hosts.findOne({ where: { name } })) throw new NameTaken('host', name);
        await this.checkKeyFree(key.fingerprint);
        const row = this.hosts.create({
          id: newId(),
          name,
          publicKey: key.openssh,
          keyFingerprint: key.fingerprint,
          description: req.description ?? null,
          security: validateSecurity(req.security ?? 'encrypt'),
          createdAt: now(),
        });
        await this.hosts.insert(row);
        const info = this.describe(row, []);
        this.events.emit('host.created', info);
        return info;
      },
      (h) => ({ type: 'host', id: h.id, name: h.name }),
    );
  }

  /** A change of security takes effect at once: the host's sessions that no longer qualify get REVOKED on their next call. */
  update(actor: Actor, key: string, changes: HostChanges): Promise<HostInfo> {
    return this.audit.audited(actor, 'host.update', { type: 'host', name: key }, async () => {
      const row = await findByKey(this.hosts, 'host', key);
      const patch: Partial<HostEntity> = {};
      if (changes.name !== undefined && changes.name !== row.name) {
        patch.name = validateName('host', changes.name);
        if (await this.hosts.findOne({ where: { name: patch.name } })) throw new NameTaken('host', patch.name);
      }
      if (changes.publicKey !== undefined) {
        const k = parseHostKey(changes.publicKey);
        if (k.fingerprint !== row.keyFingerprint) await this.checkKeyFree(k.fingerprint);
        patch.publicKey = k.openssh;
        patch.keyFingerprint = k.fingerprint;
      }
      if (changes.description !== undefined) patch.description = changes.description;
      if (changes.security !== undefined && changes.security !== row.security) patch.security = validateSecurity(changes.security);
      if (Object.keys(patch).length > 0) await this.hosts.update(row.id, patch);
      const info = await this.get(row.id);
      this.events.emit('host.updated', info);
      return info;
    }, (h) => ({ type: 'host', id: h.id, name: h.name }), { ...changes, publicKey: changes.publicKey ? '(changed)' : undefined });
  }

  /** Remove a host. One with assignments needs `force`, which revokes them first. */
  remove(actor: Actor, key: string, opts: { force?: boolean } = {}): Promise<void> {
    return this.audit.audited(actor, 'host.delete', { type: 'host', name: key }, async () => {
      const row = await findByKey(this.hosts, 'host', key);
      const assigned = await this.assignments.list({ host: row.id });
      if (assigned.length > 0 && !opts.force) {
        throw new InUse('host', row.name, `assignment(s) of volume(s) ${assigned.map((a) => a.volumeName).join(', ')} (revoke them, or delete with force)`);
      }
      for (const a of assigned) await this.assignments.remove(actor, a.id);
      await this.hosts.delete(row.id);
      this.events.emit('host.deleted', { id: row.id, name: row.name });
    }, undefined, { force: !!opts.force });
  }

  private async checkKeyFree(fingerprint: string): Promise<void> {
    const other = await this.hosts.findOne({ where: { keyFingerprint: fingerprint } });
    if (other) throw new Conflict('KEY_TAKEN', `this public key is already registered for host '${other.name}'`, { host: other.name });
  }

  private describe(row: HostEntity, assignments: HostInfo['assignments']): HostInfo {
    return {
      id: row.id,
      name: row.name,
      publicKey: row.publicKey,
      keyFingerprint: row.keyFingerprint,
      description: row.description,
      security: row.security,
      assignments,
      createdAt: row.createdAt,
    };
  }
}
