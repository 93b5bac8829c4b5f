import { Injectable } from '@nestjs/common';
import { DataSource, In, Repository } from 'typeorm';
import { InUse, InvalidArgument, NameTaken } from '../common/errors';
import { DEFAULT_STRIPE_UNIT, usableSize, validateLayout, type LayoutKind } from '../virtualization/layout';
import { DEFAULT_PAGE_SIZE, validatePageSize } from '../virtualization/pool';
import { AuditService } from './audit.service';
import type { Actor, PoolInfo } from './domain';
import { DeviceEntity, ExtentEntity, PoolEntity, ShareEntity, VolumeEntity } from './entities';
import { findByKey, newId, now, validateName } from './lookup';
import { StorageRuntime } from './runtime';

export interface PoolMemberRequest {
  device: string;
  /** Byte offset on the device; default: the start of its largest free region. */
  offset?: number;
  /** Default: the rest of that free region. */
  length?: number;
}

export interface CreatePool {
  name: string;
  layout: LayoutKind;
  pageSize?: number;
  stripeUnit?: number;
  members: PoolMemberRequest[];
}

/** Extents start on 1 MiB boundaries unless the admin places them. */
const EXTENT_ALIGN = 2 ** 20;
const SECTOR_ALIGN = 4096;

interface Gap {
  start: number;
  end: number;
}

function freeGaps(size: number, used: Array<{ offset: number; length: number }>): Gap[] {
  const gaps: Gap[] = [];
  let cursor = 0;
  for (const u of [...used].sort((a, b) => a.offset - b.offset)) {
    if (u.offset > cursor) gaps.push({ start: cursor, end: u.offset });
    cursor = Math.max(cursor, u.offset + u.length);
  }
  if (cursor < size) gaps.push({ start: cursor, end: size });
  return gaps;
}

@Injectable()
export class PoolService {
  private readonly pools: Repository<PoolEntity>;

  constructor(
    private readonly ds: DataSource,
    private readonly runtime: StorageRuntime,
    private readonly audit: AuditService,
  ) {
    this.pools = ds.getRepository(PoolEntity);
  }

  async list(): Promise<PoolInfo[]> {
    return this.describe(await this.pools.find({ order: { createdAt: 'ASC' } }));
  }

  async get(key: string): Promise<PoolInfo> {
    return (await this.describe([await findByKey(this.pools, 'pool', key)]))[0];
  }

  create(actor: Actor, req: CreatePool): Promise<PoolInfo> {
    return this.audit.audited(
      actor,
      'pool.create',
      { type: 'pool', name: req.name },
      () => this.doCreate(req),
      (p) => ({ type: 'pool', id: p.id, name: p.name }),
      { layout: req.layout, members: req.members, pageSize: req.pageSize },
    );
  }

  private async doCreate(req: CreatePool): Promise<PoolInfo> {
    const name = validateName('pool', req.name);
    if (!['concat', 'raid0', 'raid1', 'raid10'].includes(req.layout)) {
      throw new InvalidArgument(`layout must be concat, raid0, raid1 or raid10, not '${req.layout}'`, 'layout');
    }
    if (!Array.isArray(req.members) || req.members.length === 0) {
      throw new InvalidArgument('a pool needs at least one member device', 'members');
    }
    validateLayout(req.layout, req.members.length);
    const pageSize = req.pageSize ?? DEFAULT_PAGE_SIZE;
    validatePageSize(pageSize);
    const stripeUnit = req.stripeUnit ?? DEFAULT_STRIPE_UNIT;
    if (!Number.isInteger(stripeUnit) || stripeUnit < SECTOR_ALIGN || (stripeUnit & (stripeUnit - 1)) !== 0 || stripeUnit > pageSize) {
      throw new InvalidArgument('stripeUnit must be a power of two between 4 KiB and the page size', 'stripeUnit');
    }
    if (await this.pools.findOne({ where: { name } })) throw new NameTaken('pool', name);

    const devices = await Promise.all(req.members.map((m) => findByKey(this.ds.getRepository(DeviceEntity), 'device', m.device)));
    if (req.layout !== 'concat') {
      // Two members of a stripe or a mirror on one device would defeat the layout.
      const ids = devices.map((d) => d.id);
      if (new Set(ids).size !== ids.length) {
        throw new InvalidArgument(`a ${req.layout} pool needs each member on a different device`, 'members');
      }
    }
    for (const d of devices) {
      const missing = this.runtime.devices.get(d.id)?.missingReason;
      if (missing) throw new InvalidArgument(`device '${d.name}' is missing: ${missing}`, 'members');
    }

    const existing = await this.ds.getRepository(ExtentEntity).find();
    const placed: Array<{ deviceId: string; offset: number; length: number }> = [];
    req.members.forEach((m, i) => {
      const dev = devices[i];
      const used = [...existing, ...placed].filter((e) => e.deviceId === dev.id);
      const gaps = freeGaps(dev.size, used);
      let offset: number;
      let end: number;
      if (m.offset !== undefined) {
        if (!Number.isSafeInteger(m.offset) || m.offset < 0 || m.offset % SECTOR_ALIGN !== 0) {
          throw new InvalidArgument(`members[${i}].offset must be a multiple of 4096`, `members[${i}].offset`);
        }
        const gap = gaps.find((g) => m.offset! >= g.start && m.offset! < g.end);
        if (!gap) throw new InvalidArgument(`device '${dev.name}' has no free space at offset ${m.offset}`, `members[${i}].offset`);
        offset = m.offset;
        end = gap.end;
      } else {
        const aligned = gaps
          .map((g) => ({ start: Math.ceil(g.start / EXTENT_ALIGN) * EXTENT_ALIGN, end: g.end }))
          .filter((g) => g.end > g.start)
          .sort((a, b) => b.end - b.start - (a.end - a.start));
        if (aligned.length === 0) throw new InvalidArgument(`device '${dev.name}' has no free space left`, `members[${i}]`);
        offset = aligned[0].start;
        end = aligned[0].end;
      }
      let length = m.length ?? end - offset;
      if (m.length !== undefined) {
        if (!Number.isSafeInteger(length) || length <= 0 || length % SECTOR_ALIGN !== 0) {
          throw new InvalidArgument(`members[${i}].length must be a positive multiple of 4096`, `members[${i}].length`);
        }
        if (offset + length > end) {
          throw new InvalidArgument(
            `device '${dev.name}' has ${end - offset} free bytes at offset ${offset}, ${length} asked`,
            `members[${i}].length`,
          );
        }
      }
      length -= length % SECTOR_ALIGN;
      placed.push({ deviceId: dev.id, offset, length });
    });

    const capacity = usableSize(req.layout, placed.map((p) => p.length), stripeUnit);
    if (Math.floor(capacity / pageSize) < 1) {
      throw new InvalidArgument(`the members give ${capacity} usable bytes, less than one ${pageSize}-byte page`, 'members');
    }

    const row = this.pools.create({ id: newId(), name, layout: req.layout, pageSize, stripeUnit, createdAt: now() });
    const extents = placed.map((p, position) =>
      this.ds.getRepository(ExtentEntity).create({ id: newId(), poolId: row.id, position, ...p, createdAt: row.createdAt, state: 'online', stateReason: null, failedAt: null }),
    );
    await this.ds.transaction(async (m) => {
      await m.insert(PoolEntity, row);
      await m.insert(ExtentEntity, extents);
    });
    this.runtime.attachPool(row, extents);
    return this.get(row.id);
  }

  update(actor: Actor, key: string, changes: { name?: string }): Promise<PoolInfo> {
    return this.audit.audited(actor, 'pool.update', { type: 'pool', name: key }, async () => {
      const row = await findByKey(this.pools, 'pool', key);
      if (changes.name !== undefined && changes.name !== row.name) {
        const name = validateName('pool', changes.name);
        if (await this.pools.findOne({ where: { name } })) throw new NameTaken('pool', name);
        await this.pools.update(row.id, { name });
        const live = this.runtime.pools.get(row.id);
        if (live) live.name = name;
        
      }
      return this.get(row.id);
    }, (p) => ({ type: 'pool', id: p.id, name: p.name }), changes);
  }

  remove(actor: Actor, key: string): Promise<void> {
    return this.audit.audited(actor, 'pool.delete', { type: 'pool', name: key }, async () => {
      const row = await findByKey(this.pools, 'pool', key);
      const volumes = await this.ds.getRepository(VolumeEntity).find({ where: { poolId: row.id } });
      if (volumes.length > 0) {
        const shares = await this.ds.getRepository(ShareEntity).find({ where: { volumeId: In(volumes.map((v) => v.id)) } });
        const block = volumes.filter((v) => v.role !== 'share').map((v) => v.name);
        const users = [block.length ? `volume(s) ${block.join(', ')}` : '', shares.length ? `share(s) ${shares.map((sh) => sh.name).join(', ')}` : ''];
        throw new InUse('pool', row.name, users.filter(Boolean).join(' and ') || `volume(s) ${volumes.map((v) => v.name).join(', ')}`);
      }
      await this.ds.transaction(async (m) => {
        await m.delete(ExtentEntity, { poolId: row.id });
        await m.delete(PoolEntity, row.id);
      });
      this.runtime.pools.delete(row.id);
    });
  }

  /** Cross-check the pool's allocator against its volumes' page maps: leaked or doubly used pages. */
  async check(key: string): Promise<{ pool: string; ok: boolean; leaked: number[]; doubleAllocated: number[] }> {
    const row = await findByKey(this.pools, 'pool', key);
    const report = this.runtime.checkConsistency().pools.find((p) => p.poolId === row.id);
    const leaked = report?.leaked ?? [];
    const doubleAllocated = report?.doubleAllocated ?? [];
    return { pool: row.name, ok: leaked.length === 0 && doubleAllocated.length === 0, leaked, doubleAllocated };
  }

  private async describe(rows: PoolEntity[]): Promise<PoolInfo[]> {
    const extents = await this.ds.getRepository(ExtentEntity).find({ order: { position: 'ASC' } });
    const infos = await this.runtime.extentInfos(extents);
    const volumes = await this.ds.getRepository(VolumeEntity).find();
    return rows.map((row) => {
      const pool = this.runtime.pools.get(row.id);
      const mine = volumes.filter((v) => v.poolId === row.id);
      const capacity = pool ? pool.pageCount * row.pageSize : 0;
      const usedBytes = pool ? pool.usedPages * row.pageSize : 0;
      return {
        id: row.id,
        name: row.name,
        layout: row.layout,
        pageSize: row.pageSize,
        stripeUnit: row.stripeUnit,
        capacity,
        usedBytes,
        freeBytes: capacity - usedBytes,
        // Snapshots provision nothing: their pages are counted in usedBytes only.
        provisionedBytes: mine.filter((v) => v.role !== 'snapshot').reduce((n, v) => n + v.size, 0),
        volumeCount: mine.filter((v) => v.role === 'block').length,
        shareCount: mine.filter((v) => v.role === 'share').length,
        state: pool ? pool.health().state : 'failed',
        members: infos.filter((e) => e.poolId === row.id),
        createdAt: row.createdAt,
      };
    });
  }
}
