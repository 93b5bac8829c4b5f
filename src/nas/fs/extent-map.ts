import type { Run } from './block-allocator';

/**
 * File blocks [fblock, fblock+count) live on store blocks [dblock, dblock+count).
 * `pending` is set while the extent's first write is in flight: readers see
 * zeros there, writers to the same blocks wait for it, and it is not
 * persisted until the write has landed (data before metadata).
 */
export interface Extent {
  fblock: number;
  dblock: number;
  count: number;
  pending?: Promise<void>;
}

/** A piece of a file block range: mapped (dblock >= 0) or a hole (dblock -1). */
export interface Segment {
  fblock: number;
  count: number;
  dblock: number;
  extent?: Extent;
}

/**
 * One file's block map: sorted, non-overlapping extents, cached in memory
 * for as long as the inode is. `dirtyFrom` is the lowest file block whose
 * persisted rows no longer match: a commit rewrites the file's rows from
 * there (it is always the start of a changed extent, so rows below it are
 * exactly the extents below it).
 */
export class ExtentMap {
  readonly list: Extent[];
  /** Blocks allocated to the file, pending ones included. */
  blocks = 0;
  /** Blocks in pending extents (not persisted yet). */
  pendingBlocks = 0;
  dirtyFrom = Infinity;
  /** Since the rows were last written: fresh blocks were added (their data must be flushed first) / blocks removed. */
  grown = false;
  shrunk = false;
  /** Blocks in the rows as last written: what the inode row must say until the rows are rewritten. */
  persistedBlocks: number;

  constructor(list: Extent[] = []) {
    this.list = list;
    for (const e of list) this.blocks += e.count;
    this.persistedBlocks = this.blocks;
  }

  /** The rows from dirtyFrom on, for a commit; afterwards the map counts as persisted. */
  takeRows(): { from: number; rows: Extent[] } {
    const from = this.dirtyFrom;
    const rows = this.persistedFrom(from);
    this.dirtyFrom = Infinity;
    this.grown = false;
    this.shrunk = false;
    this.persistedBlocks = this.blocks - this.pendingBlocks;
    return { from, rows };
  }

  /** Index of the first extent that ends after `fblock`. */
  indexAfter(fblock: number): number {
    const list = this.list;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = list[mid];
      if (e.fblock + e.count <= fblock) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The store block holding file block `fblock`, or -1 for a hole or a pending extent. */
  blockAt(fblock: number): number {
    const e = this.list[this.indexAfter(fblock)];
    if (!e || e.fblock > fblock || e.pending) return -1;
    return e.dblock + (fblock - e.fblock);
  }

  /** Cover [from, to) with mapped pieces and holes, in order. */
  segments(from: number, to: number): Segment[] {
    const out: Segment[] = [];
    let pos = from;
    for (let i = this.indexAfter(from); pos < to && i < this.list.length; i++) {
      const e = this.list[i];
      if (e.fblock >= to) break;
      if (e.fblock > pos) {
        out.push({ fblock: pos, count: e.fblock - pos, dblock: -1 });
        pos = e.fblock;
      }
      const end = Math.min(to, e.fblock + e.count);
      out.push({ fblock: pos, count: end - pos, dblock: e.dblock + (pos - e.fblock), extent: e });
      pos = end;
    }
    if (pos < to) out.push({ fblock: pos, count: to - pos, dblock: -1 });
    return out;
  }

  /**
   * Where a hole at `fblock` would ideally go on the store: right after (or
   * before) the nearest mapped neighbour, keeping the file's layout linear.
   */
  goalFor(fblock: number): number {
    const i = this.indexAfter(fblock);
    const prev = this.list[i - 1];
    if (prev) return prev.dblock + (fblock - prev.fblock);
    const next = this.list[i];
    if (next && next.dblock - (next.fblock - fblock) >= 0) return next.dblock - (next.fblock - fblock);
    return -1;
  }

  /** Add a pending extent over a hole. */
  addPending(fblock: number, dblock: number, count: number, pending: Promise<void>): Extent {
    const e: Extent = { fblock, dblock, count, pending };
    this.list.splice(this.indexAfter(fblock), 0, e);
    this.blocks += count;
    this.pendingBlocks += count;
    return e;
  }

  /** Its first write landed: merge with contiguous written neighbours and mark for persisting. */
  settle(e: Extent): void {
    delete e.pending;
    this.pendingBlocks -= e.count;
    let i = this.list.indexOf(e, Math.max(0, this.indexAfter(e.fblock) - 1));
    let start = e;
    const prev = this.list[i - 1];
    if (prev && !prev.pending && contiguous(prev, e)) {
      prev.count += e.count;
      this.list.splice(i, 1);
      i--;
      start = prev;
    }
    const next = this.list[i + 1];
    if (next && !next.pending && contiguous(start, next)) {
      start.count += next.count;
      this.list.splice(i + 1, 1);
    }
    this.dirtyFrom = Math.min(this.dirtyFrom, start.fblock);
    this.grown = true;
  }

  /** Its first write failed: forget it (its blocks were never persisted). */
  drop(e: Extent): void {
    const i = this.list.indexOf(e);
    if (i >= 0) {
      this.list.splice(i, 1);
      this.blocks -= e.count;
      this.pendingBlocks -= e.count;
    }
  }

  /** Remove every block at or past `fblock`; returns the store runs given up. No extent may be pending. */
  truncate(fblock: number): Run[] {
    const freed: Run[] = [];
    const i = this.indexAfter(fblock);
    for (let j = i; j < this.list.length; j++) {
      const e = this.list[j];
      if (e.pending) throw new Error('truncate over a pending extent');
      const cut = Math.max(fblock, e.fblock);
      freed.push({ start: e.dblock + (cut - e.fblock), count: e.fblock + e.count - cut });
    }
    if (i >= this.list.length) return freed;
    const first = this.list[i];
    this.dirtyFrom = Math.min(this.dirtyFrom, first.fblock);
    this.shrunk = true;
    if (first.fblock < fblock) {
      first.count = fblock - first.fblock;
      this.list.length = i + 1;
    } else {
      this.list.length = i;
    }
    for (const run of freed) this.blocks -= run.count;
    return freed;
  }

  /** Settled extents from `fblock` on: what a commit writes for this file. */
  persistedFrom(fblock: number): Extent[] {
    const out: Extent[] = [];
    for (let i = this.indexAfter(fblock); i < this.list.length; i++) {
      const e = this.list[i];
      if (!e.pending && e.fblock >= fblock) out.push({ fblock: e.fblock, dblock: e.dblock, count: e.count });
    }
    return out;
  }

  /** Last mapped file block + 1 (0 if none). */
  get endBlock(): number {
    const last = this.list[this.list.length - 1];
    return last ? last.fblock + last.count : 0;
  }
}

function contiguous(a: Extent, b: Extent): boolean {
  return a.fblock + a.count === b.fblock && a.dblock + a.count === b.dblock;
}
