import { describe, expect, it } from 'vitest';
import { BusyPoll, LoopPoll } from './busy-poll';

/** A BusyPoll on a hand-moved clock, with its scheduled turns run one at a time. */
function harness(windowMicros: number) {
  // Whole microseconds, so that sums of steps land exactly on a window's end.
  let micros = 0;
  const queued: Array<() => void> = [];
  const loop = new LoopPoll(() => micros / 1000, (fn) => queued.push(fn));
  const poll = new BusyPoll(windowMicros, loop);
  const advance = (by: number) => (micros += by);
  /** Runs the next scheduled turn; false when none was scheduled. */
  const step = () => {
    const fn = queued.shift();
    fn?.();
    return fn !== undefined;
  };
  /** Runs turns until the chain stops, `every` µs apart; how many ran, and the most ever queued at once. */
  const runTurns = (every: number) => {
    let turns = 0;
    let mostQueued = queued.length;
    while (step()) {
      turns++;
      advance(every);
      mostQueued = Math.max(mostQueued, queued.length);
    }
    return { turns, mostQueued };
  };
  return { poll, loop, advance, step, queued, runTurns };
}

describe('BusyPoll', () => {
  it('keeps scheduling turns until the window after the last touch has passed, then stops', () => {
    const { poll, queued, runTurns } = harness(50);
    expect(poll.active).toBe(false);
    poll.touch();
    expect(poll.active).toBe(true);
    // Turns at 0, 10, 20, 30, 40 µs reschedule; the one at 50 µs finds the window closed.
    expect(runTurns(10).turns).toBe(6);
    expect(poll.active).toBe(false);
    expect(queued).toHaveLength(0);
  });

  it('a touch while polling extends the window without a second chain of turns', () => {
    const { poll, advance, queued, runTurns } = harness(50);
    poll.touch();
    advance(40);
    poll.touch();
    expect(queued).toHaveLength(1);
    // Open until 90 µs: turns at 40, 50, 60, 70, 80 reschedule, the one at 90 stops; never two chains.
    expect(runTurns(10)).toEqual({ turns: 6, mostQueued: 1 });
  });

  it('windows of several front ends share one chain, and a shorter touch never cuts a longer window short', () => {
    const { poll, loop, advance, queued, runTurns } = harness(100);
    const short = new BusyPoll(20, loop);
    poll.touch();
    advance(10);
    short.touch();
    expect(queued).toHaveLength(1);
    // Open until 100 µs (not 30): turns at 10 ... 90 reschedule, the one at 100 stops.
    expect(runTurns(10)).toEqual({ turns: 10, mostQueued: 1 });
    expect(short.active).toBe(false);
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
