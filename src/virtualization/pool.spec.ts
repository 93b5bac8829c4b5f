import { describe, expect, it } from 'vitest';
import { InvalidArgument, NoSpace } from '../common/errors';
import { createLayout } from './layout';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MIN_PAGE_SIZE, Pool, validatePageSize } from './pool';
import { MemDevice } from './testing/mem-device';

const PS = MIN_PAGE_SIZE;

function pool(bytes: number): Pool {
  const device = new MemDevice('d', bytes);
  const layout = createLayout('concat', [{ deviceId: 'd', device, offset: 0, length: bytes }]);
  return new Pool({ id: 'p1', name: 'fast', pageSize: PS, layout });
}

describe('validatePageSize', () => {
  it('accepts powers of two from 64 KiB to 16 MiB', () => {
    for (const size of [MIN_PAGE_SIZE, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE]) expect(() => validatePageSize(size)).not.toThrow();
    for (const size of [MIN_PAGE_SIZE / 2, MAX_PAGE_SIZE * 2, 3 * MIN_PAGE_SIZE, 1.5, Number.NaN]) {
      expect(() => validatePageSize(size)).toThrow(InvalidArgument);
    }
  });
});

describe('Pool', () => {
  it('cuts the layout into whole pages', () => {
    const p = pool(10 * PS + PS / 2);
    expect(p.pageCount).toBe(10);
    expect([p.freePages, p.usedPages]).toEqual([10, 0]);
    expect(p.allocator.pageCount).toBe(10);
    expect(p.health().state).toBe('online');
  });

  it('allocates and releases pages', () => {
    const p = pool(10 * PS);
    const pages = p.allocate(4);
    expect(pages).toEqual([0, 1, 2, 3]);
    expect([p.freePages, p.usedPages]).toEqual([6, 4]);
    p.release(pages.slice(1));
    expect(p.freePages).toBe(9);
  });

  it('reports NoSpace with free and asked bytes', () => {
    const p = pool(10 * PS);
    p.allocate(7);
    let err: unknown;
    try {
      p.allocate(4);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NoSpace);
    expect(err).toMatchObject({ where: "pool 'fast'", freeBytes: 3 * PS, askedBytes: 4 * PS, code: 'NO_SPACE' });
    expect(p.freePages).toBe(3);
  });

  it('rejects a bad page size', () => {
    const device = new MemDevice('d', PS);
    const layout = createLayout('concat', [{ deviceId: 'd', device, offset: 0, length: PS }]);
    expect(() => new Pool({ id: 'p', name: 'p', pageSize: 4096, layout })).toThrow(InvalidArgument);
  });
});
