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
    return this.split(op, offset, buf.length, buf);
  }

  protected discardRange(offset: number, length: number): Promise<void> {
    return this.split('discard', offset, length, undefined);
  }

  private split(op: IoOp | 'discard', offset: number, length: number, buf: Buffer | undefined): Promise<void> {
    const end = offset + length;
    let i = this.setAt(offset);
    const ios: Promise<void>[] = [];
    for (let pos = offset; pos < end; i++) {
      const set = this.sets[i];
      const from = pos - this.starts[i];
      const n = Math.min(end - pos, set.length - from);
      ios.push(
        buf === undefined
          ? set.discard(from, n)
          : set.io(op as IoOp, from, n === length ? buf : buf.subarray(pos - offset, pos - offset + n)),
      );
      pos += n;
    }
    return ios.length === 1 ? ios[0] : settleAll(ios);
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
