import type { LayoutKind } from './layout';
import type { Member } from './member';
import type { IoOp, MirrorSet } from './mirror-set';
import { SetLayout } from './set-layout';
import { settleAll } from './settle-all';

/** Sets back to back: concat (one set per extent) and raid1 (one set of every extent). */
export class ConcatLayout extends SetLayout {
  readonly size: number;
  /** Logical start of each set. */
  private readonly starts: number[];

  constructor(kind: LayoutKind, label: string, members: readonly Member[], sets: readonly MirrorSet[]) {
    super(kind, label, members, sets);
    this.starts = [];
    let size = 0;
    for (const set of sets) {
      this.starts.push(size);
      size += set.length;
    }
    this.size = size;
  }

  protected submit(op: IoOp, offset: number, buf: Buffer): Promise<void> {
    const end = offset + buf.length;
    let i = this.setAt(offset);
    if (this.pieceLength(i, offset, end) === buf.length) return this.sets[i].io(op, offset - this.starts[i], buf);
    const ios: Promise<void>[] = [];
    for (let pos = offset; pos < end; i++) {
      const n = this.pieceLength(i, pos, end);
      ios.push(this.sets[i].io(op, pos - this.starts[i], buf.subarray(pos - offset, pos - offset + n)));
      pos += n;
    }
    return settleAll(ios);
  }

  protected discardRange(offset: number, length: number): Promise<void> {
    const end = offset + length;
    const ios: Promise<void>[] = [];
    for (let pos = offset, i = this.setAt(offset); pos < end; i++) {
      const n = this.pieceLength(i, pos, end);
      ios.push(this.sets[i].discard(pos - this.starts[i], n));
      pos += n;
    }
    return ios.length === 1 ? ios[0] : settleAll(ios);
  }

  /** Bytes of [pos, end) that fall in set i, which holds pos. */
  private pieceLength(i: number, pos: number, end: number): number {
    return Math.min(end - pos, this.starts[i] + this.sets[i].length - pos);
  }

  /** Index of the set holding `offset` (binary search over the starts). */
  private setAt(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
