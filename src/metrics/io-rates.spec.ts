import { describe, expect, it } from 'vitest';
import { LATENCY_BUCKETS_SECONDS } from '../common/latency-histogram';
import type { IoCounterSnapshot, IoStatsSnapshot } from '../virtualization/io-stats';
import { addDelta, emptyDelta, ioDelta, quantileMs, rateSample } from './io-rates';

const N = LATENCY_BUCKETS_SECONDS.length + 1;

/** Counts per bucket from a sparse { bucketIndex: count }. */
function buckets(at: Record<number, number>): number[] {
  const b = new Array<number>(N).fill(0);
  for (const [i, n] of Object.entries(at)) b[Number(i)] = n;
  return b;
}

function counter(ops: number, bytes: number, at: Record<number, number>, latencySumSeconds: number): IoCounterSnapshot {
  return { ops, bytes, errors: 0, buckets: buckets(at), latencySumSeconds };
}

function stats(read: IoCounterSnapshot, write: IoCounterSnapshot): IoStatsSnapshot {
  const idle = counter(0, 0, {}, 0);
  return { read, write, writeZeroes: idle, discard: idle, flush: idle };
}

describe('quantileMs', () => {
  it('interpolates within the bucket holding the rank, the first bucket starting at 0', () => {
    // 100 ops in (0.5 ms, 1 ms]: p99 is 99% of the way through that bucket.
    expect(quantileMs(buckets({ 4: 100 }), 0.99)).toBeCloseTo(0.5 + 0.5 * 0.99, 9);
    expect(quantileMs(buckets({ 0: 100 }), 0.5)).toBeCloseTo(0.025, 9);
  });

  it('finds the bucket from the cumulative counts', () => {
    // 98 fast ops (<= 50 µs), 2 slow in (5 ms, 10 ms]: the 99th is halfway through the slow bucket.
    expect(quantileMs(buckets({ 0: 98, 7: 2 }), 0.99)).toBeCloseTo(7.5, 9);
  });

  it('gives the highest finite bound for a rank in +Inf', () => {
    expect(quantileMs(buckets({ [N - 1]: 5 }), 0.99)).toBe(10_000);
  });
});

describe('ioDelta and rateSample', () => {
  const before = stats(counter(10, 40_960, { 1: 10 }, 0.001), counter(4, 4 * 65_536, { 5: 4 }, 0.008));
  const after = stats(counter(30, 122_880, { 1: 25, 2: 5 }, 0.003), counter(4, 4 * 65_536, { 5: 4 }, 0.008));

  it('subtracts the previous counters; a disk with none counts from zero', () => {
    const d = ioDelta(before, after);
    expect(d.read).toEqual({ ops: 20, bytes: 81_920, buckets: buckets({ 1: 15, 2: 5 }), latencySumSeconds: expect.closeTo(0.002, 12) });
    expect(d.write).toEqual({ ops: 0, bytes: 0, buckets: buckets({}), latencySumSeconds: 0 });
    expect(ioDelta(undefined, before).read.ops).toBe(10);
  });

  it('turns a delta into rates over the interval, with null latencies when nothing completed', () => {
    const s = rateSample(ioDelta(before, after), 2, 1_700_000_000_000);
    expect(s).toEqual({
      t: 1_700_000_000_000,
      readIops: 10,
      writeIops: 0,
      readBps: 40_960,
      writeBps: 0,
      readLatencyMs: expect.closeTo(0.1, 9),
      writeLatencyMs: null,
      readLatencyP99Ms: expect.closeTo(0.1 + 0.15 * ((0.99 * 20 - 15) / 5), 9),
      writeLatencyP99Ms: null,
    });
  });

  it('adds deltas into a total', () => {
    const total = emptyDelta();
    addDelta(total, ioDelta(undefined, before));
    addDelta(total, ioDelta(before, after));
    expect(total.read).toEqual(ioDelta(undefined, after).read);
    expect(total.write).toEqual(ioDelta(undefined, after).write);
  });
});
