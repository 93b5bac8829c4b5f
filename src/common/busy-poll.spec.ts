import { describe, expect, it } from 'vitest';
import { BusyPoll } from './busy-poll';

/** A BusyPoll on a hand-moved clock, with its scheduled turns run one at a time. */
function harness(windowMicros: number) {
  let t = 0;
  const queued: Array<() => void> = [];
  const poll = new BusyPoll(windowMicros, () => t, (fn) => queued.push(fn));
  const advance = (micros: number) => (t += micros / 1000);
  /** Runs the next scheduled turn; false when none was scheduled. */
  const step = () => {
    const fn = queued.shift();
    fn?.();
    return fn !== undefined;
  };
  return { poll, advance, step, queued };
}

describe('BusyPoll', () => {
  it('keeps scheduling turns until the window after the last touch has passed, then stops', () => {
    const { poll, advance, step, queued } = harness(50);
    expect(poll.active).toBe(false);
    poll.touch();
    expect(poll.active).toBe(true);
    let turns = 0;
    while (step()) {
      turns++;
      advance(10);
    }
    // Turns at 0, 10, 20, 30, 40 µs reschedule; the one at 50 µs finds the window closed.
    expect(turns).toBe(6);
    expect(poll.active).toBe(false);
    expect(queued).toHaveLength(0);
  });

  it('a touch while polling extends the window without a second chain of turns', () => {
    const { poll, advance, step, queued } = harness(50);
    poll.touch();
    advance(40);
    poll.touch();
    expect(queued).toHaveLength(1);
    let turns = 0;
    while (step()) {
      turns++;
      advance(10);
      expect(queued.length).toBeLessThanOrEqual(1);
    }
    // Open until 90 µs: turns at 40, 50, 60, 70, 80 reschedule, the one at 90 stops.
    expect(turns).toBe(6);
  });

  it('starts again after the window has closed', () => {
    const { poll, advance, step } = harness(20);
    poll.touch();
    advance(30);
    expect(step()).toBe(true);
    expect(poll.active).toBe(false);
    poll.touch();
    expect(poll.active).toBe(true);
    expect(step()).toBe(true);
  });

  it('does nothing with a window of 0', () => {
    const { poll, queued } = harness(0);
    poll.touch();
    expect(poll.active).toBe(false);
    expect(queued).toHaveLength(0);
  });

  it('refuses a window that is negative, not a number, or past the maximum', () => {
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, 10_001]) expect(() => new BusyPoll(bad)).toThrow(RangeError);
    expect(() => new BusyPoll(10_000)).not.toThrow();
  });

  it('on the real loop, ends by itself', async () => {
    const poll = new BusyPoll(200);
    poll.touch();
    expect(poll.active).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    // A turn still pending was scheduled before this one, so it runs first and finds the window closed.
    await new Promise((r) => setImmediate(r));
    expect(poll.active).toBe(false);
  });
});
