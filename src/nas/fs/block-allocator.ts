/** A run of consecutive blocks on the data store. */
export interface Run {
  start: number;
  count: number;
}

/** Where runs should start: at a block that is `phase` modulo `every` (the first block asked for). */
export interface RunAlignment {
  every: number;
  phase: number;
}

const FULL = 0xffffffff;

/**
 * Which data-store blocks are in use: one bit per block, rebuilt from the
 * extent table at open. Blocks a file gives up stay marked until the freeing
 * metadata has committed (the engine releases them afterwards), so a block is
 * never handed to a second file while the first may still own it on disk.
 */
export class BlockAllocator {
  readonly total: number;
  private readonly words: Uint32Array;
  private inUse = 0;
  /** Next-fit position: new files pack after the last allocation. */
  private rover = 0;

  constructor(total: number) {
    if (!Number.isSafeInteger(total) || total < 0) throw new RangeError(`block count ${total}`);
    this.total = total;
    this.words = new Uint32Array(Math.ceil(total / 32) + 1);
    // Padding bits past the end stay set, so scans never need a bound check inside a word.
    for (let b = total; b < this.words.length * 32; b++) this.words[b >>> 5] |= 1 << (b & 31);
  }

  get used(): number {
    return this.inUse;
  }

  get free(): number {
    return this.total - this.inUse;
  }

  isUsed(block: number): boolean {
    return (this.words[block >>> 5] & (1 << (block & 31))) !== 0;
  }

  /** Mark [start, start+count) used; returns how many of them were already used (0 unless something is owned twice). */
  markUsed(start: number, count: number): number {
    this.check(start, count);
    const already = this.countUsed(start, count);
    this.setRange(start, count, true);
    this.inUse += count - already;
    return already;
  }

  /** Mark [start, start+count) free. Every block must be in use: freeing a free block is a bookkeeping bug. */
  release(start: number, count: number): void {
    this.check(start, count);
    const used = this.countUsed(start, count);
    if (used !== count) throw new Error(`releasing blocks [${start}, ${start + count}): ${count - used} already free`);
    this.setRange(start, count, false);
    this.inUse -= count;
  }

  countUsed(start: number, count: number): number {
    let n = 0;
    let b = start;
    const end = start + count;
    while (b < end) {
      if ((b & 31) === 0 && b + 32 <= end) {
        const w = this.words[b >>> 5];
        n += w === FULL ? 32 : popcount(w);
        b += 32;
      } else {
        if (this.isUsed(b)) n++;
        b++;
      }
    }
    return n;
  }

  /**
   * Allocate `count` blocks as few runs as it can: first right at `goal` (so
   * a growing file stays contiguous), then a free run of at least `minRun`
   * blocks if there is one, then whatever is free after the next-fit rover.
   * The caller checks `free` first; asking for more throws.
   */
  allocate(count: number, goal = -1, minRun = 1, align?: RunAlignment): Run[] {
    if (count > this.free) throw new Error(`cannot allocate ${count} blocks: ${this.free} free`);
    const runs: Run[] = [];
    let remaining = count;
    if (goal >= 0 && goal < this.total && !this.isUsed(goal)) {
      remaining -= this.take(runs, goal, this.freeRunLength(goal, remaining));
    }
    const want = Math.min(remaining, minRun);
    while (remaining > 0 && want > 1) {
      // Aligned if asked (and possible), so whole pages of the file are whole pages of the store.
      const phase = align ? (align.phase + count - remaining) % align.every : 0;
      let start = align ? this.findAlignedRun(this.rover, want, align.every, phase) : -1;
      if (start < 0) start = this.findRun(this.rover, want);
      if (start < 0) break;
      remaining -= this.take(runs, start, this.freeRunLength(start, remaining));
    }
    let pos = this.rover;
    let wrapped = false;
    while (remaining > 0) {
      const start = this.findFree(pos);
      if (start < 0) {
        if (wrapped) throw new Error('allocator: free count and bitmap disagree');
        wrapped = true;
        pos = 0;
        continue;
      }
      const len = this.freeRunLength(start, remaining);
      remaining -= this.take(runs, start, len);
      pos = start + len;
    }
    return runs;
  }

  /** Length of the free run at `start`, at most `max`. */
  freeRunLength(start: number, max: number): number {
    let b = start;
    const end = Math.min(this.total, start + max);
    while (b < end) {
      if ((b & 31) === 0 && b + 32 <= end && this.words[b >>> 5] === 0) {
        b += 32;
        continue;
      }
      if (this.isUsed(b)) break;
      b++;
    }
    return b - start;
  }

  /** First free block at or after `from`, or -1. */
  findFree(from: number): number {
    if (from >= this.total) return -1;
    const words = this.words;
    let w = from >>> 5;
    let bits = ~words[w] & (FULL << (from & 31));
    while (bits === 0) {
      w++;
      if (w >= words.length) return -1;
      bits = ~words[w];
    }
    const block = w * 32 + (31 - Math.clz32(bits & -bits));
    return block < this.total ? block : -1;
  }

  /** Start of a free run of at least `len` blocks, searching from `from` and wrapping once; -1 if none. */
  findRun(from: number, len: number): number {
    for (const [lo, hi] of [
      [from, this.total],
      [0, Math.min(from + len, this.total)],
    ]) {
      let pos = lo;
      while (pos < hi) {
        const start = this.findFree(pos);
        if (start < 0 || start >= hi) break;
        const run = this.freeRunLength(start, len);
        if (run >= len) return start;
        pos = start + run + 1;
      }
    }
    return -1;
  }

  /** Like findRun, for a run whose start is `phase` modulo `every`. */
  findAlignedRun(from: number, len: number, every: number, phase: number): number {
    for (const [lo, hi] of [
      [from, this.total],
      [0, Math.min(from + len, this.total)],
    ]) {
      let pos = lo;
      while (pos < hi) {
        const free = this.findFree(pos);
        if (free < 0 || free >= hi) break;
        const start = free + ((((phase - free) % every) + every) % every);
        if (start >= hi || start + len > this.total) break;
        const run = this.freeRunLength(start, len);
        if (run >= len) return start;
        pos = start + run + 1;
      }
    }
    return -1;
  }

  /** The first block whose state differs from `other`'s, or -1 if both maps agree. */
  firstMismatch(other: BlockAllocator): number {
    if (other.total !== this.total) return Math.min(other.total, this.total);
    for (let w = 0; w < this.words.length; w++) {
      const diff = this.words[w] ^ other.words[w];
      if (diff !== 0) return w * 32 + (31 - Math.clz32(diff & -diff));
    }
    return -1;
  }

  private take(runs: Run[], start: number, count: number): number {
    if (count === 0) return 0;
    this.setRange(start, count, true);
    this.inUse += count;
    const last = runs[runs.length - 1];
    if (last && last.start + last.count === start) last.count += count;
    else runs.push({ start, count });
    this.rover = start + count >= this.total ? 0 : start + count;
    return count;
  }

  private setRange(start: number, count: number, on: boolean): void {
    const words = this.words;
    let b = start;
    const end = start + count;
    while (b < end) {
      const w = b >>> 5;
      const lo = b & 31;
      const hi = Math.min(32, lo + (end - b));
      const mask = hi - lo === 32 ? FULL : ((1 << (hi - lo)) - 1) << lo;
      if (on) words[w] |= mask;
      else words[w] &= ~mask;
      b += hi - lo;
    }
  }

  private check(start: number, count: number): void {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(count) || start < 0 || count < 0 || start + count > this.total) {
      throw new RangeError(`blocks [${start}, ${start + count}) outside [0, ${this.total})`);
    }
  }
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}
