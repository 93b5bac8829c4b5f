/**
 * Time for the transport, injectable so retransmission, pacing and idle
 * timeouts are tested with a fake clock (test/utils/fake-clock.ts) instead of
 * waiting. Milliseconds, fractional.
 */
export interface Clock {
  now(): number;
  setTimer(ms: number, fn: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

export type TimerHandle = { readonly id: unknown };

interface SystemTimer extends TimerHandle {
  immediate: boolean;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(ms, fn): SystemTimer {
    // Below a millisecond setTimeout would round up to 1 ms: the next turn of the event loop is closer.
    if (ms < 1) return { id: setImmediate(fn).unref(), immediate: true };
    // A pending retransmission must not keep a finished process alive.
    return { id: setTimeout(fn, ms).unref(), immediate: false };
  },
  clearTimer(handle) {
    const h = handle as SystemTimer;
    if (h.immediate) clearImmediate(h.id as NodeJS.Immediate);
    else clearTimeout(h.id as NodeJS.Timeout);
  },
};
