import { Module } from '@nestjs/common';
import { NbdExportService } from './nbd-export.service';

/** The gateway's NBD export of volumes, on loopback. */
@Module({
  providers: [NbdExportService],
  exports: [NbdExportService],
})
export class NbdModule {}
