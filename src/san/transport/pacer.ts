/**
 * Spreads a window of segments over the smoothed RTT instead of sending it as
 * one burst (unpaced UDP from Node loses 17–80 % on loopback: PEERS.md).
 * A token bucket: `window / srtt` segments per millisecond, holding at most
 * `burst` tokens, so a sender that was idle cannot dump a whole window at once.
 */
/** 10 µs: below this a wait is rounding noise. */
const MIN_WAIT = 0.01;

export class Pacer {
  private tokens: number;
  private last: number | undefined;

  constructor(private readonly burst: number) {
    this.tokens = burst;
  }

  /** Refill for the time since the last call, at `window` segments per `srtt` ms. */
  refill(now: number, window: number, srtt: number): void {
    if (this.last !== undefined) {
      const rate = window / Math.max(srtt, 0.05);
      this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * rate);
    }
    this.last = now;
  }

  /** Take a token for one segment; false when the sender must wait. */
  take(): boolean {
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until the next token, at the given rate; never so small that the clock would not move. */
  wait(window: number, srtt: number): number {
    const rate = window / Math.max(srtt, 0.05);
    return Math.max(MIN_WAIT, (1 - this.tokens) / rate);
  }
}
