import { describe, expect, it } from 'vitest';
import { LoginThrottle, type ThrottleOptions } from './login-throttle';

function throttle(overrides: Partial<ThrottleOptions> = {}) {
  const clock = { t: 1_000_000 };
  const t = new LoginThrottle({
    maxFailures: 3,
    windowMs: 60_000,
    blockMs: 60_000,
    maxBlockMs: 240_000,
    maxSources: 100,
    now: () => clock.t,
    ...overrides,
  });
  return { t, clock };
}

describe('LoginThrottle', () => {
  it('blocks a source after maxFailures within the window, for blockMs', () => {
    const { t, clock } = throttle();
    expect(t.failure('10.0.0.1')).toBe(0);
    expect(t.failure('10.0.0.1')).toBe(0);
    expect(t.blockedFor('10.0.0.1')).toBe(0);
    expect(t.failure('10.0.0.1')).toBe(60_000);
    expect(t.blockedFor('10.0.0.1')).toBe(60_000);
    expect(t.blockedFor('10.0.0.2')).toBe(0);
    clock.t += 59_000;
    expect(t.blockedFor('10.0.0.1')).toBe(1000);
    clock.t += 1000;
    expect(t.blockedFor('10.0.0.1')).toBe(0);
  });

  it('forgets failures older than the window', () => {
    const { t, clock } = throttle();
    t.failure('a');
    t.failure('a');
    clock.t += 61_000;
    expect(t.failure('a')).toBe(0);
    expect(t.failure('a')).toBe(0);
    expect(t.failure('a')).toBe(60_000);
  });

  it('doubles the block each time the source comes back for more, up to maxBlockMs', () => {
    const { t, clock } = throttle();
    const blocks: number[] = [];
    for (let round = 0; round < 4; round++) {
      t.failure('a');
      t.failure('a');
      blocks.push(t.failure('a'));
      clock.t += t.blockedFor('a');
    }
    expect(blocks).toEqual([60_000, 120_000, 240_000, 240_000]);
  });

  it('forgets a source on success, and after it kept quiet longer than the longest block', () => {
    const { t, clock } = throttle();
    for (let i = 0; i < 3; i++) t.failure('a');
    clock.t += 60_000;
    t.success('a');
    t.failure('a');
    t.failure('a');
    expect(t.failure('a')).toBe(60_000);
    clock.t += 60_000 + 240_001;
    t.failure('a');
    t.failure('a');
    expect(t.failure('a')).toBe(60_000);
  });

  it('remembers at most maxSources addresses, forgetting the least recently seen', () => {
    const { t } = throttle({ maxSources: 3 });
    for (let i = 0; i < 3; i++) t.failure('old');
    for (const ip of ['b', 'c', 'd', 'e']) t.failure(ip);
    expect(t.size).toBe(3);
    expect(t.blockedFor('old')).toBe(0);
    t.failure('c');
    t.failure('f');
    expect(t.size).toBe(3);
    // 'c' was seen again, so 'd' went first.
    t.failure('c');
    expect(t.blockedFor('c')).toBe(60_000);
  });
});
