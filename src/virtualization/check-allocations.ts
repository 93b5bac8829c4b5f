import { InvalidArgument } from '../common/errors';
import type { LogicalDisk } from './logical-disk';
import type { Pool } from './pool';

/**
 * Cross-check a pool's allocator and reference counts against its volumes'
 * page maps (run while idle, e.g. at boot: a first write in flight holds a
 * page no map shows yet).
 * leaked: used in the allocator but mapped by no volume, or counted more
 * often than it is mapped (it would never be freed), so lost capacity.
 * doubleAllocated: mapped by two volumes that do not share by snapshot or
 * clone (different families), twice by one volume, mapped but free in the
 * allocator, or counted less often than it is mapped (it could be freed
 * while still mapped), so data at risk.
 */
export function checkAllocations(
  pool: Pool,
  disks: LogicalDisk[],
): { leaked: number[]; doubleAllocated: number[] } {
  const counts = new Uint32Array(pool.pageCount);
  /** The family of the first map seen per page; a second family on the same page is an error. */
  const family = new Map<number, string>();
  const conflict = new Set<number>();
  for (const disk of disks) {
    if (disk.pool !== pool) {
      throw new InvalidArgument(`volume '${disk.name}' is not in pool '${pool.name}'`, 'disks');
    }
    const seen = new Set<number>();
    for (const { physical } of disk.mappings()) {
      counts[physical]++;
      if (seen.has(physical)) conflict.add(physical);
      seen.add(physical);
      const owner = family.get(physical);
      if (owner === undefined) family.set(physical, disk.family);
      else if (owner !== disk.family) conflict.add(physical);
    }
  }
  const leaked: number[] = [];
  const doubleAllocated: number[] = [];
  for (let page = 0; page < pool.pageCount; page++) {
    const used = pool.allocator.isUsed(page);
    const refs = pool.refCount(page);
    if (counts[page] === 0) {
      if (used || refs > 0) leaked.push(page);
    } else if (conflict.has(page) || !used || refs < counts[page]) {
      doubleAllocated.push(page);
    } else if (refs > counts[page]) {
      leaked.push(page);
    }
  }
  return { leaked, doubleAllocated };
}
