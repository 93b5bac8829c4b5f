import { Module } from '@nestjs/common';
import { BackupService } from './backup/backup.service';
import { MirrorSyncService } from './mirror-sync.service';

/** Storage services over the virtualization layer: mirrors and backups; replication joins here. */
@Module({
  providers: [MirrorSyncService, BackupService],
  exports: [MirrorSyncService, BackupService],
})
export class ServicesModule {}
