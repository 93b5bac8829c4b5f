import { describe, expect, it } from 'vitest';
import { InvalidArgument } from '../common/errors';
import { checkAllocations } from './check-allocations';
import { createLayout } from './layout';
import { LogicalDisk, type PageMapEntry } from './logical-disk';
import { Pool } from './pool';
import { FakePageMapStore } from './testing/fake-page-map-store';
import { MemDevice } from './testing/mem-device';

const PS = 64 * 1024;
const store = new FakePageMapStore();

function pool(pages: number): Pool {
  const device = new MemDevice('d', pages * PS);
  const layout = createLayout('concat', [{ deviceId: 'd', device, offset: 0, length: device.size }]);
  return new Pool({ id: 'p', name: 'p', pageSize: PS, layout });
}

function disk(p: Pool, id: string, map: PageMapEntry[] = []): LogicalDisk {
  return new LogicalDisk({ id, name: id, size: 4 * PS, provisioning: 'thin', pool: p, store, map });
}

describe('checkAllocations', () => {
  it('finds nothing after ordinary use', async () => {
    const p = pool(16);
    const a = disk(p, 'a');
    const b = disk(p, 'b');
    await a.write(0, Buffer.alloc(3 * PS, 1));
    await b.write(PS, Buffer.alloc(10, 2));
    await a.discard(PS, PS);
    expect(checkAllocations(p, [a, b])).toEqual({ leaked: [], doubleAllocated: [] });
  });

  it('finds a planted leak', () => {
    const p = pool(16);
    const a = disk(p, 'a', [{ logical: 0, physical: 3 }]);
    p.allocator.markUsed(7);
    expect(checkAllocations(p, [a])).toEqual({ leaked: [7], doubleAllocated: [] });
  });

  it('finds a pool page mapped by two volumes, or twice by one', () => {
    const p = pool(16);
    const a = disk(p, 'a', [{ logical: 0, physical: 5 }, { logical: 1, physical: 6 }]);
    const b = disk(p, 'b', [{ logical: 2, physical: 5 }]);
    const c = disk(p, 'c', [{ logical: 0, physical: 9 }, { logical: 3, physical: 9 }]);
    expect(p.usedPages).toBe(3);
    expect(checkAllocations(p, [a, b, c])).toEqual({ leaked: [], doubleAllocated: [5, 9] });
  });

  it('finds a mapped page the allocator considers free', () => {
    const p = pool(16);
    const a = disk(p, 'a', [{ logical: 0, physical: 2 }]);
    p.allocator.release([2]);
    expect(checkAllocations(p, [a])).toEqual({ leaked: [], doubleAllocated: [2] });
  });

  it('rejects a volume of another pool', () => {
    expect(() => checkAllocations(pool(4), [disk(pool(4), 'x')])).toThrow(InvalidArgument);
  });
});
