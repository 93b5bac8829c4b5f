import { Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager, In, Repository } from 'typeorm';
import { Conflict, InvalidArgument, NameTaken, NotFound } from '../common/errors';
import { canonicalClient } from '../nas/exports/cidr';
import { ANONYMOUS_ID } from '../nas/exports/export-rules';
import type { VolumeIo } from '../virtualization/mirrored-disk';
import { AuditService } from './audit.service';
import type { Actor, ExportAccess, ExportRuleInfo, ShareExport, ShareInfo, ShareSnapshotRef, Squash } from './domain';
import { ExportRuleEntity, PoolEntity, ReplicationEntity, ShareEntity, VolumeEntity } from './entities';
import { StorageEvents } from './events';
import { findByKey, newId, now, UUID_RE, validateName } from './lookup';
import { StorageRuntime } from './runtime';
import { checkSize, replicaInfos, VolumeService } from './volume.service';

/** An export rule as an admin gives it; omitted fields take the defaults below. */
export interface ExportRuleInput {
  clients: string[];
  /** Default 'ro', as in Linux's exports(5). */
  access?: ExportAccess;
  /** Default 'root_squash'. */
  squash?: Squash;
  /** Default 65534 (nobody). */
  anonUid?: number;
  /** Default 65534 (nogroup). */
  anonGid?: number;
  /** Default true: Linux's `secure`. Clients that cannot bind a port below 1024 (libnfs as non-root) need false. */
  requirePrivilegedPort?: boolean;
  comment?: string | null;
}

export interface CreateShare {
  name: string;
  pool: string;
  size: number;
  /** exports(5) sync/async; default true (see ShareInfo.sync). */
  sync?: boolean;
  /** Initial export rules; without any the share admits nobody until a rule is added. */
  rules?: ExportRuleInput[];
}

/**
 * What the NAS layer plugs into a share's delete. `check` may refuse (throw,
 * e.g. InUse while clients have it mounted and `force` is not set);
 * `release` runs once the share is marked deleting and before its volume is
 * destroyed: close the filesystem, cut the clients.
 */
export interface ShareDeleteHook {
  check?(share: ShareInfo, opts: { force: boolean }): void | Promise<void>;
  release?(share: ShareInfo): void | Promise<void>;
}

type RuleFields = Required<Omit<ExportRuleInput, 'comment'>> & { comment: string | null };

export const SHARE_RULE_DEFAULTS: Omit<RuleFields, 'clients'> = {
  access: 'ro',
  squash: 'root_squash',
  anonUid: ANONYMOUS_ID,
  anonGid: ANONYMOUS_ID,
  requirePrivilegedPort: true,
  comment: null,
};

/** Enough for any real site; a bound keeps a rule list readable and a MOUNT check short. */
export const MAX_RULES = 64;
const MAX_CLIENTS = 64;
const MAX_COMMENT = 200;
const MAX_ID = 0xffffffff;
const LAST_EXPORT_ID = 'shares.lastExportId';
const SQUASHES: readonly Squash[] = ['root_squash', 'all_squash', 'no_root_squash'];

/** A share's volume is named after it in a namespace block volume names cannot enter (':' is not allowed in them). */
export const shareVolumeName = (share: string) => `share:${share}`;

/** Check and complete one rule; `field` prefixes every error (`rules[2]`). */
export function normalizeRule(input: unknown, field = '', base?: RuleFields): RuleFields {
  const at = (f: string) => (field ? `${field}.${f}` : f);
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new InvalidArgument(`${field || 'rule'} must be an object`, field || 'rule');
  const r = input as Record<string, unknown>;
  const out: RuleFields = { ...SHARE_RULE_DEFAULTS, clients: [], ...base };
  if (r.clients !== undefined || !base) {
    if (!Array.isArray(r.clients) || r.clients.length === 0) {
      throw new InvalidArgument(`${at('clients')} must list at least one client: an IP address, a CIDR network or *`, at('clients'));
    }
    if (r.clients.length > MAX_CLIENTS) throw new InvalidArgument(`${at('clients')} may list at most ${MAX_CLIENTS} clients`, at('clients'));
    out.clients = [...new Set(r.clients.map((c, i) => canonicalClient(c, at(`clients[${i}]`))))];
  }
  if (r.access !== undefined) {
    if (r.access !== 'ro' && r.access !== 'rw') throw new InvalidArgument(`${at('access')} must be ro or rw, not '${String(r.access)}'`, at('access'));
    out.access = r.access;
  }
  if (r.squash !== undefined) {
    if (!SQUASHES.includes(r.squash as Squash)) {
      throw new InvalidArgument(`${at('squash')} must be root_squash, all_squash or no_root_squash, not '${String(r.squash)}'`, at('squash'));
    }
    out.squash = r.squash as Squash;
  }
  for (const k of ['anonUid', 'anonGid'] as const) {
    if (r[k] === undefined) continue;
    const v = r[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_ID) throw new InvalidArgument(`${at(k)} must be a whole number from 0 to ${MAX_ID}`, at(k));
    out[k] = v;
  }
  if (r.requirePrivilegedPort !== undefined) {
    if (typeof r.requirePrivilegedPort !== 'boolean') throw new InvalidArgument(`${at('requirePrivilegedPort')} must be true or false`, at('requirePrivilegedPort'));
    out.requirePrivilegedPort = r.requirePrivilegedPort;
  }
  if (r.comment !== undefined) {
    if (r.comment !== null && typeof r.comment !== 'string') throw new InvalidArgument(`${at('comment')} must be text`, at('comment'));
    const c = typeof r.comment === 'string' ? r.comment.trim() : '';
    if (c.length > MAX_COMMENT) throw new InvalidArgument(`${at('comment')} may be at most ${MAX_COMMENT} characters`, at('comment'));
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(c)) throw new InvalidArgument(`${at('comment')} may not hold control characters`, at('comment'));
    out.comment = c === '' ? null : c;
  }
  return out;
}

function checkSync(v: unknown): boolean | undefined {
  if (v === undefined || typeof v === 'boolean') return v;
  throw new InvalidArgument('sync must be true or false', 'sync');
}

/**
 * NAS shares: a name, a thin volume of their own (same pool, same size),
 * an export id for file handles, a secret key for their MAC, and ordered
 * export rules. Changes are audited and announced on StorageEvents; the
 * NAS data path follows them through an ExportTable.
 */
@Injectable()
export class ShareService {
  private readonly shares: Repository<ShareEntity>;
  private readonly rules: Repository<ExportRuleEntity>;
  private readonly hooks = new Set<ShareDeleteHook>();
  private readonly log = new Logger('ShareService');
  /** Share changes run one at a time: export ids, rule positions and names are read then written. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly ds: DataSource,
    private readonly runtime: StorageRuntime,
    private readonly audit: AuditService,
    private readonly volumes: VolumeService,
    private readonly events: StorageEvents,
  ) {
    this.shares = ds.getRepository(ShareEntity);
    this.rules = ds.getRepository(ExportRuleEntity);
  }

  async list(): Promise<ShareInfo[]> {
    return this.describe(await this.shares.find({ where: { state: 'online' }, order: { createdAt: 'ASC' } }));
  }

  async get(key: string): Promise<ShareInfo> {
    return (await this.describe([await this.row(key, true)]))[0];
  }

  /** The live logical disk of a share's volume: where its filesystem lives. */
  async disk(key: string): Promise<VolumeIo> {
    const row = await this.row(key);
    const disk = this.runtime.disk(row.volumeId);
    if (!disk) throw new NotFound('share', key);
    return disk;
  }

  /** Every share with its file-handle key: the ExportTable's initial load. Never for the API. */
  async exports(): Promise<ShareExport[]> {
    const rows = await this.shares.find({ where: { state: 'online' }, order: { createdAt: 'ASC' } });
    const infos = await this.describe(rows);
    const snapshots = await this.snapshotRefs();
    return infos
      .map((share, i) => ({ share, secretKey: Buffer.from(rows[i].secretKey), snapshots: snapshots.get(share.id) ?? [], served: servedNow(share) }))
      .filter((e) => e.served);
  }

  /** The share a volume backs (its row), if it backs one. Storage-manager internal. */
  async rowOfVolume(volumeId: string): Promise<ShareEntity | null> {
    return this.shares.findOne({ where: { volumeId } });
  }

  /** Online snapshots of shares, by share id, oldest first. */
  private async snapshotRefs(shareId?: string): Promise<Map<string, ShareSnapshotRef[]>> {
    const rows = (await this.ds.query(
      `SELECT s.share_id AS shareId, s.volume_id AS volumeId, s.handle_id AS handleId, v.name AS name, v.created_at AS createdAt
         FROM share_snapshots s JOIN volumes v ON v.id = s.volume_id
        WHERE v.state = 'online' ${shareId ? 'AND s.share_id = ?' : ''}
        ORDER BY v.created_at, s.handle_id`,
      shareId ? [shareId] : [],
    )) as Array<{ shareId: string; volumeId: string; handleId: number; name: string; createdAt: string }>;
    const out = new Map<string, ShareSnapshotRef[]>();
    for (const r of rows) {
      const list = out.get(r.shareId) ?? [];
      list.push({ volumeId: r.volumeId, name: r.name.slice(r.name.indexOf('@') + 1), handleId: r.handleId, createdAt: r.createdAt });
      out.set(r.shareId, list);
    }
    return out;
  }

  /** Plug the NAS layer into deletes; returns the unregister. */
  registerDeleteHook(hook: ShareDeleteHook): () => void {
    this.hooks.add(hook);
    return () => this.hooks.delete(hook);
  }

  create(actor: Actor, req: CreateShare): Promise<ShareInfo> {
    return this.audit.audited(
      actor,
      'share.create',
      { type: 'share', name: req.name },
      () => this.serial(() => this.doCreate(req)),
      (s) => ({ type: 'share', id: s.id, name: s.name }),
      { pool: req.pool, size: req.size, sync: req.sync, rules: req.rules },
    );
  }

  /**
   * A share for a restore job to fill from backup `backupId`: made like any
   * share, but not served (no share.created) and closed to changes until
   * finishRestore(); deleting it is allowed.
   */
  createRestoring(actor: Actor, req: CreateShare, backupId: string, opts: { familyId?: string } = {}): Promise<ShareInfo> {
    return this.audit.audited(
      actor,
      'share.create',
      { type: 'share', name: req.name },
      () => this.serial(() => this.doCreate(req, backupId, opts.familyId)),
      (s) => ({ type: 'share', id: s.id, name: s.name }),
      { pool: req.pool, size: req.size, sync: req.sync, rules: req.rules, restoringFrom: backupId },
    );
  }

  /** The restore job is done (volume and metadata in place): serve the share. */
  finishRestore(shareId: string): Promise<ShareInfo> {
    return this.serial(async () => {
      const row = await findByKey(this.shares, 'share', shareId);
      if (row.state !== 'online') throw new NotFound('share', shareId);
      if (row.restoringFrom) await this.shares.update(row.id, { restoringFrom: null, updatedAt: now() });
      const created = await this.exportOf(row.id);
      this.events.emit('share.created', created);
      return created.share;
    });
  }

  private async doCreate(req: CreateShare, restoringFrom: string | null = null, familyId?: string): Promise<ShareInfo> {
    const name = validateName('share', req.name);
    checkSize(req.size);
    const sync = checkSync(req.sync) ?? true;
    if (req.rules !== undefined && !Array.isArray(req.rules)) throw new InvalidArgument('rules must be a list of export rules', 'rules');
    const rules = (req.rules ?? []).map((r, i) => normalizeRule(r, `rules[${i}]`));
    if (rules.length > MAX_RULES) throw new InvalidArgument(`a share may have at most ${MAX_RULES} export rules`, 'rules');
    const pool = await findByKey(this.ds.getRepository(PoolEntity), 'pool', req.pool);
    if (await this.shares.findOne({ where: { name } })) throw new NameTaken('share', name);
    const id = newId();
    const at = now();
    await this.volumes.createBacking({ name: shareVolumeName(name), poolId: pool.id, size: req.size, familyId }, async (m, volume) => {
      const exportId = await this.nextExportId(m);
      await m.insert(ShareEntity, { id, name, volumeId: volume.id, exportId, secretKey: randomBytes(32), state: 'online', restoringFrom, sync, createdAt: at, updatedAt: at });
      await m.insert(ExportRuleEntity, rules.map((r, position) => this.ruleRow(id, position, r, at)));
    });
    const created = await this.exportOf(id);
    if (!restoringFrom) this.events.emit('share.created', created);
    return created.share;
  }

  /** Rename, grow (shares only grow, as volumes do) and/or switch sync/async. */
  update(actor: Actor, key: string, changes: { name?: string; size?: number; sync?: boolean }): Promise<ShareInfo> {
    return this.audit.audited(
      actor,
      'share.update',
      { type: 'share', name: key },
      () =>
        this.serial(async () => {
          const row = await this.row(key);
          let changed = false;
          // Check the new name before growing, so a refused rename changes nothing.
          const renaming = changes.name !== undefined && changes.name !== row.name;
          const name = renaming ? validateName('share', changes.name) : row.name;
          if (renaming && (await this.shares.findOne({ where: { name } }))) throw new NameTaken('share', name);
          const sync = checkSync(changes.sync);
          if (changes.size !== undefined) {
            const before = (await this.volumes.get(row.volumeId)).size;
            if (changes.size !== before) {
              await this.volumes.growBacking(row.volumeId, changes.size);
              changed = true;
            }
          }
          if (renaming) {
            await this.volumes.renameBacking(row.volumeId, shareVolumeName(name));
            await this.shares.update(row.id, { name });
            changed = true;
          }
          if (sync !== undefined && sync !== (row.sync !== false)) {
            await this.shares.update(row.id, { sync });
            changed = true;
          }
          if (!changed) return this.get(row.id);
          await this.shares.update(row.id, { updatedAt: now() });
          const updated = await this.exportOf(row.id);
          this.events.emit('share.updated', updated);
          return updated.share;
        }),
      (s) => ({ type: 'share', id: s.id, name: s.name }),
      changes,
    );
  }

  grow(actor: Actor, key: string, size: number): Promise<ShareInfo> {
    return this.update(actor, key, { size });
  }

  /**
   * Delete a share, its rules and its volume (the data goes). Delete hooks
   * may refuse unless `force` (clients still have it mounted). Marked
   * 'deleting' first, so a crash part way is finished at the next boot.
   */
  remove(actor: Actor, key: string, opts: { force?: boolean } = {}): Promise<void> {
    const force = !!opts.force;
    return this.audit.audited(
      actor,
      'share.delete',
      { type: 'share', name: key },
      () =>
        this.serial(async () => {
          const row = await this.row(key, true);
          const info = await this.get(row.id);
          if (await this.ds.getRepository(ReplicationEntity).findOne({ where: { volumeId: row.volumeId } })) {
            throw new Conflict('REPLICATED', `share '${row.name}' is replicated to another gateway: remove the replication first (strata replication rm ${row.name})`, { share: row.name });
          }
          for (const hook of this.hooks) await hook.check?.(info, { force });
          await this.volumes.markDeleting(row.volumeId, (m) => m.update(ShareEntity, row.id, { state: 'deleting' }).then(() => undefined));
          this.events.emit('share.deleting', info);
          for (const hook of this.hooks) {
            try {
              await hook.release?.(info);
            } catch (e) {
              // The share is already out of service; what a hook failed to let go of goes with the volume.
              this.log.error(`releasing share ${info.name} before its delete failed: ${(e as Error).message}`);
            }
          }
          await this.volumes.destroyBacking(row.volumeId);
          this.events.emit('share.deleted', { id: row.id, name: row.name, exportId: row.exportId, volumeId: row.volumeId });
        }),
      undefined,
      { force },
    );
  }

  // ---- export rules ----

  async listRules(key: string): Promise<ExportRuleInfo[]> {
    const row = await this.row(key);
    return (await this.rules.find({ where: { shareId: row.id }, order: { position: 'ASC' } })).map(ruleInfo);
  }

  async getRule(key: string, ruleKey: string): Promise<ExportRuleInfo> {
    const row = await this.row(key);
    return ruleInfo(await this.ruleRowOf(row, ruleKey, await this.ruleRows(row.id)));
  }

  /** Add a rule at `position` (1-based; default: last). */
  addRule(actor: Actor, key: string, input: ExportRuleInput & { position?: number }): Promise<ExportRuleInfo> {
    return this.ruleChange(actor, 'share.rule.add', key, { rule: input }, async (m, share, rows, at) => {
      const fields = normalizeRule(input);
      if (rows.length >= MAX_RULES) throw new InvalidArgument(`share '${share.name}' already has ${MAX_RULES} export rules, the most it may have`, 'rules');
      const position = checkPosition(input.position, rows.length + 1) - 1;
      const row = this.ruleRow(share.id, position, fields, at);
      await this.renumber(m, [...rows.slice(0, position), row, ...rows.slice(position)], row);
      return row.id;
    });
  }

  /** Change a rule's fields and/or move it to `position`. */
  updateRule(actor: Actor, key: string, ruleKey: string, changes: Partial<ExportRuleInput> & { position?: number }): Promise<ExportRuleInfo> {
    return this.ruleChange(actor, 'share.rule.update', key, { rule: ruleKey, changes }, async (m, share, rows, at) => {
      const current = await this.ruleRowOf(share, ruleKey, rows);
      const fields = normalizeRule(changes, '', fieldsOf(current));
      const position = checkPosition(changes.position, rows.length, current.position + 1) - 1;
      const others = rows.filter((r) => r.id !== current.id);
      await m.update(ExportRuleEntity, current.id, { ...fields, clients: JSON.stringify(fields.clients), updatedAt: at });
      await this.renumber(m, [...others.slice(0, position), current, ...others.slice(position)]);
      return current.id;
    });
  }

  removeRule(actor: Actor, key: string, ruleKey: string): Promise<void> {
    return this.ruleChange(actor, 'share.rule.remove', key, { rule: ruleKey }, async (m, share, rows) => {
      const current = await this.ruleRowOf(share, ruleKey, rows);
      await m.delete(ExportRuleEntity, current.id);
      await this.renumber(m, rows.filter((r) => r.id !== current.id));
      return null;
    }).then(() => undefined);
  }

  /** Replace every rule of a share at once (an empty list closes the share to everyone). */
  replaceRules(actor: Actor, key: string, inputs: ExportRuleInput[]): Promise<ExportRuleInfo[]> {
    return this.ruleChange(actor, 'share.rules.replace', key, { rules: inputs }, async (m, share, _rows, at) => {
      if (!Array.isArray(inputs)) throw new InvalidArgument('rules must be a list of export rules', 'rules');
      if (inputs.length > MAX_RULES) throw new InvalidArgument(`a share may have at most ${MAX_RULES} export rules`, 'rules');
      const fields = inputs.map((r, i) => normalizeRule(r, `rules[${i}]`));
      await m.delete(ExportRuleEntity, { shareId: share.id });
      await m.insert(ExportRuleEntity, fields.map((f, position) => this.ruleRow(share.id, position, f, at)));
      return null;
    }).then(async () => this.listRules(key));
  }

  /**
   * One audited, serialized rule change in one transaction; announces the
   * share's new rule list. Resolves to the rule `change` names (if any).
   */
  private ruleChange(
    actor: Actor,
    action: string,
    key: string,
    detail: Record<string, unknown>,
    change: (m: EntityManager, share: ShareEntity, rows: ExportRuleEntity[], at: string) => Promise<string | null>,
  ): Promise<ExportRuleInfo> {
    return this.audit.audited(
      actor,
      action,
      { type: 'share', name: key },
      () =>
        this.serial(async () => {
          const share = await this.row(key);
          const at = now();
          const ruleId = await this.ds.transaction(async (m) => {
            const rows = await m.find(ExportRuleEntity, { where: { shareId: share.id }, order: { position: 'ASC' } });
            const id = await change(m, share, rows, at);
            await m.update(ShareEntity, share.id, { updatedAt: at });
            return id;
          });
          const updated = await this.exportOf(share.id);
          this.events.emit('share.rules.changed', updated);
          return { share: updated.share, rule: updated.share.rules.find((r) => r.id === ruleId) };
        }),
      ({ share }) => ({ type: 'share', id: share.id, name: share.name }),
      detail,
    ).then(({ rule }) => rule as ExportRuleInfo);
  }

  /** Store the order given (0-based positions); `fresh` is inserted, the others updated where they moved. */
  private async renumber(m: EntityManager, ordered: ExportRuleEntity[], fresh?: ExportRuleEntity): Promise<void> {
    for (const [position, r] of ordered.entries()) {
      if (r === fresh) await m.insert(ExportRuleEntity, { ...r, position });
      else if (r.position !== position) await m.update(ExportRuleEntity, r.id, { position });
    }
  }

  private ruleRows(shareId: string): Promise<ExportRuleEntity[]> {
    return this.rules.find({ where: { shareId }, order: { position: 'ASC' } });
  }

  /** A rule by id, or by its 1-based position (what `strata share rule list` shows). */
  private async ruleRowOf(share: ShareEntity, ruleKey: string, rows: ExportRuleEntity[]): Promise<ExportRuleEntity> {
    const found = /^[1-9][0-9]{0,5}$/.test(ruleKey) ? rows[Number(ruleKey) - 1] : UUID_RE.test(ruleKey) ? rows.find((r) => r.id === ruleKey) : undefined;
    if (!found) throw new NotFound('rule', `${share.name}/${ruleKey}`);
    return found;
  }

  private ruleRow(shareId: string, position: number, f: RuleFields, at: string): ExportRuleEntity {
    return this.rules.create({ id: newId(), shareId, position, ...f, clients: JSON.stringify(f.clients), createdAt: at, updatedAt: at });
  }

  /** Export ids count up from 1 and are never reused, even after a delete. */
  private async nextExportId(m: EntityManager): Promise<number> {
    const [last] = (await m.query(`SELECT value FROM settings WHERE key = ?`, [LAST_EXPORT_ID])) as Array<{ value: string }>;
    const [high] = (await m.query(`SELECT COALESCE(MAX(export_id), 0) AS n FROM shares`)) as Array<{ n: number }>;
    const next = Math.max(Number(last?.value ?? 0), high.n) + 1;
    if (next > MAX_ID) throw new InvalidArgument('no export ids left', 'name');
    await m.query(`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, [LAST_EXPORT_ID, String(next)]);
    return next;
  }

  /** What the NAS needs of one share (file-handle key, snapshots): for change events only. */
  async exportOf(id: string): Promise<ShareExport> {
    const row = await findByKey(this.shares, 'share', id);
    const snapshots = (await this.snapshotRefs(row.id)).get(row.id) ?? [];
    const share = (await this.describe([row]))[0];
    return { share, secretKey: Buffer.from(row.secretKey), snapshots, served: servedNow(share) };
  }

  /** An online share; one a restore job is filling only when `restoring` says it may be (read, delete). */
  private async row(key: string, restoring = false): Promise<ShareEntity> {
    const row = await findByKey(this.shares, 'share', key);
    if (row.state !== 'online') throw new NotFound('share', key);
    if (row.restoringFrom && !restoring) {
      throw new Conflict('SHARE_RESTORING', `share '${row.name}' is being restored from backup ${row.restoringFrom}: wait for its restore job (or delete the share)`, { share: row.name, backup: row.restoringFrom });
    }
    return row;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async describe(rows: ShareEntity[]): Promise<ShareInfo[]> {
    if (rows.length === 0) return [];
    const volumes = await this.ds.getRepository(VolumeEntity).find({ where: { id: In(rows.map((r) => r.volumeId)) } });
    const pools = await this.ds.getRepository(PoolEntity).find({ where: { id: In([...new Set(volumes.map((v) => v.poolId))]) } });
    const rules = await this.rules.find({ where: { shareId: In(rows.map((r) => r.id)) }, order: { position: 'ASC' } });
    const replicaOf = await replicaInfos(this.ds, volumes);
    return rows.map((row) => {
      const volume = volumes.find((v) => v.id === row.volumeId);
      const disk = this.runtime.disk(row.volumeId);
      const pool = volume ? this.runtime.pools.get(volume.poolId) : undefined;
      const poolState = pool ? pool.health().state : 'failed';
      return {
        id: row.id,
        name: row.name,
        path: `/${row.name}`,
        poolId: volume?.poolId ?? '',
        poolName: pools.find((p) => p.id === volume?.poolId)?.name ?? volume?.poolId ?? '',
        volumeId: row.volumeId,
        volumeName: volume?.name ?? '',
        size: volume?.size ?? 0,
        allocatedBytes: (disk?.allocatedPages ?? 0) * (pool?.pageSize ?? 0),
        exportId: row.exportId,
        sync: row.sync !== false,
        state: poolState === 'online' ? 'online' : poolState,
        rules: rules.filter((r) => r.shareId === row.id).map(ruleInfo),
        ...(row.restoringFrom ? { restoringFrom: row.restoringFrom } : {}),
        replica: volume ? replicaOf(volume) : null,
        createdAt: row.createdAt,
        updatedAt: row.updatedAt,
      };
    });
  }
}

/** A share a restore job is still filling, or a replica another gateway writes, is not served (its filesystem is not open). */
function servedNow(share: ShareInfo): boolean {
  return !share.restoringFrom && !share.replica;
}

/** A 1-based position between 1 and `max`; `fallback` when not given. */
function checkPosition(value: unknown, max: number, fallback = max): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidArgument(`position must be a whole number from 1 to ${max}`, 'position');
  }
  return value;
}

function fieldsOf(r: ExportRuleEntity): RuleFields {
  return {
    clients: JSON.parse(r.clients) as string[],
    access: r.access,
    squash: r.squash,
    anonUid: r.anonUid,
    anonGid: r.anonGid,
    requirePrivilegedPort: !!r.requirePrivilegedPort,
    comment: r.comment,
  };
}

function ruleInfo(r: ExportRuleEntity): ExportRuleInfo {
  return { id: r.id, shareId: r.shareId, position: r.position + 1, ...fieldsOf(r), createdAt: r.createdAt, updatedAt: r.updatedAt };
}
