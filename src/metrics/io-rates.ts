import { LATENCY_BUCKETS_SECONDS } from '../common/latency-histogram';
import type { IoCounterSnapshot, IoStatsSnapshot } from '../virtualization/io-stats';

/** What one interval added to a read or write counter. */
export interface OpDelta {
  ops: number;
  bytes: number;
  /** Per latency bucket, not cumulative, +Inf last. */
  buckets: number[];
  latencySumSeconds: number;
}

export interface IoDelta {
  read: OpDelta;
  write: OpDelta;
}

/** Rates over one sampling interval, as GET /api/v1/stats reports them. */
export interface RateSample {
  /** End of the interval, milliseconds since the epoch. */
  t: number;
  readIops: number;
  writeIops: number;
  /** Bytes per second. */
  readBps: number;
  writeBps: number;
  /** Mean latency of the operations completed in the interval; null when none completed. */
  readLatencyMs: number | null;
  writeLatencyMs: number | null;
  /** 99th percentile, interpolated within its histogram bucket; null when none completed. */
  readLatencyP99Ms: number | null;
  writeLatencyP99Ms: number | null;
}

export function emptyDelta(): IoDelta {
  const op = (): OpDelta => ({ ops: 0, bytes: 0, buckets: new Array<number>(LATENCY_BUCKETS_SECONDS.length + 1).fill(0), latencySumSeconds: 0 });
  return { read: op(), write: op() };
}

/** Counters of a disk now minus at the last sample; a disk with no earlier sample was created since, so all of its counts are new. */
export function ioDelta(previous: IoStatsSnapshot | undefined, current: IoStatsSnapshot): IoDelta {
  const op = (before: IoCounterSnapshot | undefined, now: IoCounterSnapshot): OpDelta => ({
    ops: now.ops - (before?.ops ?? 0),
    bytes: now.bytes - (before?.bytes ?? 0),
    buckets: now.buckets.map((n, i) => n - (before?.buckets[i] ?? 0)),
    latencySumSeconds: now.latencySumSeconds - (before?.latencySumSeconds ?? 0),
  });
  return { read: op(previous?.read, current.read), write: op(previous?.write, current.write) };
}

export function addDelta(into: IoDelta, d: IoDelta): void {
  for (const key of ['read', 'write'] as const) {
    const a = into[key];
    const b = d[key];
    a.ops += b.ops;
    a.bytes += b.bytes;
    a.latencySumSeconds += b.latencySumSeconds;
    for (let i = 0; i < a.buckets.length; i++) a.buckets[i] += b.buckets[i];
  }
}

export function rateSample(d: IoDelta, seconds: number, t: number): RateSample {
  const mean = (op: OpDelta) => (op.ops > 0 ? (op.latencySumSeconds / op.ops) * 1000 : null);
  const p99 = (op: OpDelta) => (op.ops > 0 ? quantileMs(op.buckets, 0.99) : null);
  return {
    t,
    readIops: d.read.ops / seconds,
    writeIops: d.write.ops / seconds,
    readBps: d.read.bytes / seconds,
    writeBps: d.write.bytes / seconds,
    readLatencyMs: mean(d.read),
    writeLatencyMs: mean(d.write),
    readLatencyP99Ms: p99(d.read),
    writeLatencyP99Ms: p99(d.write),
  };
}

/**
 * The q-quantile of a bucketed latency distribution in milliseconds, as
 * Prometheus' histogram_quantile estimates it: linear within the bucket that
 * holds the rank (the first bucket starts at 0); a rank in +Inf gives the
 * highest finite bound. Only as precise as the buckets: "p99-ish".
 */
export function quantileMs(buckets: readonly number[], q: number): number {
  const bounds = LATENCY_BUCKETS_SECONDS;
  const total = buckets.reduce((n, c) => n + c, 0);
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < bounds.length; i++) {
    if (buckets[i] > 0 && below + buckets[i] >= rank) {
      const lower = i === 0 ? 0 : bounds[i - 1];
      return (lower + ((bounds[i] - lower) * (rank - below)) / buckets[i]) * 1000;
    }
    below += buckets[i];
  }
  return bounds[bounds.length - 1] * 1000;
}
