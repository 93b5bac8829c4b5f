/**
 * How many segments a sender may have in flight, in segments (docs/san-protocol.md,
 * section 6): slow start from `initial` up to the threshold, then additive
 * increase of one segment per window of acks; multiplicative decrease on loss.
 * A loss event halves the window at most once per window of data, so a burst of
 * holes reported by one ACK is one loss, not several.
 */
export interface CongestionLimits {
  initial: number;
  min: number;
  max: number;
}

export const DEFAULT_CONGESTION: CongestionLimits = { initial: 16, min: 2, max: 4096 };

export class CongestionWindow {
  private window: number;
  private threshold: number;
  /** Acked segments still owed to the next +1 in congestion avoidance. */
  private credit = 0;
  /** Segments acked since the last decrease; another decrease waits for a window's worth. */
  private sinceDecrease = Infinity;
  /** Window and threshold before the last timeout, until an ACK shows whether that timeout was spurious. */
  private beforeTimeout: { window: number; threshold: number } | undefined;

  constructor(private readonly limits: CongestionLimits = DEFAULT_CONGESTION) {
    this.window = limits.initial;
    this.threshold = limits.max;
  }

  /** Segments allowed in flight (whole). */
  get size(): number {
    return Math.floor(this.window);
  }

  onAcked(segments: number): void {
    this.sinceDecrease += segments;
    if (this.window < this.threshold) {
      this.window = Math.min(this.threshold, this.window + segments);
      return;
    }
    this.credit += segments;
    while (this.credit >= this.window) {
      this.credit -= this.window;
      this.window = Math.min(this.limits.max, this.window + 1);
    }
  }

  /** A hole reported repeatedly by ACKs: halve, once per window. */
  onLoss(): void {
    this.beforeTimeout = undefined;
    if (this.sinceDecrease < this.window) return;
    this.threshold = Math.max(this.limits.min, this.window / 2);
    this.window = this.threshold;
    this.sinceDecrease = 0;
    this.credit = 0;
  }

  /** A retransmission timeout: the path may have changed; halve, and restart slow start below the threshold. */
  onTimeout(): void {
    if (this.sinceDecrease < this.window) return;
    this.beforeTimeout = { window: this.window, threshold: this.threshold };
    this.threshold = Math.max(this.limits.min, this.window / 2);
    this.window = Math.max(this.limits.min, Math.min(this.limits.initial, this.threshold));
    this.sinceDecrease = 0;
    this.credit = 0;
  }

  /**
   * The last timeout was spurious: an ACK covered data it had declared lost
   * before any of it was sent again, so nothing was lost and the path is not
   * congested (the peer was only late, e.g. not scheduled on a busy host).
   * Restore the window it took, as TCP's Eifel response does (RFC 4015).
   */
  undoTimeout(): void {
    const b = this.beforeTimeout;
    if (!b) return;
    this.beforeTimeout = undefined;
    this.window = Math.max(this.window, b.window);
    this.threshold = Math.max(this.threshold, b.threshold);
  }
}
