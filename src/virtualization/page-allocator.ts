/** Page numbers stay within int32: the bitmap math uses 32-bit operators and page maps are Int32Arrays. */
export const MAX_PAGE_COUNT = 0x7fffffff;

/**
 * Which pool pages are in use: one bit per page in 32-bit words, handing out
 * the lowest free pages first. Padding bits past pageCount stay set, so the
 * scan never has to check the bound.
 */
export class PageAllocator {
  private words: Uint32Array;
  private count: number;
  private inUse = 0;
  /** Every word below this index is full. */
  private hint = 0;

  constructor(pageCount: number) {
    assertCount(pageCount, 'page count');
    this.count = pageCount;
    this.words = new Uint32Array(Math.ceil(pageCount / 32));
    this.padTail();
  }

  get pageCount(): number {
    return this.count;
  }

  get used(): number {
    return this.inUse;
  }

  get free(): number {
    return this.count - this.inUse;
  }

  isUsed(page: number): boolean {
    this.assertPage(page);
    return this.test(page);
  }

  markUsed(page: number): void {
    this.assertPage(page);
    if (this.test(page)) throw new Error(`page ${page} is already in use`);
    this.words[page >>> 5] |= 1 << (page & 31);
    this.inUse++;
  }

  allocate(count: number): number[] {
    assertCount(count, 'allocation count');
    if (count > this.free) throw new Error(`cannot allocate ${count} pages: only ${this.free} free`);
    const pages: number[] = [];
    const words = this.words;
    let w = this.hint;
    while (pages.length < count) {
      let free = ~words[w];
      if (free === 0) {
        w++;
        continue;
      }
      while (free !== 0 && pages.length < count) {
        const bit = 31 - Math.clz32(free & -free);
        free &= free - 1;
        words[w] |= 1 << bit;
        pages.push(w * 32 + bit);
      }
    }
    this.hint = w;
    this.inUse += count;
    return pages;
  }

  /** All or nothing: a page that is not in use leaves the allocator unchanged. */
  release(pages: readonly number[]): void {
    for (let i = 0; i < pages.length; i++) {
      const page = pages[i];
      if (!Number.isInteger(page) || page < 0 || page >= this.count || !this.test(page)) {
        for (let j = 0; j < i; j++) this.words[pages[j] >>> 5] |= 1 << (pages[j] & 31);
        throw new Error(`page ${page} is not in use`);
      }
      this.words[page >>> 5] &= ~(1 << (page & 31));
      this.hint = Math.min(this.hint, page >>> 5);
    }
    this.inUse -= pages.length;
  }

  grow(pageCount: number): void {
    assertCount(pageCount, 'page count');
    if (pageCount < this.count) throw new Error(`cannot shrink from ${this.count} to ${pageCount} pages`);
    const words = new Uint32Array(Math.ceil(pageCount / 32));
    words.set(this.words);
    // The old padding bits become real pages: clear them.
    const tail = this.count >>> 5;
    if (this.count & 31) words[tail] &= (1 << (this.count & 31)) - 1;
    this.hint = Math.min(this.hint, tail);
    this.words = words;
    this.count = pageCount;
    this.padTail();
  }

  private padTail(): void {
    const bits = this.count & 31;
    if (bits) this.words[this.words.length - 1] |= ~((1 << bits) - 1);
  }

  private test(page: number): boolean {
    return (this.words[page >>> 5] & (1 << (page & 31))) !== 0;
  }

  private assertPage(page: number): void {
    if (!Number.isInteger(page) || page < 0 || page >= this.count) {
      throw new RangeError(`page ${page} is outside [0, ${this.count})`);
    }
  }
}

function assertCount(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_PAGE_COUNT) {
    throw new Error(`${what} must be an integer in [0, ${MAX_PAGE_COUNT}], got ${n}`);
  }
}
