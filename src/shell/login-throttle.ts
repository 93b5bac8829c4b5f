export interface ThrottleOptions {
  /** Failures within `windowMs` that block a source. */
  maxFailures: number;
  windowMs: number;
  /** The first block; each further one doubles, up to `maxBlockMs`. */
  blockMs: number;
  maxBlockMs: number;
  /** Sources remembered at most; the least recently seen is forgotten first. */
  maxSources: number;
  now: () => number;
}

export const DEFAULT_THROTTLE: ThrottleOptions = {
  maxFailures: 5,
  windowMs: 60_000,
  blockMs: 60_000,
  maxBlockMs: 15 * 60_000,
  maxSources: 10_000,
  now: Date.now,
};

interface Source {
  /** Times of the recent failures, at most maxFailures of them. */
  failures: number[];
  blockedUntil: number;
  /** Blocks so far: the next one lasts blockMs × 2^blocks. */
  blocks: number;
  lastSeen: number;
}

/**
 * Failed SSH logins per source address. A source that fails `maxFailures`
 * times within `windowMs` is refused for a while, longer each time it comes
 * back for more; a success forgets it. Memory stays bounded whatever the
 * number of addresses an attacker uses.
 */
export class LoginThrottle {
  private readonly sources = new Map<string, Source>();

  constructor(private readonly opts: ThrottleOptions = DEFAULT_THROTTLE) {}

  /** How much longer this source is refused, in ms; 0 when it may try. */
  blockedFor(source: string): number {
    const entry = this.sources.get(source);
    return entry ? Math.max(0, entry.blockedUntil - this.opts.now()) : 0;
  }

  /** Count a failure; returns how long the block it started lasts (ms), or 0 when it started none. */
  failure(source: string): number {
    const now = this.opts.now();
    const entry = this.touch(source, now);
    entry.failures = [...entry.failures.filter((t) => now - t < this.opts.windowMs), now].slice(-this.opts.maxFailures);
    if (entry.failures.length < this.opts.maxFailures) return 0;
    const block = Math.min(this.opts.blockMs * 2 ** entry.blocks, this.opts.maxBlockMs);
    entry.blocks++;
    entry.blockedUntil = now + block;
    entry.failures = [];
    return block;
  }

  success(source: string): void {
    this.sources.delete(source);
  }

  get size(): number {
    return this.sources.size;
  }

  /** The entry of a source, moved to the back of the forgetting order. */
  private touch(source: string, now: number): Source {
    let entry = this.sources.get(source);
    this.sources.delete(source);
    // Quiet for longer than the longest block: start over, as a stranger.
    if (entry && now - entry.lastSeen > this.opts.maxBlockMs && entry.blockedUntil <= now) entry = undefined;
    entry ??= { failures: [], blockedUntil: 0, blocks: 0, lastSeen: now };
    entry.lastSeen = now;
    this.sources.set(source, entry);
    while (this.sources.size > this.opts.maxSources) {
      const oldest = this.sources.keys().next().value as string;
      this.sources.delete(oldest);
    }
    return entry;
  }
}
