import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ListenerRegistry } from '../common/listeners';
import type { BlockDevice } from '../devices/block-device';
import { MissingDevice } from '../devices/missing-device';
import { openDevice, type DeviceSpec } from '../devices/open-device';
import { createLayout, type Extent } from '../virtualization/layout';
import { LogicalDisk, type PageMapEntry } from '../virtualization/logical-disk';
import { MirroredDisk } from '../virtualization/mirrored-disk';
import { Pool } from '../virtualization/pool';
import { checkAllocations } from '../virtualization/logical-disk';
import { sqliteHandle } from './catalog';
import { DeviceEntity, ExtentEntity, MirrorEntity, PoolEntity, VolumeEntity } from './entities';
import { GroupCommitMirrorStore } from './mirror-store';
import { GroupCommitPageMapStore } from './page-map-store';
import type { ExtentInfo } from './domain';

export interface OpenDevice {
  device: BlockDevice;
  /** The catalog name, kept in step by renames: readiness reasons and metrics labels use it. */
  name: string;
  /** Set when the device could not be opened at boot. */
  missingReason?: string;
}

export interface ConsistencyReport {
  pools: Array<{ poolId: string; pool: string; leaked: number[]; doubleAllocated: number[] }>;
  ok: boolean;
}

/** How to open a catalogued device; `size` (when adding one) creates a missing file or sizes a ramdisk. */
export function deviceSpec(row: Pick<DeviceEntity, 'kind' | 'path' | 'name' | 'size'>, size?: number): DeviceSpec {
  if (row.kind === 'ram') return { kind: 'ram', name: row.name, size: size ?? row.size };
  if (row.kind === 'file' && size !== undefined) return { kind: 'file', path: row.path as string, size };
  return { kind: row.kind, path: row.path as string };
}

/**
 * The live objects behind the catalog: open devices, pools with their
 * layouts and allocators, and logical disks with their page maps in memory.
 * Built once at boot from the catalog; afterwards the services keep it in
 * step as they change the catalog. The data path only ever talks to these.
 */
export class StorageRuntime {
  readonly devices = new Map<string, OpenDevice>();
  readonly pools = new Map<string, Pool>();
  /** Every volume's logical disk, mirror members included: the control path's view. */
  readonly disks = new Map<string, LogicalDisk>();
  /** The data path's view: one stable object per (visible) volume, mirrored or not. */
  readonly volumes = new Map<string, MirroredDisk>();
  readonly store: GroupCommitPageMapStore;
  readonly mirrorStore: GroupCommitMirrorStore;
  private readonly log = new Logger('StorageRuntime');

  constructor(
    private readonly ds: DataSource,
    private readonly listeners: ListenerRegistry,
  ) {
    // A catalog in a file gets its page-map commits on a connection in a worker thread (the WAL fsync off the event loop).
    const file = ds.options.database;
    this.store = new GroupCommitPageMapStore(sqliteHandle(ds), typeof file === 'string' && file !== ':memory:' && file !== '' ? file : undefined);
    this.mirrorStore = new GroupCommitMirrorStore(sqliteHandle(ds));
  }

  async boot(): Promise<void> {
    for (const row of await this.ds.getRepository(DeviceEntity).find()) {
      await this.attachDevice(row);
    }
    const extents = await this.ds.getRepository(ExtentEntity).find({ order: { position: 'ASC' } });
    for (const row of await this.ds.getRepository(PoolEntity).find()) {
      this.attachPool(row, extents.filter((e) => e.poolId === row.id));
    }
    const maps = new Map<string, PageMapEntry[]>();
    const rows = sqliteHandle(this.ds)
      .prepare('SELECT volume_id AS v, logical_page AS l, pool_page AS p FROM page_maps')
      .all() as Array<{ v: string; l: number; p: number }>;
    for (const r of rows) {
      let list = maps.get(r.v);
      if (!list) maps.set(r.v, (list = []));
      list.push({ logical: r.l, physical: r.p });
    }
    for (const row of await this.ds.getRepository(VolumeEntity).find()) {
      this.attachVolume(row, maps.get(row.id) ?? []);
    }
    await this.attachMirrors();
    const report = this.checkConsistency();
    for (const p of report.pools) {
      if (p.leaked.length || p.doubleAllocated.length) {
        this.log.error(`pool ${p.pool}: ${p.leaked.length} leaked and ${p.doubleAllocated.length} doubly mapped pages`);
      }
    }
  }

  /** Open a device row; a device that cannot be opened is kept as missing. */
  async attachDevice(row: DeviceEntity): Promise<OpenDevice> {
    let entry: OpenDevice;
    try {
      entry = { device: await openDevice(deviceSpec(row)), name: row.name };
      if (row.kind === 'ram') this.log.warn(`device ${row.name} is a ramdisk: its contents start empty at every start`);
    } catch (e) {
      const reason = (e as Error).message;
      this.log.error(`device ${row.name} (${row.path ?? row.kind}) is missing: ${reason}`);
      entry = { device: new MissingDevice(row.kind, row.path ?? `ram:${row.name}`, row.size, reason), name: row.name, missingReason: reason };
    }
    this.devices.set(row.id, entry);
    return entry;
  }

  /** Open (or create) a device being added; it is kept only if the caller keeps it. */
  async openNew(row: DeviceEntity, size?: number): Promise<BlockDevice> {
    const device = await openDevice(deviceSpec(row, size));
    this.devices.set(row.id, { device, name: row.name });
    return device;
  }

  async detachDevice(id: string): Promise<void> {
    const entry = this.devices.get(id);
    this.devices.delete(id);
    await entry?.device.close();
  }

  /** Extents as members of their pools, with the layout's view of their health. */
  async extentInfos(extents: ExtentEntity[]): Promise<ExtentInfo[]> {
    const names = new Map<string, string>();
    for (const r of await this.ds.getRepository(DeviceEntity).find({ select: { id: true, name: true } })) names.set(r.id, r.name);
    for (const r of await this.ds.getRepository(PoolEntity).find({ select: { id: true, name: true } })) names.set(r.id, r.name);
    return extents.map((e) => {
      const member = this.pools.get(e.poolId)?.health().members[e.position];
      return {
        id: e.id,
        deviceId: e.deviceId,
        deviceName: names.get(e.deviceId) ?? e.deviceId,
        poolId: e.poolId,
        poolName: names.get(e.poolId) ?? e.poolId,
        position: e.position,
        offset: e.offset,
        length: e.length,
        state: member?.state ?? 'failed',
        errors: member?.errors ?? 0,
        ...(member?.lastError || e.stateReason ? { lastError: member?.lastError ?? e.stateReason ?? undefined } : {}),
      };
    });
  }

  attachPool(row: PoolEntity, extents: ExtentEntity[]): Pool {
    const members: Extent[] = extents.map((e) => ({
      deviceId: e.deviceId,
      device: this.devices.get(e.deviceId)!.device,
      offset: e.offset,
      length: e.length,
    }));
    // Recorded synchronously (better-sqlite3, synchronous=FULL) before the I/O
    // that found the failure completes, so no write is acknowledged while the
    // catalog could still bring the stale copy back at the next start.
    const markFailed = sqliteHandle(this.ds).prepare(
      "UPDATE extents SET state = 'failed', state_reason = ?, failed_at = ? WHERE id = ? AND state = 'online'",
    );
    const onMemberFailed = (index: number, reason: string) => {
      this.log.error(`pool ${row.name}: member ${index} (extent ${extents[index].id}) taken out of service: ${reason}`);
      markFailed.run(reason, new Date().toISOString(), extents[index].id);
    };
    const layout = createLayout(row.layout, members, { stripeUnit: row.stripeUnit, label: row.name, onMemberFailed });
    const redundant = row.layout === 'raid1' || row.layout === 'raid10';
    extents.forEach((e, i) => {
      const missing = this.devices.get(e.deviceId)?.missingReason;
      if (e.state === 'failed') layout.setMemberState(i, 'failed');
      else if (missing) {
        layout.setMemberState(i, 'failed');
        // A mirror keeps serving without it, so its copy goes stale from now on.
        if (redundant) onMemberFailed(i, `device missing at start: ${missing}`);
      }
    });
    const pool = new Pool({ id: row.id, name: row.name, pageSize: row.pageSize, layout });
    this.pools.set(row.id, pool);
    return pool;
  }

  attachVolume(row: VolumeEntity, map: Iterable<PageMapEntry>): LogicalDisk {
    const pool = this.pools.get(row.poolId)!;
    const disk = new LogicalDisk({
      id: row.id,
      name: row.name,
      size: row.size,
      provisioning: row.provisioning,
      pool,
      store: this.store,
      map,
      family: row.familyId ?? row.id,
      readOnly: row.role === 'snapshot',
    });
    // The disk marks its pages used in the pool's allocator; boot's consistency check reports any page mapped twice.
    this.disks.set(row.id, disk);
    if (!row.mirrorOf) this.volumes.set(row.id, new MirroredDisk(disk));
    return disk;
  }

  /**
   * Boot: join each mirrored volume with its member and the dirty set the
   * catalog kept. Regions left in a write-intent log had mirrored writes in
   * flight when the gateway stopped without a clean shutdown: they join the
   * dirty set (in one transaction) and the mirror comes up degraded, so the
   * monitor resyncs them.
   */
  private async attachMirrors(): Promise<void> {
    const db = sqliteHandle(this.ds);
    const mirrors = await this.ds.getRepository(MirrorEntity).find();
    const intents = regionsByVolume(db.prepare('SELECT volume_id AS v, region AS r FROM mirror_intent').all() as Array<{ v: string; r: number }>);
    if (intents.size > 0) {
      const at = new Date().toISOString();
      db.transaction(() => {
        db.prepare('INSERT OR IGNORE INTO mirror_dirty (volume_id, region) SELECT volume_id, region FROM mirror_intent').run();
        db.prepare('DELETE FROM mirror_intent').run();
        for (const m of mirrors) {
          const logged = intents.get(m.volumeId)?.length ?? 0;
          if (logged === 0 || m.state === 'degraded') continue;
          m.state = 'degraded';
          m.reason = `the gateway stopped with mirrored writes in flight: ${logged} region(s) may differ`;
          db.prepare('UPDATE mirrors SET state = ?, reason = ?, updated_at = ? WHERE volume_id = ?').run(m.state, m.reason, at, m.volumeId);
        }
      })();
    }
    const dirty = regionsByVolume(db.prepare('SELECT volume_id AS v, region AS r FROM mirror_dirty').all() as Array<{ v: string; r: number }>);
    for (const m of mirrors) {
      const face = this.volumes.get(m.volumeId);
      const member = this.disks.get(m.memberId);
      if (!face || !member) {
        this.log.error(`mirror of volume ${m.volumeId}: ${face ? 'member' : 'volume'} is missing`);
        continue;
      }
      face.attach(member, this.mirrorStore, { state: m.state, reason: m.reason, regionSize: m.regionSize, dirty: dirty.get(m.volumeId) ?? [] });
      if (face.state !== 'in-sync') this.log.warn(`volume ${face.name}: mirror ${face.state}: ${face.status()?.reason ?? 'no reason recorded'} (${face.status()?.dirtyRegions ?? 0} dirty regions)`);
    }
  }

  /** The volume as the data path uses it (reads, writes, unmaps, flushes reach its mirror too). */
  disk(volumeId: string): MirroredDisk | undefined {
    return this.volumes.get(volumeId);
  }

  /** Cross-check every pool's allocator against the page maps of its volumes. */
  checkConsistency(): ConsistencyReport {
    const pools = [...this.pools.values()].map((pool) => {
      const disks = [...this.disks.values()].filter((d) => d.pool === pool);
      return { poolId: pool.id, pool: pool.name, ...checkAllocations(pool, disks) };
    });
    return { pools, ok: pools.every((p) => p.leaked.length === 0 && p.doubleAllocated.length === 0) };
  }

  /**
   * Why the gateway cannot serve (empty when it can), and which pools run
   * degraded. A device that fails while running is noticed by the first I/O
   * that touches it; a failed pool names the devices it lost.
   */
  readiness(): { reasons: string[]; degradedPools: string[] } {
    const reasons: string[] = [];
    if (!this.ds.isInitialized) reasons.push('catalog is not open');
    reasons.push(...this.listeners.failures());
    for (const d of this.devices.values()) {
      if (d.missingReason) reasons.push(`device ${d.name} (${d.device.label}) is missing: ${d.missingReason}`);
    }
    const degradedPools: string[] = [];
    for (const pool of this.pools.values()) {
      const health = pool.health();
      if (health.state === 'failed') {
        const lost = health.members
          .filter((m) => m.state === 'failed')
          .map((m) => `device ${this.devices.get(m.deviceId)?.name ?? m.deviceId} failed (${m.lastError ?? 'missing'})`);
        reasons.push(`pool ${pool.name} has failed: ${lost.join('; ')}`);
      }
      if (health.state === 'degraded') degradedPools.push(pool.name);
    }
    return { reasons, degradedPools };
  }

  /** Flush every volume and close every device: graceful shutdown. */
  async shutdown(): Promise<void> {
    await this.store.idle();
    // A clean stop leaves the write-intent logs empty (regions with writes still in flight stay, and get resynced).
    await Promise.allSettled([...this.volumes.values()].map((v) => v.sweepIntents({ all: true })));
    await this.mirrorStore.idle();
    await Promise.allSettled([...this.pools.values()].map((p) => p.layout.flush()));
    await Promise.allSettled([...this.devices.values()].map((d) => d.device.close()));
    await this.store.close();
    this.devices.clear();
    this.pools.clear();
    this.disks.clear();
    this.volumes.clear();
  }
}

function regionsByVolume(rows: Array<{ v: string; r: number }>): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const { v, r } of rows) {
    let list = out.get(v);
    if (!list) out.set(v, (list = []));
    list.push(r);
  }
  return out;
}
