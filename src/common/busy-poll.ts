/**
 * Keeps the event loop polling, instead of sleeping, for a short window after
 * a reply goes out, so that the client's next call is picked up at once.
 *
 * A client that waits for each reply before its next call (an NFS client
 * walking a path, `stat`, create, unlink, one at a time) sends that call a few
 * tens of microseconds after our reply. By then an idle event loop is asleep
 * in epoll_wait, and on a virtual machine an idle vCPU halts: waking it costs
 * more than the call itself. Measured on this project's 2-vCPU machine with a
 * libnfs client: an NFS NULL round trip took 70-73 µs with the loop sleeping
 * and 40 µs with it polling; a libnfs stat (LOOKUP, LOOKUP, GETATTR) 250 µs
 * and 140 µs.
 *
 * While the window is open the loop turns through setImmediate, so epoll is
 * asked with a zero timeout and any socket that became readable is served in
 * the same turn. Each reply reopens the window, and a loop kept busy by work
 * never reaches the poll anyway. The CPU it costs is bounded by the window
 * per reply, and nothing at all when no calls come: the window closes on its
 * own and the loop sleeps as before. A window of 0 turns it off. It is the
 * trade Linux's net.core.busy_poll offers for sockets on a NIC, which Linux
 * leaves off by default: here it is on, because a storage gateway's calls are
 * small and its clients wait for each one. A steady trickle of single calls
 * (10k a second with a 100 µs window) keeps a core busy.
 */

/**
 * Default windows, µs: the gateway's SAN listeners and the SAN client library
 * (and strata-client's NBD side); the NFS front end. NFS was 50 µs until a
 * paired A/B with libnfs one call at a time on a sync share (8 pairs of
 * 1,000 files, both orders) had 100 µs ahead on stat in 8, create in 6 and
 * unlink in 5: a libnfs client's next call often comes later than 50 µs
 * after the reply. 200 µs against 100 (8 more pairs): stat 6, create 3,
 * unlink 5, no clear gain for twice the CPU.
 */
export const SAN_BUSY_POLL_MICROS = 100;
export const NAS_BUSY_POLL_MICROS = 100;
/** The gateway's NBD export, after each batch of replies. */
export const NBD_BUSY_POLL_MICROS = 50;
/** The longest window accepted: past it polling costs more than any wake-up it saves. */
export const MAX_BUSY_POLL_MICROS = 10_000;

/**
 * The event loop's chain of polling turns: one per process, however many
 * front ends keep it polling, each for its own window. A window keeps the
 * chain going until it ends; a shorter one opened later never cuts a longer
 * one short.
 */
export class LoopPoll {
  private until = 0;
  private polling = false;

  constructor(
    readonly now: () => number = () => performance.now(),
    private readonly schedule: (fn: () => void) => void = (fn) => void setImmediate(fn),
  ) {}

  /** Whether the loop is being kept polling now. */
  get active(): boolean {
    return this.polling;
  }

  /** Poll at least until `until` (ms, on now()'s clock) before the loop may sleep again. */
  keepUntil(until: number): void {
    if (until > this.until) this.until = until;
    if (this.polling) return;
    this.polling = true;
    this.schedule(this.turn);
  }

  private readonly turn = (): void => {
    if (this.now() < this.until) this.schedule(this.turn);
    else this.polling = false;
  };
}

/** The process's event loop. */
const processLoop = new LoopPoll();

/** A front end's window on the process's LoopPoll: what it touches after it sends. */
export class BusyPoll {
  private readonly windowMs: number;

  constructor(
    windowMicros: number,
    private readonly loop: LoopPoll = processLoop,
  ) {
    if (!Number.isFinite(windowMicros) || windowMicros < 0 || windowMicros > MAX_BUSY_POLL_MICROS) {
      throw new RangeError(`a busy-poll window must be from 0 to ${MAX_BUSY_POLL_MICROS} µs, not ${windowMicros}`);
    }
    this.windowMs = windowMicros / 1000;
  }

  /** Whether the loop is being kept polling now (by this window or another). */
  get active(): boolean {
    return this.loop.active;
  }

  /** Something went out: poll for the next `windowMicros` before the loop may sleep again. */
  touch(): void {
    if (this.windowMs > 0) this.loop.keepUntil(this.loop.now() + this.windowMs);
  }
}

/** What a sender needs of a BusyPoll: tests give one that counts. */
export type Touch = Pick<BusyPoll, 'touch'>;
