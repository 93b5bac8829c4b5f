import { Module } from '@nestjs/common';
import { SanCollector } from './san.collector';
import { SanService } from './san.service';

/**
 * The SAN block target (SBP over UDP). Uses the storage manager's exported
 * services (StorageModule is global); exports SanService for its address and
 * counters.
 */
@Module({
  providers: [SanService, SanCollector],
  exports: [SanService],
})
export class SanModule {}
