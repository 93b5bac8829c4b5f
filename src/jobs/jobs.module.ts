import { Global, Module } from '@nestjs/common';
import { JobService } from './job.service';

/** Long operations as resumable jobs; modules register their kinds with JobService at init. */
@Global()
@Module({
  providers: [JobService],
  exports: [JobService],
})
export class JobsModule {}
