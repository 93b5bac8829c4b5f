import { describe, expect, it } from 'vitest';
import { Prng } from '../common/prng';
import { REPLAY_WINDOW, ReplayWindow } from './replay-window';

describe('ReplayWindow', () => {
  it('accepts each number once, in any order inside the window', () => {
    const w = new ReplayWindow();
    expect([1n, 3n, 2n, 3n, 1n, 5n, 4n, 4n].map((n) => w.accept(n))).toEqual([true, true, true, false, false, true, true, false]);
  });

  it('refuses zero and numbers left of the window', () => {
    const w = new ReplayWindow();
    expect(w.accept(0n)).toBe(false);
    expect(w.accept(5000n)).toBe(true);
    expect(w.accept(5000n - BigInt(REPLAY_WINDOW) + 1n)).toBe(true);
    expect(w.accept(5000n - BigInt(REPLAY_WINDOW))).toBe(false);
    expect(w.accept(1n)).toBe(false);
  });

  it('matches a set model under random reordering and duplication', () => {
    const prng = new Prng(5);
    const w = new ReplayWindow();
    const seen = new Set<bigint>();
    let highest = 0n;
    for (let i = 0; i < 50_000; i++) {
      const n = BigInt(Math.max(1, Number(highest) + prng.int(-1100, 40)));
      const fresh = !seen.has(n) && n > highest - BigInt(REPLAY_WINDOW);
      expect(w.accept(n), `packet ${n} (highest ${highest})`).toBe(fresh);
      if (fresh) {
        seen.add(n);
        if (n > highest) highest = n;
      }
    }
  });
});
