import { Module } from '@nestjs/common';
import { MirrorSyncService } from './mirror-sync.service';
import { ReplicationService } from './replication.service';

/** Storage services over the virtualization layer: mirrors and replication; backup joins here. */
@Module({
  providers: [MirrorSyncService, ReplicationService],
  exports: [MirrorSyncService, ReplicationService],
})
export class ServicesModule {}
