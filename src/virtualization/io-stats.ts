import { LatencyHistogram } from '../common/latency-histogram';

export interface IoCounterSnapshot {
  /** Completed operations. */
  ops: number;
  bytes: number;
  /** Operations that failed (not counted in ops, bytes or latency). */
  errors: number;
  /** Completed operations per latency bucket, not cumulative; one more entry than LATENCY_BUCKETS_SECONDS (common/latency-histogram) for +Inf. */
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
  private readonly latency = new LatencyHistogram();

  /** An operation of `bytes` that started at `startMs` (performance.now()) completed. */
  done(bytes: number, startMs: number): void {
    this.ops++;
    this.bytes += bytes;
    this.latency.since(startMs);
  }

  failed(): void {
    this.errors++;
  }

  snapshot(): IoCounterSnapshot {
    const { buckets, sumSeconds } = this.latency.snapshot();
    return { ops: this.ops, bytes: this.bytes, errors: this.errors, buckets, latencySumSeconds: sumSeconds };
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
