import { Inject, Injectable } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { DataSource, In, Repository } from 'typeorm';
import { Conflict, InUse, InvalidArgument, NameTaken } from '../common/errors';
import type { DeviceKind } from '../devices/block-device';
import { STRATA_CONFIG, type StrataConfig } from '../config/config';
import { AuditService } from './audit.service';
import type { Actor, DeviceInfo, DeviceState, ExtentInfo } from './domain';
import { DeviceEntity, ExtentEntity, PoolEntity } from './entities';
import { findByKey, newId, now, validateName } from './lookup';
import { StorageRuntime } from './runtime';

export interface CreateDevice {
  name: string;
  kind: DeviceKind;
  /** file: defaults to <dataDir>/devices/<name>.img; block: required. */
  path?: string;
  /** file: creates a sparse file of this size when missing; ram: required. */
  size?: number;
}

@Injectable()
export class DeviceService {
  private readonly devices: Repository<DeviceEntity>;

  constructor(
    private readonly ds: DataSource,
    private readonly runtime: StorageRuntime,
    private readonly audit: AuditService,
    @Inject(STRATA_CONFIG) private readonly config: StrataConfig,
  ) {
    this.devices = ds.getRepository(DeviceEntity);
  }

  async list(): Promise<DeviceInfo[]> {
    const rows = await this.devices.find({ order: { createdAt: 'ASC' } });
    return this.describe(rows);
  }

  async get(key: string): Promise<DeviceInfo> {
    return (await this.describe([await findByKey(this.devices, 'device', key)]))[0];
  }

  create(actor: Actor, req: CreateDevice): Promise<DeviceInfo> {
    return this.audit.audited(
      actor,
      'device.create',
      { type: 'device', name: req.name },
      () => this.doCreate(req),
      (d) => ({ type: 'device', id: d.id, name: d.name }),
      { kind: req.kind, path: req.path, size: req.size },
    );
  }

  private async doCreate(req: CreateDevice): Promise<DeviceInfo> {
    const name = validateName('device', req.name);
    if (!['file', 'block', 'ram'].includes(req.kind)) {
      throw new InvalidArgument(`kind must be file, block or ram, not '${req.kind}'`, 'kind');
    }
    if (await this.devices.findOne({ where: { name } })) throw new NameTaken('device', name);
    let path: string | null = null;
    if (req.kind === 'file') {
      path = req.path ? (isAbsolute(req.path) ? req.path : resolve(req.path)) : join(this.config.dataDir, 'devices', `${name}.img`);
    } else if (req.kind === 'block') {
      if (!req.path) throw new InvalidArgument('a block device needs a path, e.g. /dev/sdb', 'path');
      if (req.size !== undefined) throw new InvalidArgument('the size of a block device is its own; do not give one', 'size');
      path = req.path;
    } else if (!req.size) {
      throw new InvalidArgument('a ram device needs a size', 'size');
    }
    if (path) {
      const other = await this.devices.findOne({ where: { path } });
      if (other) throw new Conflict('DEVICE_PATH_TAKEN', `${path} is already device '${other.name}'`, { path, device: other.name });
    }
    if (req.size !== undefined && (req.size <= 0 || req.size % 4096 !== 0)) {
      throw new InvalidArgument('size must be a positive multiple of 4096 bytes', 'size');
    }
    const created = req.kind === 'file' && !existsSync(path!);
    const row = this.devices.create({ id: newId(), name, kind: req.kind, path, size: 0, sectorSize: 512, createdAt: now() });
    // Open first: the device tells its real size and sector size.
    const entry = await this.runtime.openNew(row, req.size);
    row.size = entry.size;
    row.sectorSize = entry.sectorSize;
    try {
      await this.devices.insert(row);
    } catch (e) {
      await this.runtime.detachDevice(row.id);
      if (created) await unlink(path!).catch(() => undefined);
      throw e;
    }
    return this.get(row.id);
  }

  update(actor: Actor, key: string, changes: { name?: string }): Promise<DeviceInfo> {
    return this.audit.audited(actor, 'device.update', { type: 'device', name: key }, async () => {
      const row = await findByKey(this.devices, 'device', key);
      if (changes.name !== undefined && changes.name !== row.name) {
        const name = validateName('device', changes.name);
        if (await this.devices.findOne({ where: { name } })) throw new NameTaken('device', name);
        await this.devices.update(row.id, { name });
        const live = this.runtime.devices.get(row.id);
        if (live) live.name = name;
      }
      return this.get(row.id);
    }, (d) => ({ type: 'device', id: d.id, name: d.name }), changes);
  }

  /** Remove an unused device. Its file stays unless `purge` (data is never deleted by surprise). */
  remove(actor: Actor, key: string, opts: { purge?: boolean } = {}): Promise<void> {
    return this.audit.audited(actor, 'device.delete', { type: 'device', name: key }, async () => {
      const row = await findByKey(this.devices, 'device', key);
      const extents = await this.ds.getRepository(ExtentEntity).find({ where: { deviceId: row.id } });
      if (extents.length > 0) {
        const pools = await this.ds.getRepository(PoolEntity).findBy({ id: In([...new Set(extents.map((e) => e.poolId))]) });
        throw new InUse('device', row.name, `pool(s) ${pools.map((p) => p.name).join(', ')}`);
      }
      await this.devices.delete(row.id);
      await this.runtime.detachDevice(row.id);
      if (opts.purge && row.kind === 'file' && row.path) await unlink(row.path).catch(() => undefined);
    }, undefined, { purge: !!opts.purge });
  }

  async describe(rows: DeviceEntity[]): Promise<DeviceInfo[]> {
    const extents = await this.ds.getRepository(ExtentEntity).find({ order: { position: 'ASC' } });
    const members = await this.runtime.extentInfos(extents);
    return rows.map((row) => {
      const mine = members.filter((m) => m.deviceId === row.id);
      const open = this.runtime.devices.get(row.id);
      let state: DeviceState = 'online';
      let stateReason: string | undefined;
      if (!open || open.missingReason) {
        state = 'missing';
        stateReason = open?.missingReason ?? 'not open';
      } else if (mine.some((m) => m.state === 'failed')) {
        state = 'failed';
        stateReason = mine.find((m) => m.state === 'failed')?.lastError ?? 'I/O errors';
      }
      return {
        id: row.id,
        name: row.name,
        kind: row.kind,
        path: row.path,
        size: row.size,
        sectorSize: row.sectorSize,
        freeBytes: row.size - mine.reduce((n, m) => n + m.length, 0),
        state,
        ...(stateReason ? { stateReason } : {}),
        extents: mine,
        createdAt: row.createdAt,
      } satisfies DeviceInfo;
    });
  }
}

export type { ExtentInfo };
