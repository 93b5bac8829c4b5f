import { Module } from '@nestjs/common';
import { ListenerRegistry } from '../common/listeners';
import { NasModule } from '../nas/nas.module';
import { NasService } from '../nas/nas.service';
import { JobService } from '../jobs/job.service';
import { BackupService } from '../services/backup/backup.service';
import { MirrorSyncService } from '../services/mirror-sync.service';
import { ReplicationService } from '../services/replication.service';
import { ReplicaService } from '../storage/replica.service';
import { ServicesModule } from '../services/services.module';
import { AssignmentService } from '../storage/assignment.service';
import { AuditService } from '../storage/audit.service';
import { AuthService } from '../storage/auth.service';
import { DeviceService } from '../storage/device.service';
import { HostService } from '../storage/host.service';
import { PoolService } from '../storage/pool.service';
import { ShareService } from '../storage/share.service';
import { ConsistencyGroupService } from '../storage/consistency-group.service';
import { SnapshotScheduleService } from '../storage/snapshot-schedule.service';
import { SnapshotService } from '../storage/snapshot.service';
import { StorageRuntime } from '../storage/runtime';
import { VolumeService } from '../storage/volume.service';
import { SHELL_SERVICES, type ShellServices } from './commands/command';
import { ShellServer } from './ssh-server';

/** The SSH admin shell: its own listener over the storage manager's services. */
@Module({
  imports: [NasModule, ServicesModule],
  providers: [
    {
      provide: SHELL_SERVICES,
      inject: [DeviceService, PoolService, VolumeService, ShareService, SnapshotService, ConsistencyGroupService, SnapshotScheduleService, HostService, AssignmentService, AuditService, AuthService, StorageRuntime, ListenerRegistry, NasService, JobService, MirrorSyncService, ReplicationService, ReplicaService, BackupService],
      useFactory: (
        devices: DeviceService,
        pools: PoolService,
        volumes: VolumeService,
        shares: ShareService,
        snapshots: SnapshotService,
        groups: ConsistencyGroupService,
        schedules: SnapshotScheduleService,
        hosts: HostService,
        assignments: AssignmentService,
        audit: AuditService,
        auth: AuthService,
        runtime: StorageRuntime,
        listeners: ListenerRegistry,
        nas: NasService,
        jobs: JobService,
        mirrors: MirrorSyncService,
        replications: ReplicationService,
        replicas: ReplicaService,
        backups: BackupService,
      ): ShellServices => ({ devices, pools, volumes, shares, snapshots, groups, schedules, hosts, assignments, audit, auth, runtime, listeners, nas, jobs, mirrors, replications, replicas, backups }),
    },
    ShellServer,
  ],
  exports: [ShellServer],
})
export class ShellModule {}
