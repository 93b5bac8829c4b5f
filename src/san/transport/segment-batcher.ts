import { bundledSize, encodeBundle } from '../../protocols/san/bundle';
import { Kind } from '../../protocols/san/constants';
import type { OutgoingSegment } from './channel';

/**
 * Gathers the small segments one turn of the event loop produces (replies
 * whose reads completed together, calls issued together, ACKs) and hands
 * them on as one BUNDLE when there are several, so each costs a share of
 * one seal and one system call. A segment too large to share a datagram
 * goes alone, after whatever was waiting, so segments never overtake each
 * other.
 */
export class SegmentBatcher {
  private queue: OutgoingSegment[] = [];
  private bytes = 0;
  private scheduled = false;

  constructor(
    /** Payload bytes one sealed datagram carries. */
    private readonly capacity: number,
    /** Sends one segment: a single one as itself, several as one BUNDLE segment. */
    private readonly send: (d: OutgoingSegment) => void,
    /** When the gathered segments go: by default at the end of this turn of the event loop. */
    private readonly defer: (fn: () => void) => void = (fn) => void setImmediate(fn),
  ) {}

  push(d: OutgoingSegment): void {
    const size = bundledSize(d.payload.length);
    if (size > this.capacity) {
      this.flush();
      this.send(d);
      return;
    }
    if (this.bytes + size > this.capacity) this.flush();
    this.queue.push(d);
    this.bytes += size;
    if (!this.scheduled) {
      this.scheduled = true;
      this.defer(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  /** Send what is waiting now. */
  flush(): void {
    const q = this.queue;
    if (q.length === 0) return;
    this.queue = [];
    this.bytes = 0;
    if (q.length === 1) return this.send(q[0]);
    const payload = encodeBundle(q);
    this.send({ kind: Kind.BUNDLE, xid: 0, segment: 0, segments: 1, messageLength: payload.length, payload });
  }

  /** Forget what is waiting (the session ended). */
  clear(): void {
    this.queue = [];
    this.bytes = 0;
  }
}
