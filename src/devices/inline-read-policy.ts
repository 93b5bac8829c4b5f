/**
 * When a small read may run on the event loop thread (readSync) instead of
 * libuv's thread pool. A page-cache hit of 4 KiB costs about 2 µs inline but
 * 6–7 µs of CPU through the pool (queue, wake a worker, wake the loop back):
 * at 4 KiB random reads that hop was 43% of the gateway's CPU. A miss would
 * block every connection for a disk access, so each inline read is timed and
 * a slow one sends the next reads back to the pool, probing inline again after
 * a backoff that doubles while probes stay slow.
 */

/** Larger reads go to the pool: a 64 KiB copy already costs about as much as the hop, and the pool reads in parallel. */
export const INLINE_READ_MAX = 16 * 1024;
/** A page-cache hit of INLINE_READ_MAX takes a few µs; this is already a device access (an NVMe read is ~0.1 ms). */
export const SLOW_INLINE_READ_MS = 0.05;
/** Reads sent to the pool after the first slow inline read, doubled per slow probe up to the maximum. */
export const MIN_BACKOFF_READS = 256;
export const MAX_BACKOFF_READS = 65_536;

export class InlineReadPolicy {
  /** Reads still to send to the pool before the next inline probe. */
  private skip = 0;
  private backoff = MIN_BACKOFF_READS;

  /** Whether a read of `length` bytes should run inline; call took() after an inline one. */
  inline(length: number): boolean {
    if (length > INLINE_READ_MAX) return false;
    if (this.skip > 0) {
      this.skip--;
      return false;
    }
    return true;
  }

  /** How long an inline read took, in milliseconds. */
  took(ms: number): void {
    if (ms <= SLOW_INLINE_READ_MS) {
      this.backoff = MIN_BACKOFF_READS;
      return;
    }
    this.skip = this.backoff;
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_READS);
  }
}
