/**
 * Spreads a window of segments over the RTT instead of sending it as one
 * burst (unpaced UDP from Node loses 17–80 % on loopback: PEERS.md).
 * A token bucket: `2 × window / rtt` segments per millisecond, as Linux paces
 * TCP in slow start (the window, not the pacer, is what bounds the rate; the
 * pacer only breaks it into bursts), holding at most half a window (and at
 * least `minBurst`) so a sender that was idle cannot dump a whole window at once.
 */
/** 10 µs: below this a wait is rounding noise. */
const MIN_WAIT = 0.01;
const GAIN = 2;

export class Pacer {
  private tokens: number;
  private last: number | undefined;

  constructor(private readonly minBurst: number) {
    this.tokens = minBurst;
  }

  /** Refill for the time since the last call, for a window of `window` segments per `rtt` ms. */
  refill(now: number, window: number, rtt: number): void {
    if (this.last !== undefined) {
      const cap = Math.max(this.minBurst, window / 2);
      this.tokens = Math.min(cap, this.tokens + (now - this.last) * rate(window, rtt));
    }
    this.last = now;
  }

  /** Take a token for one segment; false when the sender must wait. */
  take(): boolean {
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until the next token; never so small that the clock would not move. */
  wait(window: number, rtt: number): number {
    return Math.max(MIN_WAIT, (1 - this.tokens) / rate(window, rtt));
  }
}

const rate = (window: number, rtt: number) => (GAIN * window) / Math.max(rtt, 0.05);
