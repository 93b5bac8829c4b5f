import { InvalidArgument, NoSpace } from '../common/errors';
import type { Layout, LayoutHealth } from './layout';
import { MAX_PAGE_COUNT, PageAllocator } from './page-allocator';

export const MIN_PAGE_SIZE = 64 * 1024;
export const MAX_PAGE_SIZE = 16 * 1024 * 1024;
export const DEFAULT_PAGE_SIZE = 1024 * 1024;

export function validatePageSize(pageSize: number): void {
  if (
    Number.isSafeInteger(pageSize) &&
    pageSize >= MIN_PAGE_SIZE &&
    pageSize <= MAX_PAGE_SIZE &&
    (pageSize & (pageSize - 1)) === 0
  ) {
    return;
  }
  throw new InvalidArgument(
    `page size must be a power of two between ${MIN_PAGE_SIZE} and ${MAX_PAGE_SIZE} bytes, got ${pageSize}`,
    'pageSize',
  );
}

/** A layout's address space cut into fixed pages, handed out to logical disks. */
export class Pool {
  readonly id: string;
  /** Renamed by the storage manager; used in error messages. */
  name: string;
  readonly pageSize: number;
  readonly layout: Layout;
  readonly pageCount: number;
  readonly allocator: PageAllocator;

  constructor(opts: { id: string; name: string; pageSize: number; layout: Layout }) {
    validatePageSize(opts.pageSize);
    this.id = opts.id;
    this.name = opts.name;
    this.pageSize = opts.pageSize;
    this.layout = opts.layout;
    this.pageCount = Math.floor(opts.layout.size / opts.pageSize);
    if (this.pageCount > MAX_PAGE_COUNT) {
      throw new InvalidArgument(
        `pool '${opts.name}' would have ${this.pageCount} pages, more than ${MAX_PAGE_COUNT}: use a larger page size`,
        'pageSize',
      );
    }
    this.allocator = new PageAllocator(this.pageCount);
  }

  get freePages(): number {
    return this.allocator.free;
  }

  get usedPages(): number {
    return this.allocator.used;
  }

  allocate(count: number): number[] {
    if (count > this.allocator.free) {
      throw new NoSpace(`pool '${this.name}'`, this.allocator.free * this.pageSize, count * this.pageSize);
    }
    return this.allocator.allocate(count);
  }

  release(pages: readonly number[]): void {
    this.allocator.release(pages);
  }

  health(): LayoutHealth {
    return this.layout.health();
  }
}
