import { describe, expect, it } from 'vitest';
import { Throttle } from './throttle';

/** A throttle on a fake clock: sleeping advances time, and every sleep is recorded. */
function fake(limit: number) {
  let now = 1_000;
  const slept: number[] = [];
  const t = new Throttle(
    limit,
    async (ms) => {
      slept.push(ms);
      now += ms;
    },
    () => now,
  );
  return { t, slept, elapsed: () => now - 1_000 };
}

describe('Throttle', () => {
  it('pace: after a batch, waits until the bytes so far fit the limit, in steps of at most 100 ms', async () => {
    const { t, slept, elapsed } = fake(1000);
    await t.pace(500, () => false);
    expect(elapsed()).toBe(500);
    expect(Math.max(...slept)).toBeLessThanOrEqual(100);
    await t.pace(250, () => false);
    expect(elapsed()).toBe(750);
  });

  it('admit: the first bytes go at once; later ones wait for those before them', async () => {
    const { t, elapsed } = fake(1000);
    await t.admit(400, () => false);
    expect(elapsed()).toBe(0);
    await t.admit(100, () => false);
    expect(elapsed()).toBe(400);
    await t.admit(100, () => false);
    expect(elapsed()).toBe(500);
  });

  it('a limit of 0 never waits, and stopping cuts a wait short', async () => {
    const none = fake(0);
    await none.t.pace(10 ** 9, () => false);
    await none.t.admit(10 ** 9, () => false);
    expect(none.slept).toEqual([]);
    const { t, slept } = fake(1000);
    await t.admit(10_000, () => false);
    let calls = 0;
    await t.admit(1, () => ++calls > 2);
    expect(slept).toHaveLength(2);
  });
});
