import { Module, OnModuleDestroy } from '@nestjs/common';
import { StorageEvents } from '../../storage/events';
import { ShareService } from '../../storage/share.service';
import { ExportTable } from './export-table';
import { ShareCollector } from './share.collector';

/**
 * The NAS layer's view of shares and export rules: one ExportTable, loaded
 * at start and fed by the storage manager's share events. The NFS and MOUNT
 * servers inject it; nothing on their data path asks the catalog.
 */
@Module({
  providers: [
    {
      provide: ExportTable,
      inject: [ShareService, StorageEvents],
      // Built before any listener serves, so no share event can fall between the load and attach().
      useFactory: async (shares: ShareService, events: StorageEvents) => {
        const table = new ExportTable(await shares.exports());
        table.attach(events);
        return table;
      },
    },
    ShareCollector,
  ],
  exports: [ExportTable],
})
export class ExportsModule implements OnModuleDestroy {
  constructor(
    private readonly table: ExportTable,
    private readonly events: StorageEvents,
  ) {}

  onModuleDestroy(): void {
    this.table.detach(this.events);
  }
}
