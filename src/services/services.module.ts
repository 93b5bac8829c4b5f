import { Module } from '@nestjs/common';
import { BackupService } from './backup/backup.service';
import { MirrorSyncService } from './mirror-sync.service';
import { ReplicationService } from './replication.service';

/** Storage services over the virtualization layer: mirrors, replication and backups. */
@Module({
  providers: [MirrorSyncService, ReplicationService, BackupService],
  exports: [MirrorSyncService, ReplicationService, BackupService],
})
export class ServicesModule {}
