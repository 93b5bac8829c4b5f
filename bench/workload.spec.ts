import { describe, expect, it } from 'vitest';
import { median, runWorkload, type IoTarget, type Workload } from './workload';

const W: Workload = { name: '4k', op: 'read', pattern: 'random', blockSize: 4096, depth: 4 };

/** A target that completes each I/O on the next turn of the loop, and says which were issued after `measuring` ran. */
function countingTarget() {
  const state = { issued: 0, issuedMeasured: 0, measuringCalls: 0 };
  const io = () => {
    state.issued++;
    if (state.measuringCalls > 0) state.issuedMeasured++;
    return new Promise<void>((r) => setImmediate(r));
  };
  const target: IoTarget = { read: io, write: io };
  return { target, state };
}

describe('runWorkload', () => {
  it('counts every I/O when there is no ramp', async () => {
    const { target, state } = countingTarget();
    const r = await runWorkload(target, W, 2 ** 20, 50);
    expect(r.ops).toBe(state.issued);
    expect(r.bytes).toBe(r.ops * 4096);
  });

  it('counts nothing issued during the ramp, and signals once when measuring starts', async () => {
    const { target, state } = countingTarget();
    const before = process.hrtime.bigint();
    const r = await runWorkload(target, W, 2 ** 20, 300, 1, {
      rampMillis: 100,
      measuring: () => state.measuringCalls++,
    });
    const elapsed = Number(process.hrtime.bigint() - before) / 1e9;
    expect(state.measuringCalls).toBe(1);
    expect(state.issuedMeasured).toBeGreaterThan(0);
    expect(state.issued).toBeGreaterThan(state.issuedMeasured);
    // The I/O that starts the measured part is issued just after measuring() runs: it and all later ones count.
    expect(r.ops).toBe(state.issuedMeasured);
    // Rates are over the measured part only: it starts no earlier than the ramp's end.
    expect(r.seconds).toBeLessThanOrEqual(elapsed - 0.1);
    expect(r.iops).toBeCloseTo(r.ops / r.seconds);
  });
});

describe('median', () => {
  it('is the middle value of an odd count, and the mean of the two middle ones of an even count', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([0.33, 2.5, 0.53, 1.5])).toBeCloseTo(1.015);
    expect(median([5])).toBe(5);
  });
});
