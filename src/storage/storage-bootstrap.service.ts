import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { formatSize } from '../common/size';
import { STRATA_CONFIG, type StrataConfig } from '../config/config';
import { AuthService } from './auth.service';
import { sqliteHandle } from './catalog';
import { DeviceService } from './device.service';
import { SYSTEM_ACTOR } from './domain';
import { PoolService } from './pool.service';
import { StorageRuntime } from './runtime';
import { VolumeService } from './volume.service';

/**
 * First start and every start: finish what a crash interrupted, create the
 * embedded default (a sparse file device and a pool on it) once, make the
 * bootstrap admin; at shutdown flush and close every device, then the catalog.
 */
@Injectable()
export class StorageBootstrapService implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger('Storage');
  /** Set when this start generated the admin password, so main can print it once. */
  bootstrapAdmin: { username: string; generatedPassword?: string } | null = null;

  constructor(
    @Inject(STRATA_CONFIG) private readonly config: StrataConfig,
    private readonly ds: DataSource,
    private readonly runtime: StorageRuntime,
    private readonly devices: DeviceService,
    private readonly pools: PoolService,
    private readonly volumes: VolumeService,
    private readonly auth: AuthService,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.volumes.finishInterruptedDeletes();
    const db = sqliteHandle(this.ds);
    const done = db.prepare("SELECT value FROM settings WHERE key = 'bootstrapped'").all();
    if (done.length === 0) {
      const d = this.config.defaultPool;
      if (d.enabled && (await this.devices.list()).length === 0) {
        const path = join(this.config.dataDir, 'devices', `${d.name}.img`);
        this.log.log(`first start: creating device ${d.name} (${formatSize(d.deviceSize)} sparse file ${path}) and pool ${d.name}`);
        await this.devices.create(SYSTEM_ACTOR, { name: d.name, kind: 'file', path, size: d.deviceSize });
        await this.pools.create(SYSTEM_ACTOR, { name: d.name, layout: 'concat', pageSize: d.pageSize, members: [{ device: d.name }] });
      }
      db.prepare("INSERT INTO settings (key, value) VALUES ('bootstrapped', ?)").run(new Date().toISOString());
    }
    this.bootstrapAdmin = await this.auth.ensureBootstrapAdmin();
    for (const pool of this.runtime.pools.values()) {
      const h = pool.health();
      if (h.state !== 'online') this.log.warn(`pool ${pool.name} is ${h.state}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runtime.shutdown();
    if (this.ds.isInitialized) await this.ds.destroy();
    this.log.log('devices flushed and closed, catalog closed');
  }
}
