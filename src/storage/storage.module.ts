import { Global, Module } from '@nestjs/common';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { ListenerRegistry } from '../common/listeners';
import { STRATA_CONFIG, type StrataConfig } from '../config/config';
import { AssignmentService } from './assignment.service';
import { AuditService } from './audit.service';
import { AuthService } from './auth.service';
import { openCatalog } from './catalog';
import { DeviceService } from './device.service';
import { StorageEvents } from './events';
import { HostService } from './host.service';
import { JobStore } from './job-store';
import { MirrorService } from './mirror.service';
import { PoolService } from './pool.service';
import { ShareService } from './share.service';
import { SnapshotService } from './snapshot.service';
import { SnapshotKeepers } from './snapshot-keepers';
import { BackupCatalog } from './backup-catalog';
import { SnapshotScheduleService } from './snapshot-schedule.service';
import { ConsistencyGroupService } from './consistency-group.service';
import { ReplicaService } from './replica.service';
import { ReplicationStore } from './replication-store';
import { StorageRuntime } from './runtime';
import { StorageBootstrapService } from './storage-bootstrap.service';
import { VolumeService } from './volume.service';

/**
 * The storage manager: the catalog and everything it describes. The only
 * module that touches TypeORM; it exports services that speak domain objects.
 */
@Global()
@Module({
  providers: [
    {
      provide: DataSource,
      inject: [STRATA_CONFIG],
      useFactory: (config: StrataConfig) => {
        // The catalog holds password hashes and key material: owner only.
        mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
        return openCatalog(join(config.dataDir, 'catalog.sqlite'));
      },
    },
    ListenerRegistry,
    {
      provide: StorageRuntime,
      inject: [DataSource, ListenerRegistry],
      useFactory: async (ds: DataSource, listeners: ListenerRegistry) => {
        const runtime = new StorageRuntime(ds, listeners);
        await runtime.boot();
        return runtime;
      },
    },
    StorageEvents,
    AuditService,
    AuthService,
    DeviceService,
    PoolService,
    VolumeService,
    ShareService,
    SnapshotKeepers,
    SnapshotService,
    ConsistencyGroupService,
    SnapshotScheduleService,
    HostService,
    AssignmentService,
    StorageBootstrapService,
    JobStore,
    MirrorService,
    ReplicaService,
    ReplicationStore,
    BackupCatalog,
  ],
  exports: [ListenerRegistry, StorageRuntime, StorageEvents, AuditService, AuthService, DeviceService, PoolService, VolumeService, ShareService, SnapshotService, ConsistencyGroupService, SnapshotScheduleService, HostService, AssignmentService, StorageBootstrapService, JobStore, MirrorService, ReplicaService, ReplicationStore, SnapshotKeepers, BackupCatalog],
})
export class StorageModule {}
