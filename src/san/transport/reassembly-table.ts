import { SbpDecodeError, Status } from '../../protocols/san/constants';
import { Reassembly, type Placement } from '../../protocols/san/segments';

/**
 * Messages being received, by xid, with two bounds: memory (a message's
 * buffer is reserved whole when its first segment arrives, and a new message
 * that would pass `maxBytes` is refused, so partial messages never wait on
 * each other for memory) and time (a message idle for `timeout` ms is dropped;
 * its sender retransmits or gives up).
 */
export interface Incoming {
  xid: number;
  reassembly: Reassembly;
  touched: number;
  /** Segments received since the last ACK for it. */
  unacked: number;
  /** Highest segment index received so far (-1: none). */
  highest: number;
}

export type AddResult =
  | { kind: 'complete'; message: Buffer; entry: Incoming }
  /** `inOrder` false: the segment skipped past a gap, or filled one (the sender wants to hear about that at once). */
  | { kind: 'partial'; entry: Incoming; duplicate: boolean; inOrder: boolean }
  /** Over the memory bound: dropped, the sender will retransmit. */
  | { kind: 'refused' };

export class ReassemblyTable {
  private readonly entries = new Map<number, Incoming>();
  private reserved = 0;

  constructor(
    private readonly capacity: number,
    private readonly maxBytes: number,
    private readonly maxMessage: number,
  ) {}

  get bytes(): number {
    return this.reserved;
  }

  get size(): number {
    return this.entries.size;
  }

  has(xid: number): boolean {
    return this.entries.has(xid);
  }

  get(xid: number): Incoming | undefined {
    return this.entries.get(xid);
  }

  /** GARBAGE (thrown) when the segment contradicts the message's shape or the message is larger than allowed. */
  add(now: number, xid: number, index: number, segments: number, length: number, payload: Buffer, place?: Placement): AddResult {
    let entry = this.entries.get(xid);
    if (entry === undefined) {
      if (length > this.maxMessage) throw new SbpDecodeError(Status.TOO_LARGE, `a ${length}-byte message is larger than ${this.maxMessage}`);
      if (this.reserved + length > this.maxBytes) return { kind: 'refused' };
      entry = { xid, reassembly: new Reassembly(segments, length, this.capacity, place), touched: now, unacked: 0, highest: -1 };
      this.entries.set(xid, entry);
      this.reserved += length;
    } else if (entry.reassembly.segments !== segments || entry.reassembly.length !== length) {
      throw new SbpDecodeError(Status.GARBAGE, `segment of xid ${xid} disagrees with the message's first segment on its size`);
    }
    entry.touched = now;
    const before = entry.reassembly.received[index];
    const complete = entry.reassembly.add(index, payload);
    if (complete) {
      this.remove(entry);
      return { kind: 'complete', message: entry.reassembly.message(), entry };
    }
    const inOrder = index === entry.highest + 1;
    if (index > entry.highest) entry.highest = index;
    if (!before) entry.unacked++;
    return { kind: 'partial', entry, duplicate: before === 1, inOrder };
  }

  /** Drop messages idle since before `now - timeout`; returns how many. */
  expire(now: number, timeout: number): number {
    let dropped = 0;
    for (const e of this.entries.values()) {
      if (now - e.touched >= timeout) {
        this.remove(e);
        dropped++;
      }
    }
    return dropped;
  }

  /** Stop receiving `xid` (its call was given up or answered another way). */
  drop(xid: number): void {
    const e = this.entries.get(xid);
    if (e) this.remove(e);
  }

  clear(): void {
    this.entries.clear();
    this.reserved = 0;
  }

  private remove(e: Incoming): void {
    if (this.entries.delete(e.xid)) this.reserved -= e.reassembly.length;
  }
}
