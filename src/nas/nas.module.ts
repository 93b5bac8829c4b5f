import { Module } from '@nestjs/common';
import { ExportsModule } from './exports/exports.module';
import { NasService } from './nas.service';

/** The NAS front end: NFSv3, MOUNT v3 and the portmapper over the shares' filesystems. */
@Module({
  imports: [ExportsModule],
  providers: [NasService],
  exports: [NasService],
})
export class NasModule {}
