/**
 * Retransmission timeout per RFC 6298: SRTT and RTTVAR from round-trip
 * samples, RTO = SRTT + 4·RTTVAR clamped to [min, max], doubled on each
 * timeout. Karn's rule is the caller's part: only segments sent once give
 * samples, since an ack for a retransmitted segment is ambiguous.
 */
export interface RtoLimits {
  /** Before the first sample (RFC 6298 says 1 s; loopback-scale paths use less). */
  initial: number;
  min: number;
  max: number;
}

/** The 60 ms floor is above a shared host's scheduling stalls (20–50 ms measured): below it most timeouts were spurious. */
export const DEFAULT_RTO: RtoLimits = { initial: 100, min: 60, max: 2000 };

const ALPHA = 1 / 8;
const BETA = 1 / 4;
/** RFC 6298's K. */
const K = 4;

export class RtoEstimator {
  private smoothed: number | undefined;
  private variation = 0;
  private current: number;
  private samples = 0;
  private minimum = Infinity;

  constructor(private readonly limits: RtoLimits = DEFAULT_RTO) {
    this.current = limits.initial;
  }

  /** Milliseconds until an unacknowledged segment is sent again. */
  get rto(): number {
    return this.current;
  }

  /** Smoothed RTT, or undefined before the first sample. */
  get srtt(): number | undefined {
    return this.smoothed;
  }

  get rttvar(): number {
    return this.variation;
  }

  /** The smallest sample seen: the path's own round trip, without queueing at either end. */
  get minRtt(): number | undefined {
    return this.minimum === Infinity ? undefined : this.minimum;
  }

  get sampleCount(): number {
    return this.samples;
  }

  sample(rtt: number): void {
    if (!(rtt >= 0) || !Number.isFinite(rtt)) return;
    this.samples++;
    if (rtt < this.minimum) this.minimum = rtt;
    if (this.smoothed === undefined) {
      this.smoothed = rtt;
      this.variation = rtt / 2;
    } else {
      this.variation = (1 - BETA) * this.variation + BETA * Math.abs(this.smoothed - rtt);
      this.smoothed = (1 - ALPHA) * this.smoothed + ALPHA * rtt;
    }
    this.current = this.clamp(this.smoothed + K * this.variation);
  }

  /** A timeout: back off exponentially until the next fresh sample. */
  backoff(): void {
    this.current = this.clamp(this.current * 2);
  }

  private clamp(v: number): number {
    return Math.min(this.limits.max, Math.max(this.limits.min, v));
  }
}
