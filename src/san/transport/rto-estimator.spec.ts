import { describe, expect, it } from 'vitest';
import { RtoEstimator } from './rto-estimator';

describe('RtoEstimator (RFC 6298)', () => {
  it('starts at the initial RTO and takes the first sample as SRTT with RTTVAR = R/2', () => {
    const e = new RtoEstimator({ initial: 100, min: 1, max: 60_000 });
    expect(e.rto).toBe(100);
    expect(e.srtt).toBeUndefined();
    e.sample(40);
    expect(e.srtt).toBe(40);
    expect(e.rttvar).toBe(20);
    expect(e.rto).toBe(40 + 4 * 20);
  });

  it('smooths later samples with alpha 1/8 and beta 1/4', () => {
    const e = new RtoEstimator({ initial: 100, min: 1, max: 60_000 });
    e.sample(40);
    e.sample(80);
    // RTTVAR = 3/4·20 + 1/4·|40−80| = 25; SRTT = 7/8·40 + 1/8·80 = 45
    expect(e.rttvar).toBe(25);
    expect(e.srtt).toBe(45);
    expect(e.rto).toBe(145);
  });

  it('clamps to [min, max] and ignores nonsense samples', () => {
    const e = new RtoEstimator({ initial: 100, min: 2, max: 2000 });
    e.sample(0.01);
    expect(e.rto).toBe(2);
    e.sample(Number.NaN);
    e.sample(-5);
    expect(e.sampleCount).toBe(1);
    for (let i = 0; i < 50; i++) e.sample(10_000);
    expect(e.rto).toBe(2000);
  });

  it('converges on a steady RTT, with RTTVAR shrinking', () => {
    const e = new RtoEstimator({ initial: 1000, min: 0, max: 60_000 });
    for (let i = 0; i < 200; i++) e.sample(10);
    expect(e.srtt).toBeCloseTo(10, 6);
    expect(e.rto).toBeLessThan(10.01);
  });
});
