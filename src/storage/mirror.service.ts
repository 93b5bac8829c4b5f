import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Conflict, InvalidArgument, NoSpace, NotFound } from '../common/errors';
import { LogicalDisk } from '../virtualization/logical-disk';
import type { MirroredDisk } from '../virtualization/mirrored-disk';
import { sqliteHandle } from './catalog';
import type { VolumeInfo } from './domain';
import { MirrorEntity, PoolEntity, VolumeEntity } from './entities';
import { findByKey, now } from './lookup';
import { StorageRuntime } from './runtime';
import { VolumeService } from './volume.service';

/**
 * A volume's synchronous mirror in the catalog and the runtime: the hidden
 * member volume on another pool, the mirror row with its state, and the
 * dirty regions. Resyncs are jobs (src/services), not run here.
 */
@Injectable()
export class MirrorService {
  private readonly log = new Logger('MirrorService');

  constructor(
    private readonly ds: DataSource,
    private readonly runtime: StorageRuntime,
    private readonly volumes: VolumeService,
  ) {}

  /** The mirrored volume's data-path object, for a volume that has a mirror. */
  async mirrored(key: string): Promise<{ volume: VolumeInfo; disk: MirroredDisk }> {
    const volume = await this.volumes.get(key);
    const disk = this.runtime.disk(volume.id);
    if (!disk || !disk.mirror) throw new Conflict('NOT_MIRRORED', `volume '${volume.name}' has no mirror`, { volume: volume.name });
    return { volume, disk };
  }

  /** Every mirrored volume's id (the monitor's round). */
  mirroredIds(): string[] {
    return [...this.runtime.volumes.values()].filter((d) => d.mirror).map((d) => d.id);
  }

  /**
   * Give a block volume a mirror on another pool. It starts degraded with
   * every mapped region dirty: the caller runs the initial resync.
   */
  async add(key: string, poolKey: string): Promise<VolumeInfo> {
    const volume = await this.volumes.get(key);
    if (volume.role !== 'block') throw new Conflict('SHARE_VOLUME', `volume '${volume.name}' backs a share: only block volumes get mirrors`, { volume: volume.name });
    const disk = this.runtime.disk(volume.id)!;
    if (disk.mirror) throw new Conflict('MIRRORED', `volume '${volume.name}' already has a mirror`, { volume: volume.name });
    const poolRow = await findByKey(this.ds.getRepository(PoolEntity), 'pool', poolKey);
    if (poolRow.id === volume.poolId) throw new InvalidArgument(`the mirror must be on another pool than the volume's own ('${poolRow.name}')`, 'pool');
    const pool = this.runtime.pools.get(poolRow.id)!;
    if (pool.health().state === 'failed') throw new Conflict('POOL_FAILED', `pool '${poolRow.name}' has failed`, { pool: poolRow.name });
    // Thin: room for what is mapped now; thick: for all of it.
    const need = volume.provisioning === 'thick' ? Math.ceil(volume.size / pool.pageSize) : Math.ceil((disk.allocatedPages * disk.pageSize) / pool.pageSize);
    if (need > pool.freePages) throw new NoSpace(`pool '${poolRow.name}'`, pool.freePages * pool.pageSize, need * pool.pageSize);
    const regionSize = Math.max(disk.pageSize, pool.pageSize);
    const dirty = disk.mappedRegions(regionSize);
    const at = now();
    const member = await this.volumes.createMember(volume, poolRow.id, async (m, row) => {
      await m.insert(MirrorEntity, { volumeId: volume.id, memberId: row.id, state: 'degraded', reason: 'initial sync', regionSize, createdAt: at, updatedAt: at });
      // Whole regions, one statement: a large volume has many.
      const insert = sqliteHandle(this.ds).prepare('INSERT INTO mirror_dirty (volume_id, region) VALUES (?, ?)');
      for (const r of dirty) insert.run(volume.id, r);
    });
    disk.attach(this.runtime.disks.get(member.id)!, this.runtime.mirrorStore, { state: 'degraded', reason: 'initial sync', regionSize, dirty });
    this.log.log(`volume ${volume.name}: mirror added on pool ${poolRow.name} (${dirty.length} regions to copy)`);
    return this.volumes.get(volume.id);
  }

  /** Drop the mirror and free its member's pages; no resync may be running. */
  async remove(key: string): Promise<VolumeInfo> {
    const { volume, disk } = await this.mirrored(key);
    if (disk.state === 'syncing') throw new Conflict('RESYNC_RUNNING', `volume '${volume.name}' is resyncing: cancel its job first`, { volume: volume.name });
    const row = await this.mirrorRow(volume.id);
    const release = await disk.quiesce();
    try {
      disk.detach();
    } finally {
      release();
    }
    await this.runtime.mirrorStore.idle();
    await this.volumes.destroyMember(row.memberId, async (m) => {
      await m.query('DELETE FROM mirror_dirty WHERE volume_id = ?', [volume.id]);
      await m.delete(MirrorEntity, volume.id);
    });
    this.log.log(`volume ${volume.name}: mirror removed`);
    return this.volumes.get(volume.id);
  }

  /**
   * Make the mirror the primary: the volume's row and the member's row
   * exchange page maps and pools in one transaction, so the volume keeps its
   * name, serial and assignments. An in-sync mirror takes over as is; a
   * degraded one only with `force` (the primary's storage is lost): its
   * dirty regions then hold older bytes, and stay dirty for the resync back.
   */
  async swap(key: string, opts: { force?: boolean } = {}): Promise<VolumeInfo> {
    const { volume, disk } = await this.mirrored(key);
    if (disk.state === 'syncing') throw new Conflict('RESYNC_RUNNING', `volume '${volume.name}' is resyncing: cancel its job first`, { volume: volume.name });
    if (disk.state !== 'in-sync' && !opts.force) {
      throw new Conflict('MIRROR_NOT_IN_SYNC', `volume '${volume.name}': the mirror is ${disk.state} (${disk.dirtyCount} regions behind); only force makes it the primary, losing those regions' newer bytes`, { volume: volume.name });
    }
    const row = await this.mirrorRow(volume.id);
    // Snapshots and clones share the primary's pages on its pool: a swap would leave them on the other side.
    const shared = this.runtime.disks.get(volume.id)!;
    if (shared.uniquePages !== shared.allocatedPages) {
      throw new Conflict('HAS_SNAPSHOTS', `volume '${volume.name}' shares pages with snapshots or clones on pool '${shared.pool.name}': delete them before swapping its mirror`, { volume: volume.name });
    }
    const release = await disk.quiesce();
    try {
      await this.runtime.store.idle();
      const origin = this.runtime.disks.get(volume.id)!;
      const member = this.runtime.disks.get(row.memberId)!;
      const originMap = origin.mappings();
      const memberMap = member.mappings();
      const db = sqliteHandle(this.ds);
      const insert = db.prepare('INSERT INTO page_maps (volume_id, logical_page, pool_id, pool_page) VALUES (?, ?, ?, ?)');
      const setPool = db.prepare('UPDATE volumes SET pool_id = ? WHERE id = ?');
      db.transaction(() => {
        db.prepare('DELETE FROM page_maps WHERE volume_id IN (?, ?)').run(volume.id, row.memberId);
        for (const e of memberMap) insert.run(volume.id, e.logical, member.pool.id, e.physical);
        for (const e of originMap) insert.run(row.memberId, e.logical, origin.pool.id, e.physical);
        setPool.run(member.pool.id, volume.id);
        setPool.run(origin.pool.id, row.memberId);
      })();
      const build = (from: LogicalDisk, like: LogicalDisk, map: typeof originMap) =>
        new LogicalDisk({ id: like.id, name: like.name, size: like.size, provisioning: like.provisioning, pool: from.pool, store: this.runtime.store, map, family: like.family });
      const primary = build(member, origin, memberMap);
      const secondary = build(origin, member, originMap);
      // The new disks took a reference on every page they map; the old disks' references go.
      member.pool.unshare(memberMap.map((e) => e.physical));
      origin.pool.unshare(originMap.map((e) => e.physical));
      this.runtime.disks.set(volume.id, primary);
      this.runtime.disks.set(row.memberId, secondary);
      disk.replaceDisks(primary, secondary);
    } finally {
      release();
    }
    this.log.log(`volume ${volume.name}: mirror roles swapped${disk.state === 'in-sync' ? '' : ` while ${disk.state} (forced)`}`);
    return this.volumes.get(volume.id);
  }

  private async mirrorRow(volumeId: string): Promise<MirrorEntity> {
    const row = await this.ds.getRepository(MirrorEntity).findOne({ where: { volumeId } });
    if (!row) throw new NotFound('mirror', volumeId);
    return row;
  }

  /** The member's volume row (for its pool name in messages). */
  async memberOf(volumeId: string): Promise<VolumeEntity | null> {
    return this.ds.getRepository(VolumeEntity).findOne({ where: { mirrorOf: volumeId } });
  }
}
