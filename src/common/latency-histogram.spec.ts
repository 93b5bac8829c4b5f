import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LATENCY_BUCKETS_SECONDS, LatencyHistogram } from './latency-histogram';

describe('LatencyHistogram', () => {
  afterEach(() => vi.restoreAllMocks());

  it('puts each latency in the first bucket whose bound holds it (bounds inclusive), the rest in +Inf', () => {
    const h = new LatencyHistogram();
    for (const ms of [0, 0.05, 0.051, 3, 10_000, 10_001]) h.observe(ms);
    const expected = new Array(LATENCY_BUCKETS_SECONDS.length + 1).fill(0);
    expected[0] = 2; // 0 and exactly 50 µs
    expected[1] = 1; // <= 100 µs
    expected[6] = 1; // <= 5 ms
    expected[LATENCY_BUCKETS_SECONDS.length - 1] = 1; // exactly 10 s: the last finite bucket
    expected[LATENCY_BUCKETS_SECONDS.length] = 1; // +Inf
    const s = h.snapshot();
    expect(s.buckets).toEqual(expected);
    expect(h.count).toBe(6);
    expect(s.sumSeconds).toBeCloseTo((0.05 + 0.051 + 3 + 10_000 + 10_001) / 1000, 9);
  });

  it('since() measures from a performance.now() start to now', () => {
    const h = new LatencyHistogram();
    vi.spyOn(performance, 'now').mockReturnValue(1000.3);
    h.since(1000);
    expect(h.snapshot().buckets.slice(0, 4)).toEqual([0, 0, 0, 1]); // 300 µs: <= 500 µs
    expect(h.sumSeconds).toBeCloseTo(0.0003, 9);
  });

  it('hands out copies', () => {
    const h = new LatencyHistogram();
    const s = h.snapshot();
    h.observe(1);
    expect(s.buckets.every((n) => n === 0)).toBe(true);
    expect(s.sumSeconds).toBe(0);
  });
});
