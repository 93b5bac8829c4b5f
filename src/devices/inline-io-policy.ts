/**
 * When a read or write may run on the event loop thread (readSync/writeSync)
 * instead of libuv's thread pool. A page-cache hit costs a copy either way,
 * but the pool adds a queue, a worker wake-up and a wake-up of the loop: per
 * 4 KiB read 2 µs of CPU inline against 6–7 µs through the pool (43% of the
 * gateway's CPU at 4 KiB random reads), per 1 MiB write 145 µs against
 * 195–245 µs. An I/O the kernel makes wait (a read missing the cache, a write
 * throttled for dirty pages) would stall every connection, so each inline I/O
 * is timed; two slow ones in a row send the next ones to the pool, and inline
 * is probed again after a backoff that doubles while probes stay slow.
 */

/**
 * Larger writes go to the pool (NBD and SAN requests stop at 1 MiB per device
 * I/O in the common case). Buffered writes to one file take its inode lock in
 * the kernel, so pooled ones gain little parallelism: 1 MiB sequential writes
 * over the gateway's NBD export ran at 3.0-3.1 GB/s with 1 MiB inline against
 * 2.3-2.6 GB/s with 128 KiB (one run each; with dirty-page writeback, write
 * figures here vary by up to 1.6x between runs).
 */
export const INLINE_WRITE_MAX = 2 ** 20;
/**
 * Larger reads go to the pool. Reads of one file run in parallel in the
 * kernel, and a 1 MiB copy (150-250 µs) on the event loop is time the loop
 * does not spend sending the previous reply: with 1 MiB inline, 1 MiB
 * sequential reads over the NBD export ran at 2.8-3.3 GB/s and nfs-cat
 * downloads at 2.3-2.4 GB/s; with 128 KiB, 3.6-3.9 GB/s and 2.8-2.9 GB/s.
 * 4 KiB random reads, where inline pays most, are the same either way.
 */
export const INLINE_READ_MAX = 128 * 2 ** 10;
/**
 * An inline I/O slower than base + 1 ns per byte (a page-cache copy runs at
 * several GB/s) waited for something. Reads: a device read takes ≥ 0.05 ms
 * (NVMe ~0.08). Writes: a page-cache write of 4 KiB on ext4 takes 30–60 µs
 * 2% of the time on its own, so their base is higher; throttling waits ms.
 */
export const READ_SLOW_BASE_MS = 0.05;
export const WRITE_SLOW_BASE_MS = 0.2;
export const SLOW_MS_PER_BYTE = 1e-6;
/** I/Os sent to the pool after slow inline ones, doubled per slow probe up to the maximum. */
export const MIN_BACKOFF_IOS = 256;
export const MAX_BACKOFF_IOS = 65_536;

/**
 * Inline I/O time one turn of the event loop may spend, across every device.
 * Past it, I/O goes to the pool until the turn ends: a loop that awaits only
 * inline I/O (a resync, a backup, a writer in-process) would otherwise never
 * yield, and timers and sockets would starve behind it.
 */
export const TURN_BUDGET_MS = 2;

export class TurnBudget {
  private spent = 0;
  private resetting = false;

  constructor(private readonly limitMs = TURN_BUDGET_MS) {}

  get left(): boolean {
    return this.spent < this.limitMs;
  }

  spend(ms: number): void {
    this.spent += ms;
    if (this.resetting) return;
    this.resetting = true;
    // Runs once the loop gets past this turn's I/O: only a loop that yields earns more inline time.
    setImmediate(() => {
      this.spent = 0;
      this.resetting = false;
    });
  }
}

export const turnBudget = new TurnBudget();

/** One per device and direction: reads missing the cache say nothing about writes, and the reverse. */
export class InlineIoPolicy {
  /** I/Os still to send to the pool before the next inline probe. */
  private skip = 0;
  private backoff = MIN_BACKOFF_IOS;
  /** The last inline I/O was slow: one slow I/O alone is usually the thread being preempted. */
  private struck = false;
  /** A probe after a backoff: slow, it backs off again at once. */
  private probing = false;

  constructor(
    private readonly slowBaseMs: number,
    private readonly max: number,
    /** Shared by every device in the process; tests give their own. */
    private readonly budget: TurnBudget = turnBudget,
  ) {}

  /** How long an inline I/O of `length` bytes may take before it counts as having waited. */
  slowMs(length: number): number {
    return this.slowBaseMs + length * SLOW_MS_PER_BYTE;
  }

  /** Whether an I/O of `length` bytes should run inline; call took() after an inline one. */
  inline(length: number): boolean {
    if (length > this.max || !this.budget.left) return false;
    if (this.skip > 0) {
      if (--this.skip === 0) this.probing = true;
      return false;
    }
    return true;
  }

  /** How long an inline I/O of `length` bytes took, in milliseconds. */
  took(length: number, ms: number): void {
    this.budget.spend(ms);
    if (ms <= this.slowMs(length)) {
      this.struck = false;
      this.probing = false;
      this.backoff = MIN_BACKOFF_IOS;
      return;
    }
    if (!this.struck && !this.probing) {
      this.struck = true;
      return;
    }
    this.struck = false;
    this.probing = false;
    this.skip = this.backoff;
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_IOS);
  }
}
