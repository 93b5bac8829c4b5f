import type { LayoutKind } from './layout';
import type { Member } from './member';
import type { IoOp, MirrorSet } from './mirror-set';
import { SetLayout } from './set-layout';
import { settleAll } from './settle-all';

/** Stripe units round-robin over sets: raid0 (one extent per set) and raid10 (mirrored pairs). */
export class StripeLayout extends SetLayout {
  readonly size: number;
  /** Bytes of one full row: one unit on every set. */
  private readonly row: number;

  constructor(
    kind: LayoutKind,
    label: string,
    members: readonly Member[],
    sets: readonly MirrorSet[],
    private readonly unit: number,
  ) {
    super(kind, label, members, sets);
    this.row = unit * sets.length;
    this.size = stripedSize(Math.min(...sets.map((s) => s.length)), sets.length, unit);
  }

  protected submit(op: IoOp, offset: number, buf: Buffer): Promise<void> {
    const u = this.unit;
    const n = this.sets.length;
    const len = buf.length;
    let unit = Math.floor(offset / u);
    let within = offset - unit * u;
    if (within + len <= u) return this.sets[unit % n].io(op, Math.floor(unit / n) * u + within, buf);
    const ios: Promise<void>[] = [];
    for (let done = 0; done < len; unit++, within = 0) {
      const run = Math.min(u - within, len - done);
      ios.push(this.sets[unit % n].io(op, Math.floor(unit / n) * u + within, buf.subarray(done, done + run)));
      done += run;
    }
    return settleAll(ios);
  }

  /** A logical range covers one contiguous range on each set, so discard issues one call per set. */
  protected discardRange(offset: number, length: number): Promise<void> {
    const ios: Promise<void>[] = [];
    for (let k = 0; k < this.sets.length; k++) {
      const from = this.setPosition(k, offset);
      const to = this.setPosition(k, offset + length);
      if (to > from) ios.push(this.sets[k].discard(from, to - from));
    }
    return ios.length === 1 ? ios[0] : settleAll(ios);
  }

  /** How many bytes of [0, pos) live on set k, which is also the set offset of the first such byte at or after pos. */
  private setPosition(k: number, pos: number): number {
    const rows = Math.floor(pos / this.row);
    const inRow = pos - rows * this.row;
    return rows * this.unit + Math.min(Math.max(inRow - k * this.unit, 0), this.unit);
  }
}

/** Every set contributes the same whole number of units, bounded by the shortest. */
export function stripedSize(shortest: number, sets: number, unit: number): number {
  return sets * Math.floor(shortest / unit) * unit;
}
