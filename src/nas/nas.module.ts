import { Module } from '@nestjs/common';
import { ExportsModule } from './exports/exports.module';
import { NasCollector } from './nas.collector';
import { NasService } from './nas.service';

/** The NAS front end: NFSv3, MOUNT v3 and the portmapper over the shares' filesystems. */
@Module({
  imports: [ExportsModule],
  providers: [NasService, NasCollector],
  exports: [NasService],
})
export class NasModule {}
