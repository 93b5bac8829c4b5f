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
  /**
   * How many page maps point at each pool page (snapshots and clones share
   * pages). Kept in memory only: boot rebuilds it from the committed maps.
   * A page is used in the allocator while its count is above zero, and also
   * between allocate() and the commit of its first mapping.
   */
  private readonly refs: Uint32Array;

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
    this.refs = new Uint32Array(this.pageCount);
  }

  get freePages(): number {
    return this.allocator.free;
  }

  get usedPages(): number {
    return this.allocator.used;
  }

  /** Fresh pages, each with one reference (the map about to point at it). */
  allocate(count: number): number[] {
    if (count > this.allocator.free) {
      throw new NoSpace(`pool '${this.name}'`, this.allocator.free * this.pageSize, count * this.pageSize);
    }
    const pages = this.allocator.allocate(count);
    for (const p of pages) this.refs[p] = 1;
    return pages;
  }

  /** Back to the allocator: pages whose allocation failed, or that unshare() reported free. */
  release(pages: readonly number[]): void {
    this.allocator.release(pages);
    for (const p of pages) this.refs[p] = 0;
  }

  /** One more map points at each page (boot, snapshot, clone, rollback); marks it used on its first reference. */
  share(pages: Iterable<number>): void {
    for (const p of pages) {
      this.assertPage(p);
      if (this.refs[p]++ === 0 && !this.allocator.isUsed(p)) this.allocator.markUsed(p);
    }
  }

  /**
   * One map fewer points at each page. Returns the pages nobody references
   * any more: still used in the allocator, for the caller to discard and release.
   */
  unshare(pages: readonly number[]): number[] {
    for (const p of pages) {
      this.assertPage(p);
      if (this.refs[p] === 0) throw new Error(`pool '${this.name}': page ${p} is not referenced`);
    }
    const freed: number[] = [];
    for (const p of pages) if (--this.refs[p] === 0) freed.push(p);
    return freed;
  }

  refCount(page: number): number {
    this.assertPage(page);
    return this.refs[page];
  }

  /** True when another map also points at the page: a write must go elsewhere (redirect-on-write). */
  isShared(page: number): boolean {
    return this.refs[page] > 1;
  }

  private assertPage(page: number): void {
    if (!Number.isInteger(page) || page < 0 || page >= this.pageCount) {
      throw new RangeError(`pool '${this.name}': page ${page} is outside [0, ${this.pageCount})`);
    }
  }

  health(): LayoutHealth {
    return this.layout.health();
  }
}
