import { describe, expect, it } from 'vitest';
import { INLINE_READ_MAX, InlineReadPolicy, MAX_BACKOFF_READS, MIN_BACKOFF_READS, SLOW_INLINE_READ_MS } from './inline-read-policy';

const FAST = SLOW_INLINE_READ_MS / 10;
const SLOW = SLOW_INLINE_READ_MS * 100;

/** How many reads of 4 KiB go to the pool before the next inline one. */
function pooledBeforeNextInline(policy: InlineReadPolicy): number {
  let n = 0;
  while (!policy.inline(4096)) n++;
  return n;
}

describe('InlineReadPolicy', () => {
  it('reads small requests inline while they are fast, large ones never', () => {
    const policy = new InlineReadPolicy();
    for (let i = 0; i < 1000; i++) {
      expect(policy.inline(4096)).toBe(true);
      policy.took(FAST);
    }
    expect(policy.inline(INLINE_READ_MAX)).toBe(true);
    policy.took(FAST);
    expect(policy.inline(INLINE_READ_MAX + 1)).toBe(false);
    expect(policy.inline(2 ** 20)).toBe(false);
    expect(policy.inline(512)).toBe(true);
  });

  it('sends the next reads to the pool after a slow one, then probes inline again', () => {
    const policy = new InlineReadPolicy();
    expect(policy.inline(4096)).toBe(true);
    policy.took(SLOW);
    expect(pooledBeforeNextInline(policy)).toBe(MIN_BACKOFF_READS);
    // A fast probe: inline again from now on.
    policy.took(FAST);
    for (let i = 0; i < 10; i++) {
      expect(policy.inline(4096)).toBe(true);
      policy.took(FAST);
    }
  });

  it('doubles the backoff while probes stay slow, up to a bound, and resets it on a fast probe', () => {
    const policy = new InlineReadPolicy();
    expect(policy.inline(4096)).toBe(true);
    const seen: number[] = [];
    for (let i = 0; i < 12; i++) {
      policy.took(SLOW);
      seen.push(pooledBeforeNextInline(policy));
    }
    const expected = seen.map((_, i) => Math.min(MIN_BACKOFF_READS * 2 ** i, MAX_BACKOFF_READS));
    expect(seen).toEqual(expected);
    expect(seen.at(-1)).toBe(MAX_BACKOFF_READS);
    policy.took(FAST);
    expect(policy.inline(4096)).toBe(true);
    policy.took(SLOW);
    expect(pooledBeforeNextInline(policy)).toBe(MIN_BACKOFF_READS);
  });

  it('does not count large reads, which always go to the pool, against the backoff', () => {
    const policy = new InlineReadPolicy();
    expect(policy.inline(4096)).toBe(true);
    policy.took(SLOW);
    for (let i = 0; i < 10 * MIN_BACKOFF_READS; i++) expect(policy.inline(2 ** 20)).toBe(false);
    expect(pooledBeforeNextInline(policy)).toBe(MIN_BACKOFF_READS);
  });
});
