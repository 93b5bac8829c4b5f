import type { Clock } from '../san/transport/clock';
import type { ClientSession } from './client-session';
import { NoPath } from './san-error';

/**
 * A client's sessions as paths to its volumes: which can carry a volume's
 * calls now (up, and its DISCOVER listed the volume), and a wait for one to
 * come up when none can. Sessions report their state changes here.
 */
export class PathSet {
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly sessions: ClientSession[],
    private readonly clock: Clock,
    /** How long a call waits for a path when every one is down, before it fails. */
    readonly waitMs: number,
  ) {}

  now(): number {
    return this.clock.now();
  }

  /** A session went down or came back. */
  changed(): void {
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }

  usable(s: ClientSession, volumeId: string): boolean {
    return s.up && s.knows(volumeId);
  }

  /** The least busy session that can carry the volume's calls, if any. */
  pick(volumeId: string): ClientSession | undefined {
    let best: ClientSession | undefined;
    for (const s of this.sessions) if (this.usable(s, volumeId) && (!best || s.inFlight < best.inFlight)) best = s;
    return best;
  }

  /** Every session that can carry the volume's calls now. */
  all(volumeId: string): ClientSession[] {
    return this.sessions.filter((s) => this.usable(s, volumeId));
  }

  /** Wait until some session can carry the volume's calls; NoPath once `deadline` (clock time) passes. */
  async wait(volumeId: string, volumeName: string, deadline: number): Promise<ClientSession> {
    for (;;) {
      const s = this.pick(volumeId);
      if (s) return s;
      const left = deadline - this.clock.now();
      if (left <= 0) {
        const paths = this.sessions.map((x) => ({ gateway: x.address, reason: x.up ? `volume '${volumeName}' not listed by this session` : (x.stats().lastError ?? 'down') }));
        throw new NoPath(volumeName, this.waitMs, paths);
      }
      await new Promise<void>((resolve) => {
        const timer = this.clock.setTimer(left, () => {
          this.waiters.delete(wake);
          resolve();
        });
        const wake = () => {
          this.clock.clearTimer(timer);
          resolve();
        };
        this.waiters.add(wake);
      });
    }
  }
}
