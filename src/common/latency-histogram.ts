import { performance } from 'node:perf_hooks';

/**
 * Upper bounds of the latency buckets in seconds, 50 µs to 10 s; a last
 * bucket (+Inf) takes the rest. Fixed, so a histogram is one small array and
 * exporters hand the counts on as they are. Volume I/O, NFS calls and share
 * metadata commits all use these bounds.
 */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** The same bounds in milliseconds, the unit of performance.now(). */
const BOUNDS_MS = Float64Array.from(LATENCY_BUCKETS_SECONDS, (s) => s * 1000);

export interface LatencySnapshot {
  /** Observations per bucket, not cumulative; one more entry than LATENCY_BUCKETS_SECONDS (+Inf). */
  buckets: number[];
  sumSeconds: number;
}

/**
 * Latencies counted into LATENCY_BUCKETS_SECONDS: plain numbers the data path
 * adds to, no allocation and no metrics library; metrics read them at scrape
 * time (see LiveHistogram).
 */
export class LatencyHistogram {
  readonly counts = new Float64Array(BOUNDS_MS.length + 1);
  private sumMs = 0;

  /** Something that started at `startMs` (performance.now()) ended now. */
  since(startMs: number): void {
    this.observe(performance.now() - startMs);
  }

  /** One latency, in milliseconds; a bound holds what equals it. */
  observe(ms: number): void {
    this.sumMs += ms;
    // Most latencies land in the first few buckets, so a linear scan beats a search.
    let i = 0;
    while (i < BOUNDS_MS.length && ms > BOUNDS_MS[i]) i++;
    this.counts[i]++;
  }

  get count(): number {
    let n = 0;
    for (const c of this.counts) n += c;
    return n;
  }

  get sumSeconds(): number {
    return this.sumMs / 1000;
  }

  snapshot(): LatencySnapshot {
    return { buckets: Array.from(this.counts), sumSeconds: this.sumSeconds };
  }
}
