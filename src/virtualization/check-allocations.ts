import { InvalidArgument } from '../common/errors';
import type { LogicalDisk } from './logical-disk';
import type { Pool } from './pool';

/**
 * Cross-check a pool's allocator against its volumes' page maps (run while
 * idle, e.g. at boot: a first write in flight holds a page no map shows yet).
 * leaked: used in the allocator but mapped by no volume, so lost capacity.
 * doubleAllocated: mapped by two volumes (or twice by one), or mapped but free
 * in the allocator, so it can be handed out again: data at risk.
 */
export function checkAllocations(
  pool: Pool,
  disks: LogicalDisk[],
): { leaked: number[]; doubleAllocated: number[] } {
  const refs = new Uint8Array(pool.pageCount);
  for (const disk of disks) {
    if (disk.pool !== pool) {
      throw new InvalidArgument(`volume '${disk.name}' is not in pool '${pool.name}'`, 'disks');
    }
    for (const { physical } of disk.mappings()) if (refs[physical] < 2) refs[physical]++;
  }
  const leaked: number[] = [];
  const doubleAllocated: number[] = [];
  for (let page = 0; page < pool.pageCount; page++) {
    const used = pool.allocator.isUsed(page);
    if (refs[page] === 0) {
      if (used) leaked.push(page);
    } else if (refs[page] > 1 || !used) {
      doubleAllocated.push(page);
    }
  }
  return { leaked, doubleAllocated };
}
