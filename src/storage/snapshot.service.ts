import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DataSource, In, Repository } from 'typeorm';
import { Conflict, InUse, InvalidArgument, NameTaken, NotFound } from '../common/errors';
import type { PageMapEntry } from '../virtualization/logical-disk';
import { AssignmentService } from './assignment.service';
import { AuditService } from './audit.service';
import { sqliteHandle } from './catalog';
import { SYSTEM_ACTOR, type Actor, type SnapshotInfo, type VolumeInfo } from './domain';
import { PoolEntity, ShareEntity, VolumeEntity } from './entities';
import { StorageEvents } from './events';
import { findVolumeOrShare, newId, now, shareVolumeError, UUID_RE, validateName } from './lookup';
import { ShareService } from './share.service';
import { StorageRuntime } from './runtime';
import { SnapshotKeepers } from './snapshot-keepers';
import { VolumeService } from './volume.service';

/** One snapshot to take: of which volume, under which name, for which schedule. */
export interface SnapshotRequest {
  volume: VolumeEntity;
  name: string;
  scheduleId?: string | null;
  /**
   * A share's metadata for the snapshot, held by the caller instead of the
   * NAS layer freezing the live filesystem: a share replica, which is not
   * served and whose metadata arrives from the source (ReplicaService).
   */
  metadata?: FrozenShare;
}

/** Snapshots replication takes are `<volume>@repl-<cycle>`; people cannot take them, nor delete them while the volume is replicated. */
export const REPLICATION_PREFIX = 'repl-';
export const REPLICATION_SNAPSHOT_RE = /^repl-\d+$/;


/** A share's filesystem held still for a snapshot: nothing changes it until release(). */
export interface FrozenShare {
  /** Copy the metadata database, as it stands now, for the snapshot volume `snapshotId`: durable when this resolves. */
  copyMetadata(snapshotId: string): Promise<void>;
  /** Remove a copy made for a snapshot that was not committed after all. */
  discard(snapshotId: string): void;
  /** Let changes run again. Idempotent. */
  release(): void;
}

/**
 * What the NAS layer plugs into share snapshots (the storage manager knows
 * volumes and rows, the NAS knows the filesystem): freeze a share's
 * filesystem and copy its metadata at the instant the volume is snapshotted,
 * and forget a snapshot once it is deleted.
 */
export interface ShareSnapshotHook {
  freeze(share: { id: string; name: string; volumeId: string }): Promise<FrozenShare>;
  /**
   * Roll a served share back to its snapshot `snapshotId`: close its
   * filesystem, let `swapVolume` give the volume the snapshot's map, put the
   * snapshot's metadata copy in place as the live database, open it again.
   * Refused (InUse) while NFS clients have it mounted, unless `force`.
   */
  rollback(share: { id: string; name: string; volumeId: string }, snapshotId: string, opts: { force: boolean }, swapVolume: () => Promise<void>): Promise<void>;
  /** A clone: the snapshot's metadata copy becomes the live database of the new share `toShareId` (not served yet). */
  cloneMetadata(fromShareId: string, snapshotId: string, toShareId: string): Promise<void>;
  /** The snapshot's rows are gone: close it and delete its metadata copy. */
  dropped(share: { id: string; name: string }, snapshotId: string): void | Promise<void>;
}

/**
 * Snapshots, rollback and clones. A snapshot is a read-only volume named
 * `<volume>@<snapshot>` whose page map is a copy of its volume's at one
 * instant; the two share pool pages until a write redirects them. Map rows
 * and volume rows of one operation go in one SQLite transaction.
 */
@Injectable()
export class SnapshotService {
  private readonly volumes: Repository<VolumeEntity>;
  /** Catalog-changing snapshot operations run one at a time: a clone never copies a map that a delete is dropping. */
  private serial: Promise<unknown> = Promise.resolve();
  private shareHook: ShareSnapshotHook | null = null;

  constructor(
    private readonly ds: DataSource,
    private readonly runtime: StorageRuntime,
    private readonly audit: AuditService,
    private readonly assignments: AssignmentService,
    private readonly events: StorageEvents,
    private readonly volumeService: VolumeService,
    private readonly shares: ShareService,
    private readonly keepers: SnapshotKeepers,
  ) {
    this.volumes = ds.getRepository(VolumeEntity);
  }

  /** The NAS layer's half of share snapshots; returns the unregister. Without it shares cannot be snapshotted. */
  registerShareHook(hook: ShareSnapshotHook): () => void {
    this.shareHook = hook;
    return () => {
      if (this.shareHook === hook) this.shareHook = null;
    };
  }

  async list(volumeKey: string): Promise<SnapshotInfo[]> {
    const origin = await this.origin(volumeKey);
    const rows = await this.volumes.find({ where: { originId: origin.id, role: 'snapshot', state: 'online' }, order: { createdAt: 'ASC' } });
    return this.describe(origin, rows);
  }

  async get(volumeKey: string, snapshotKey: string): Promise<SnapshotInfo> {
    const origin = await this.origin(volumeKey);
    return (await this.describe(origin, [await this.snapshotRow(origin, snapshotKey)]))[0];
  }

  create(actor: Actor, volumeKey: string, req: { name: string }): Promise<SnapshotInfo> {
    return this.audit.audited(
      actor,
      'snapshot.create',
      { type: 'volume', name: `${volumeKey}@${String(req.name)}` },
      () =>
        this.exclusive(async () => {
          const origin = await this.origin(volumeKey);
          if (typeof req.name === 'string' && REPLICATION_SNAPSHOT_RE.test(req.name)) {
            throw new InvalidArgument(`snapshot names like '${REPLICATION_PREFIX}<number>' are kept for replication cycles`, 'name');
          }
          const [row] = await this.take([{ volume: origin, name: req.name }]);
          return this.get(origin.id, row.id);
        }),
      (s) => ({ type: 'volume', id: s.id, name: s.volumeName }),
    );
  }

  /** take(), one operation at a time with the others (group snapshots and schedules). */
  takeExclusive(requests: SnapshotRequest[]): Promise<VolumeEntity[]> {
    return this.exclusive(() => this.take(requests));
  }

  /**
   * Snapshot several volumes and shares at one instant: freeze every share's
   * filesystem (changes in flight finish, new ones wait, data on the volume)
   * and copy its metadata, hold every volume (in id order, so two group
   * snapshots cannot wait on each other), wait out writes in flight, flush,
   * copy the maps, commit all rows in one transaction, attach, release. A
   * failure anywhere commits nothing and removes the metadata copies.
   */
  async take(requests: SnapshotRequest[]): Promise<VolumeEntity[]> {
    const names = new Set<string>();
    const shareOf = new Map<string, ShareEntity>();
    for (const r of requests) {
      validateName('snapshot', r.name);
      if (r.volume.role === 'snapshot') {
        throw new InvalidArgument(`volume '${r.volume.name}' is a snapshot: snapshots of snapshots are not supported (clone it first)`, 'volume');
      }
      if (r.volume.role === 'share') {
        const share = await this.shares.rowOfVolume(r.volume.id);
        if (!share || share.state !== 'online') throw new NotFound('share', r.volume.name);
        if (!this.shareHook && !r.metadata) throw new Conflict('SHARE_NOT_SERVED', `share '${share.name}' cannot be snapshotted: the NAS layer is not running`, { share: share.name });
        shareOf.set(r.volume.id, share);
      }
      const full = `${r.volume.name}@${r.name}`;
      if (names.has(full)) throw new InvalidArgument(`volume '${r.volume.name}' is listed twice`, 'volumes');
      names.add(full);
      if (await this.volumes.findOne({ where: { name: full } })) throw new NameTaken('snapshot', full);
    }
    const disks = requests.map((r) => {
      const disk = this.runtime.disks.get(r.volume.id);
      if (!disk) throw new NotFound('volume', r.volume.name);
      return disk;
    });
    const createdAt = now();
    const rows = requests.map((r, i) =>
      this.volumes.create({
        id: newId(),
        name: `${r.volume.name}@${r.name}`,
        poolId: r.volume.poolId,
        size: disks[i].size,
        provisioning: 'thin',
        serial: randomBytes(8).toString('hex'),
        state: 'online',
        nbdExport: false,
        role: 'snapshot',
        originId: r.volume.id,
        familyId: disks[i].family,
        scheduleId: r.scheduleId ?? null,
        createdAt,
      }),
    );
    const frozen: FrozenShare[] = [];
    const copied: Array<{ frozen: FrozenShare; snapshotId: string }> = [];
    const releases: Array<() => void> = [];
    let committed = false;
    try {
      // Shares first, in id order: a frozen filesystem writes nothing to its volume, so its metadata copy and its map agree.
      const shareRows = rows.map((row, i) => ({ row, share: shareOf.get(requests[i].volume.id), given: requests[i].metadata })).filter((x) => x.share);
      shareRows.sort((a, b) => (a.share!.id < b.share!.id ? -1 : 1));
      for (const { row, share, given } of shareRows) {
        const f = given ?? (await this.shareHook!.freeze({ id: share!.id, name: share!.name, volumeId: share!.volumeId }));
        frozen.push(f);
        await f.copyMetadata(row.id);
        copied.push({ frozen: f, snapshotId: row.id });
      }
      for (const disk of [...disks].sort((a, b) => (a.id < b.id ? -1 : 1))) releases.push(await disk.hold());
      // Every acknowledged write is on stable storage before a map that points at it is committed.
      await Promise.all([...new Set(disks.map((d) => d.pool))].map((p) => p.layout.flush()));
      const maps = disks.map((d) => d.mappings());
      this.commit(rows, maps, [], shareRows.map(({ row, share }) => ({ volumeId: row.id, shareId: share!.id })));
      committed = true;
      rows.forEach((row, i) => this.runtime.attachVolume(row, maps[i]));
    } finally {
      for (const release of releases) release();
      if (!committed) for (const c of copied) c.frozen.discard(c.snapshotId);
      for (const f of frozen) f.release();
    }
    for (const row of rows) this.events.emit('volume.created', await this.volumeService.get(row.id));
    for (const share of new Set(shareOf.values())) this.events.emit('share.snapshots.changed', await this.shares.exportOf(share.id));
    return rows;
  }

  /** Delete a snapshot: pages only it maps go back to the pool. Assigned snapshots need `force`, which revokes the assignments. */
  remove(actor: Actor, volumeKey: string, snapshotKey: string, opts: { force?: boolean } = {}): Promise<void> {
    return this.audit.audited(
      actor,
      'snapshot.delete',
      { type: 'volume', name: `${volumeKey}@${snapshotKey}` },
      () =>
        this.exclusive(async () => {
          const origin = await this.origin(volumeKey);
          const row = await this.snapshotRow(origin, snapshotKey);
          await this.checkNotReplicationBase(origin, row);
          await this.keepers.assertDeletable(row);
          await this.destroy(actor, row, !!opts.force);
        }),
      undefined,
      { force: !!opts.force },
    );
  }

  /** A replication's own snapshot goes only with the replication (or when its next cycle is done). */
  private async checkNotReplicationBase(origin: VolumeEntity, row: VolumeEntity): Promise<void> {
    if (!REPLICATION_SNAPSHOT_RE.test(row.name.slice(row.name.indexOf('@') + 1))) return;
    const [replication] = (await this.ds.query('SELECT id FROM replications WHERE volume_id = ?', [origin.id])) as Array<{ id: string }>;
    if (!replication) return;
    throw new Conflict(
      'REPLICATION_SNAPSHOT',
      `snapshot '${row.name}' is the base of the replication of volume '${origin.name}': the replication deletes it after its next cycle (or remove the replication)`,
      { volume: origin.name, snapshot: row.name, replication: replication.id },
    );
  }

  /** destroy(), one operation at a time with the others (schedules pruning, revoking assignments). */
  destroyExclusive(actor: Actor, row: VolumeEntity): Promise<void> {
    return this.exclusive(() => this.destroy(actor, row, true));
  }

  /** Delete a snapshot by row, revoking its assignments when forced. */
  async destroy(actor: Actor, row: VolumeEntity, force: boolean): Promise<void> {
    const assigned = await this.assignments.list({ volume: row.id });
    if (assigned.length > 0 && !force) {
      throw new InUse('snapshot', row.name, `host(s) ${assigned.map((a) => a.hostName).join(', ')} (revoke them, or delete with force)`);
    }
    for (const a of assigned) await this.assignments.remove(actor, a.id);
    const origin = row.originId ? await this.volumes.findOne({ where: { id: row.originId } }) : null;
    const share = origin?.role === 'share' ? await this.shares.rowOfVolume(origin.id) : null;
    await this.volumeService.destroy(row);
    this.events.emit('volume.deleted', { id: row.id, name: row.name });
    if (share) {
      await this.shareHook?.dropped({ id: share.id, name: share.name }, row.id);
      if (share.state === 'online') this.events.emit('share.snapshots.changed', await this.shares.exportOf(share.id));
    }
  }

  /**
   * Make the volume read as the snapshot again (its current size is kept;
   * beyond the snapshot's size it reads zeros). The swap happens between two
   * I/Os, under a hold; a volume hosts may be writing to (rw assignments,
   * the NBD export) needs `force`, because their caches would no longer match.
   */
  rollback(actor: Actor, volumeKey: string, req: { snapshot: string; force?: boolean }): Promise<VolumeInfo> {
    return this.audit.audited(
      actor,
      'volume.rollback',
      { type: 'volume', name: volumeKey },
      () =>
        this.exclusive(async () => {
          if (typeof req.snapshot !== 'string' || req.snapshot === '') throw new InvalidArgument('snapshot is required: the name of a snapshot of this volume', 'snapshot');
          const origin = await this.origin(volumeKey);
          const snap = await this.snapshotRow(origin, req.snapshot);
          if (origin.role === 'share') return this.rollbackShare(origin, snap, !!req.force);
          const writers = (await this.assignments.list({ volume: origin.id })).filter((a) => a.access === 'rw');
          if (!req.force && (writers.length > 0 || origin.nbdExport)) {
            const by = [
              ...(writers.length ? [`host(s) ${writers.map((a) => a.hostName).join(', ')} with read-write access`] : []),
              ...(origin.nbdExport ? ['the NBD export'] : []),
            ].join(' and ');
            throw new InUse('volume', origin.name, `${by} (detach them first, or roll back with force)`);
          }
          return this.replaceWithSnapshot(origin, snap);
        }),
      (v) => ({ type: 'volume', id: v.id, name: v.name }),
      { snapshot: req.snapshot, force: !!req.force },
    );
  }

  /**
   * A share back to its snapshot: volume and metadata together, with the
   * filesystem closed in between (the NAS layer's half, which also keeps
   * handles to files made since the snapshot STALE for good).
   */
  private async rollbackShare(origin: VolumeEntity, snap: VolumeEntity, force: boolean): Promise<VolumeInfo> {
    const share = await this.shares.rowOfVolume(origin.id);
    if (!share || share.state !== 'online') throw new NotFound('share', origin.name);
    if (!this.shareHook) throw new Conflict('SHARE_NOT_SERVED', `share '${share.name}' cannot be rolled back: the NAS layer is not running`, { share: share.name });
    const info = await this.shares.get(share.id);
    if (info.restoringFrom || info.replica) {
      throw new Conflict('SHARE_NOT_SERVED', `share '${share.name}' is not served (a replica, or being restored): it cannot be rolled back`, { share: share.name });
    }
    if (this.runtime.disk(origin.id)?.mirror) throw new Conflict('MIRRORED', `volume '${origin.name}' has a mirror: remove the mirror before rolling it back`, { volume: origin.name });
    await this.shareHook.rollback({ id: share.id, name: share.name, volumeId: origin.id }, snap.id, { force }, async () => {
      await this.replaceWithSnapshot(origin, snap);
    });
    return this.volumeService.get(origin.id);
  }

  /**
   * A share replica's volume back to one of its cycle snapshots, at promote
   * (ReplicaService): no filesystem is open on it, which is why a share's
   * volume may be rolled back here and not through rollback().
   */
  rollbackUnservedShare(origin: VolumeEntity, snap: VolumeEntity): Promise<VolumeInfo> {
    return this.exclusive(() => this.replaceWithSnapshot(origin, snap));
  }

  /** The volume's map becomes the snapshot's, between two I/Os, under a hold. */
  private async replaceWithSnapshot(origin: VolumeEntity, snap: VolumeEntity): Promise<VolumeInfo> {
    // A mirror's other side would not follow the new map; a swapped volume's pages are on another pool than its snapshots'.
    if (this.runtime.disk(origin.id)?.mirror) {
      throw new Conflict('MIRRORED', `volume '${origin.name}' has a mirror: remove the mirror before rolling it back`, { volume: origin.name });
    }
    const disk = this.runtime.disks.get(origin.id)!;
    const snapDisk = this.runtime.disks.get(snap.id)!;
    const entries = snapDisk.mappings();
    if (disk.pool !== snapDisk.pool) {
      throw new Conflict('SNAPSHOT_POOL', `snapshot '${snap.name}' is on pool '${snapDisk.pool.name}' and volume '${origin.name}' now on '${disk.pool.name}' (mirror roles were swapped): clone the snapshot instead`, { volume: origin.name, snapshot: snap.name });
    }
    const release = await disk.hold();
    try {
      await disk.replaceMap(entries, async () => this.commit([], [], [{ volumeId: origin.id, entries }]));
    } finally {
      release();
    }
    const info = await this.volumeService.get(origin.id);
    this.events.emit('volume.updated', info);
    return info;
  }

  /** A new thin block volume whose map starts as the snapshot's: instant, and writable. */
  clone(actor: Actor, volumeKey: string, snapshotKey: string, req: { name: string }): Promise<VolumeInfo> {
    return this.audit.audited(
      actor,
      'snapshot.clone',
      { type: 'volume', name: String(req.name) },
      () =>
        this.exclusive(async () => {
          const name = validateName('volume', req.name);
          const origin = await this.origin(volumeKey);
          const snap = await this.snapshotRow(origin, snapshotKey);
          if (origin.role === 'share') return this.cloneShare(actor, origin, snap, name);
          if (await this.volumes.findOne({ where: { name } })) throw new NameTaken('volume', name);
          const source = this.runtime.disks.get(snap.id)!;
          const row = this.volumes.create({
            id: newId(),
            name,
            poolId: snap.poolId,
            size: snap.size,
            provisioning: 'thin',
            serial: randomBytes(8).toString('hex'),
            state: 'online',
            nbdExport: false,
            role: 'block',
            originId: null,
            familyId: source.family,
            scheduleId: null,
            createdAt: now(),
          });
          const map = source.mappings();
          this.commit([row], [map], []);
          this.runtime.attachVolume(row, map);
          const info = await this.volumeService.get(row.id);
          this.events.emit('volume.created', info);
          return info;
        }),
      (v) => ({ type: 'volume', id: v.id, name: v.name }),
      { volume: volumeKey, snapshot: snapshotKey },
    );
  }

  /**
   * A share's snapshot cloned: a new share `name` (same pool, size, sync and
   * export rules as the share) whose volume starts as the snapshot's map
   * (same family: pages shared until rewritten) and whose metadata database
   * is the snapshot's copy. It is served only once both are in place; a
   * failure part way deletes it again.
   */
  private async cloneShare(actor: Actor, origin: VolumeEntity, snap: VolumeEntity, name: string): Promise<VolumeInfo> {
    const share = await this.shares.rowOfVolume(origin.id);
    if (!share || share.state !== 'online') throw new NotFound('share', origin.name);
    if (!this.shareHook) throw new Conflict('SHARE_NOT_SERVED', `a snapshot of share '${share.name}' cannot be cloned: the NAS layer is not running`, { share: share.name });
    const source = this.runtime.disks.get(snap.id)!;
    const info = await this.shares.get(share.id);
    const rules = info.rules.map(({ clients, access, squash, anonUid, anonGid, requirePrivilegedPort, comment }) => ({ clients, access, squash, anonUid, anonGid, requirePrivilegedPort, comment }));
    const created = await this.shares.createRestoring(actor, { name, pool: snap.poolId, size: snap.size, sync: info.sync, rules }, `snapshot:${snap.id}`, { familyId: source.family });
    try {
      const volume = await this.volumes.findOneOrFail({ where: { id: created.volumeId } });
      await this.replaceWithSnapshot(volume, snap);
      await this.shareHook.cloneMetadata(share.id, snap.id, created.id);
      await this.shares.finishRestore(created.id);
      return await this.volumeService.get(volume.id);
    } catch (e) {
      await this.shares.remove(SYSTEM_ACTOR, created.id, { force: true }).catch(() => undefined);
      throw e;
    }
  }

  /** New volume rows with their maps, and whole-map replacements, in one synchronous transaction. */
  private commit(
    rows: VolumeEntity[],
    maps: PageMapEntry[][],
    replace: Array<{ volumeId: string; entries: PageMapEntry[] }>,
    shareSnapshots: Array<{ volumeId: string; shareId: string }> = [],
  ): void {
    const db = sqliteHandle(this.ds);
    const insertVolume = db.prepare(
      `INSERT INTO volumes (id, name, pool_id, size, provisioning, serial, state, nbd_export, role, origin_id, family_id, schedule_id, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)`,
    );
    const insertPage = db.prepare('INSERT INTO page_maps (volume_id, logical_page, pool_id, pool_page) VALUES (?, ?, ?, ?)');
    const clear = db.prepare('DELETE FROM page_maps WHERE volume_id = ?');
    const nextHandle = db.prepare('UPDATE shares SET last_snapshot_handle = last_snapshot_handle + 1 WHERE id = ? RETURNING last_snapshot_handle AS n');
    const insertShareSnapshot = db.prepare('INSERT INTO share_snapshots (volume_id, share_id, handle_id) VALUES (?, ?, ?)');
    const pools = new Map(rows.map((r) => [r.id, r.poolId]));
    db.transaction(() => {
      rows.forEach((r, i) => {
        insertVolume.run(r.id, r.name, r.poolId, r.size, r.provisioning, r.serial, r.state, r.role, r.originId, r.familyId, r.scheduleId, r.createdAt);
        for (const e of maps[i]) insertPage.run(r.id, e.logical, r.poolId, e.physical);
      });
      for (const { volumeId, shareId } of shareSnapshots) {
        const [{ n }] = nextHandle.all(shareId) as Array<{ n: number }>;
        // Handles carry it as a 32-bit number, and 0 and 0xffffffff mean the live share and /.snapshots itself.
        if (n >= 0xffffffff) throw new Conflict('SNAPSHOT_NUMBERS', `share ${shareId} has used up its snapshot numbers`, { share: shareId });
        insertShareSnapshot.run(volumeId, shareId, n);
      }
      for (const { volumeId, entries } of replace) {
        const poolId = pools.get(volumeId) ?? this.runtime.disks.get(volumeId)!.pool.id;
        clear.run(volumeId);
        for (const e of entries) insertPage.run(volumeId, e.logical, poolId, e.physical);
      }
    })();
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.serial.then(fn, fn);
    this.serial = run.catch(() => undefined);
    return run;
  }

  /**
   * The volume whose snapshots these are: an online block volume or a
   * share's volume. A key no volume has may name a share (`home` for
   * `share:home`).
   */
  async origin(key: string): Promise<VolumeEntity> {
    const { volume: row } = await findVolumeOrShare(this.volumes, this.ds.getRepository(ShareEntity), key);
    if (row.state !== 'online' || row.mirrorOf) throw new NotFound('volume', key);
    if (row.role === 'snapshot') {
      throw new InvalidArgument(`volume '${row.name}' is itself a snapshot: name the volume it was taken of`, 'volume');
    }
    return row;
  }

  private async shareName(volume: VolumeEntity): Promise<string> {
    return (await this.shares.rowOfVolume(volume.id))?.name ?? '?';
  }

  /** By id, by its own name, or by `<volume>@<name>`. */
  private async snapshotRow(origin: VolumeEntity, key: string): Promise<VolumeEntity> {
    const where = UUID_RE.test(key) ? { id: key } : { name: key.includes('@') ? key : `${origin.name}@${key}` };
    const row = await this.volumes.findOne({ where: { ...where, originId: origin.id, role: 'snapshot', state: 'online' } });
    if (!row) throw new NotFound('snapshot', `${origin.name}@${key}`);
    return row;
  }

  private async describe(origin: VolumeEntity, rows: VolumeEntity[]): Promise<SnapshotInfo[]> {
    if (rows.length === 0) return [];
    const pools = await this.ds.getRepository(PoolEntity).find({ where: { id: In([...new Set(rows.map((r) => r.poolId))]) } });
    const assignments = await this.assignments.list();
    const share = origin.role === 'share' ? await this.shares.rowOfVolume(origin.id) : null;
    const handles = new Map<string, number>();
    if (share) {
      const found = (await this.ds.query(`SELECT volume_id AS id, handle_id AS n FROM share_snapshots WHERE share_id = ?`, [share.id])) as Array<{ id: string; n: number }>;
      for (const h of found) handles.set(h.id, h.n);
    }
    return rows.map((row) => {
      const disk = this.runtime.disks.get(row.id);
      const pageSize = disk?.pageSize ?? 0;
      return {
        id: row.id,
        name: row.name.slice(row.name.indexOf('@') + 1),
        volumeName: row.name,
        originId: origin.id,
        originName: origin.name,
        ...(share ? { share: { id: share.id, name: share.name, handleId: handles.get(row.id) ?? 0 } } : {}),
        poolName: pools.find((p) => p.id === row.poolId)?.name ?? row.poolId,
        size: row.size,
        allocatedBytes: (disk?.allocatedPages ?? 0) * pageSize,
        uniqueBytes: (disk?.uniquePages ?? 0) * pageSize,
        scheduleId: row.scheduleId,
        assignments: assignments.filter((a) => a.volumeId === row.id),
        createdAt: row.createdAt,
      };
    });
  }
}
