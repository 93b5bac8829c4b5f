import { LogicalDisk } from '../logical-disk';
import type { Pool } from '../pool';
import type { FakePageMapStore } from './fake-page-map-store';

/** What the storage manager does for a snapshot: hold the origin, copy its map into a read-only disk of the same family, release. */
export async function snapshotOf(pool: Pool, store: FakePageMapStore, origin: LogicalDisk, id: string): Promise<LogicalDisk> {
  const release = await origin.hold();
  try {
    const map = origin.mappings();
    store.replace(id, map);
    return new LogicalDisk({ id, name: id, size: origin.size, provisioning: 'thin', pool, store, map, family: origin.family, readOnly: true });
  } finally {
    release();
  }
}
