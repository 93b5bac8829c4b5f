import { describe, expect, it } from 'vitest';
import { INLINE_WRITE_MAX, InlineIoPolicy, MAX_BACKOFF_IOS, MIN_BACKOFF_IOS, READ_SLOW_BASE_MS, TURN_BUDGET_MS, TurnBudget, WRITE_SLOW_BASE_MS } from './inline-io-policy';

const KiB = 1024;
const MiB = 1024 * KiB;
const IO = 4 * KiB;

const INLINE_IO_MAX = INLINE_WRITE_MAX;

function policy(max = INLINE_IO_MAX): InlineIoPolicy {
  // An unlimited turn budget: these cases are about the policy's own timing rules.
  return new InlineIoPolicy(READ_SLOW_BASE_MS, max, new TurnBudget(Infinity));
}

/** An inline I/O of `length` taking a tenth of (fast) or a hundred times (slow) what counts as slow. */
function run(p: InlineIoPolicy, how: 'fast' | 'slow', length = IO): void {
  expect(p.inline(length)).toBe(true);
  p.took(length, p.slowMs(length) * (how === 'fast' ? 0.1 : 100));
}

/** How many I/Os of 4 KiB go to the pool before the next inline one. */
function pooledBeforeNextInline(p: InlineIoPolicy): number {
  let n = 0;
  while (!p.inline(IO)) n++;
  return n;
}

/** Two slow inline I/Os in a row; how many then go to the pool. */
function slowPair(p: InlineIoPolicy): number {
  run(p, 'slow');
  run(p, 'slow');
  return pooledBeforeNextInline(p);
}

describe('InlineIoPolicy', () => {
  it('runs I/O up to the maximum inline while it is fast, larger I/O never', () => {
    const p = policy();
    for (let i = 0; i < 1000; i++) run(p, 'fast');
    run(p, 'fast', INLINE_IO_MAX);
    expect(p.inline(INLINE_IO_MAX + 1)).toBe(false);
    expect(p.inline(32 * MiB)).toBe(false);
    expect(p.inline(512)).toBe(true);
    expect(policy(16 * KiB).inline(16 * KiB + 1)).toBe(false);
  });

  it('allows more time for larger I/O, and for writes than for reads', () => {
    const p = policy();
    expect(p.slowMs(MiB)).toBeGreaterThan(p.slowMs(IO));
    expect(new InlineIoPolicy(WRITE_SLOW_BASE_MS, INLINE_IO_MAX, new TurnBudget(Infinity)).slowMs(IO)).toBeGreaterThan(p.slowMs(IO));
    // Twice what is slow for 4 KiB, over and over, is fast for 1 MiB.
    for (let i = 0; i < 10; i++) {
      expect(p.inline(MiB)).toBe(true);
      p.took(MiB, p.slowMs(IO) * 2);
    }
    expect(p.inline(IO)).toBe(true);
  });

  it('keeps going inline after one slow I/O (a preempted thread), backs off after two in a row', () => {
    const p = policy();
    for (let i = 0; i < 20; i++) {
      run(p, 'slow');
      run(p, 'fast');
    }
    expect(slowPair(p)).toBe(MIN_BACKOFF_IOS);
  });

  it('probes inline after the backoff; a fast probe goes back to inline', () => {
    const p = policy();
    expect(slowPair(p)).toBe(MIN_BACKOFF_IOS);
    p.took(IO, 0);
    for (let i = 0; i < 10; i++) run(p, 'fast');
    // A later slow pair starts again from the shortest backoff.
    expect(slowPair(p)).toBe(MIN_BACKOFF_IOS);
  });

  it('doubles the backoff while probes stay slow, up to a bound', () => {
    const p = policy();
    const seen = [slowPair(p)];
    for (let i = 0; i < 11; i++) {
      // The probe itself is the I/O pooledBeforeNextInline let through.
      p.took(IO, p.slowMs(IO) * 100);
      seen.push(pooledBeforeNextInline(p));
    }
    expect(seen).toEqual(seen.map((_, i) => Math.min(MIN_BACKOFF_IOS * 2 ** i, MAX_BACKOFF_IOS)));
    expect(seen.at(-1)).toBe(MAX_BACKOFF_IOS);
  });

  it('does not count I/O too large to run inline against the backoff', () => {
    const p = policy();
    expect(slowPair(p)).toBe(MIN_BACKOFF_IOS);
    p.took(IO, p.slowMs(IO) * 100);
    for (let i = 0; i < 10 * MIN_BACKOFF_IOS; i++) expect(p.inline(2 * INLINE_IO_MAX)).toBe(false);
    expect(pooledBeforeNextInline(p)).toBe(2 * MIN_BACKOFF_IOS);
  });

  it('sends I/O to the pool once a turn of the event loop has spent its inline budget, and inlines again in the next turn', async () => {
    const budget = new TurnBudget(TURN_BUDGET_MS);
    const reads = new InlineIoPolicy(READ_SLOW_BASE_MS, INLINE_IO_MAX, budget);
    const writes = new InlineIoPolicy(WRITE_SLOW_BASE_MS, INLINE_IO_MAX, budget);
    // Fast I/O, each well under its slow mark: only the budget, shared by both directions, stops them.
    let n = 0;
    while (reads.inline(IO) && n < 10_000) {
      reads.took(IO, 0.02);
      writes.took(IO, 0.02);
      n++;
    }
    expect(n).toBe(Math.ceil(TURN_BUDGET_MS / 0.04));
    expect(writes.inline(IO)).toBe(false);
    // A loop that keeps going through the pool reaches the end of the turn; then inline I/O is back.
    await new Promise((r) => setImmediate(r));
    expect(reads.inline(IO)).toBe(true);
    expect(writes.inline(IO)).toBe(true);
  });
});
