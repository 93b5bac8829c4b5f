import { Module } from '@nestjs/common';
import { MirrorSyncService } from './mirror-sync.service';

/** Storage services over the virtualization layer: mirrors now; snapshots, replication and backup join here. */
@Module({
  providers: [MirrorSyncService],
  exports: [MirrorSyncService],
})
export class ServicesModule {}
