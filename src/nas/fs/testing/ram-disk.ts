import { createLayout } from '../../../virtualization/layout';
import { LogicalDisk } from '../../../virtualization/logical-disk';
import { Pool } from '../../../virtualization/pool';
import { FakePageMapStore } from '../../../virtualization/testing/fake-page-map-store';
import { MemDevice } from '../../../virtualization/testing/mem-device';

/** A thin logical disk on a RAM device, as a share's data volume would be (pool pages of `pageSize`). */
export function ramDisk(size: number, pageSize = 64 * 1024): { disk: LogicalDisk; device: MemDevice; pool: Pool; pages: FakePageMapStore } {
  const device = new MemDevice('ram0', Math.ceil(size / pageSize) * pageSize);
  const layout = createLayout('concat', [{ deviceId: device.label, device, offset: 0, length: device.size }]);
  const pool = new Pool({ id: 'pool', name: 'pool', pageSize, layout });
  const pages = new FakePageMapStore();
  const disk = new LogicalDisk({ id: 'share', name: 'share', size, provisioning: 'thin', pool, store: pages });
  return { disk, device, pool, pages };
}

/** The same disk after a restart: a new LogicalDisk over the same pool with the committed page map. */
export function reopenRamDisk(env: ReturnType<typeof ramDisk>): LogicalDisk {
  return new LogicalDisk({ id: 'share', name: 'share', size: env.disk.size, provisioning: 'thin', pool: env.pool, store: env.pages, map: env.pages.entries('share') });
}
