import { performance } from 'node:perf_hooks';

/**
 * Upper bounds of the I/O latency buckets in seconds, 50 µs to 10 s; a last
 * bucket (+Inf) takes the rest. Fixed, so a histogram is one small array per
 * operation and exporters can hand the counts on as they are.
 */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** The same bounds in milliseconds, the unit of performance.now(). */
const BOUNDS_MS = Float64Array.from(LATENCY_BUCKETS_SECONDS, (s) => s * 1000);

export interface IoCounterSnapshot {
  /** Completed operations. */
  ops: number;
  bytes: number;
  /** Operations that failed (not counted in ops, bytes or latency). */
  errors: number;
  /** Completed operations per latency bucket, not cumulative; one more entry than LATENCY_BUCKETS_SECONDS (+Inf). */
  buckets: number[];
  latencySumSeconds: number;
}

export type IoOp = 'read' | 'write' | 'writeZeroes' | 'discard' | 'flush';

export type IoStatsSnapshot = Record<IoOp, IoCounterSnapshot>;

/**
 * Plain counters for one kind of operation: the data path adds to them on
 * completion and readers copy them out. No allocation, no metrics library.
 */
export class IoCounter {
  private ops = 0;
  private bytes = 0;
  private errors = 0;
  private readonly buckets = new Float64Array(BOUNDS_MS.length + 1);
  private latencySumMs = 0;

  /** An operation of `bytes` that started at `startMs` (performance.now()) completed. */
  done(bytes: number, startMs: number): void {
    const ms = performance.now() - startMs;
    this.ops++;
    this.bytes += bytes;
    this.latencySumMs += ms;
    // Most I/O lands in the first few buckets, so a linear scan beats a search.
    let i = 0;
    while (i < BOUNDS_MS.length && ms > BOUNDS_MS[i]) i++;
    this.buckets[i]++;
  }

  failed(): void {
    this.errors++;
  }

  snapshot(): IoCounterSnapshot {
    return {
      ops: this.ops,
      bytes: this.bytes,
      errors: this.errors,
      buckets: Array.from(this.buckets),
      latencySumSeconds: this.latencySumMs / 1000,
    };
  }
}

/** The counters of one volume, one per kind of operation. */
export class IoStats {
  readonly read = new IoCounter();
  readonly write = new IoCounter();
  readonly writeZeroes = new IoCounter();
  readonly discard = new IoCounter();
  readonly flush = new IoCounter();

  snapshot(): IoStatsSnapshot {
    return {
      read: this.read.snapshot(),
      write: this.write.snapshot(),
      writeZeroes: this.writeZeroes.snapshot(),
      discard: this.discard.snapshot(),
      flush: this.flush.snapshot(),
    };
  }
}
