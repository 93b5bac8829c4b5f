import { describe, expect, it } from 'vitest';
import { CongestionWindow } from './congestion-window';

describe('CongestionWindow (AIMD)', () => {
  it('grows by one segment per acked segment in slow start, up to the maximum', () => {
    const w = new CongestionWindow({ initial: 4, min: 2, max: 20 });
    w.onAcked(4);
    expect(w.size).toBe(8);
    w.onAcked(100);
    expect(w.size).toBe(20);
  });

  it('halves on loss, then grows by one per window of acks', () => {
    const w = new CongestionWindow({ initial: 32, min: 2, max: 1000 });
    w.onLoss();
    expect(w.size).toBe(16);
    w.onAcked(15);
    expect(w.size).toBe(16);
    w.onAcked(1);
    expect(w.size).toBe(17);
    w.onAcked(17);
    expect(w.size).toBe(18);
  });

  it('counts a burst of losses within one window as one event', () => {
    const w = new CongestionWindow({ initial: 32, min: 2, max: 1000 });
    w.onLoss();
    w.onLoss();
    w.onAcked(5);
    w.onLoss();
    expect(w.size).toBe(16);
    w.onAcked(16);
    w.onLoss();
    expect(w.size).toBe(8);
  });

  it('drops to at most the initial window on a timeout and never below the minimum', () => {
    const w = new CongestionWindow({ initial: 8, min: 2, max: 1000 });
    w.onAcked(200);
    expect(w.size).toBe(208);
    w.onTimeout();
    expect(w.size).toBe(8);
    for (let i = 0; i < 10; i++) {
      w.onAcked(w.size);
      w.onTimeout();
    }
    expect(w.size).toBeGreaterThanOrEqual(2);
  });

  it('gives back what a spurious timeout took, once, and not after a real loss', () => {
    const w = new CongestionWindow({ initial: 8, min: 2, max: 1000 });
    w.onAcked(92);
    expect(w.size).toBe(100);
    w.onTimeout();
    expect(w.size).toBe(8);
    w.undoTimeout();
    expect(w.size).toBe(100);
    w.undoTimeout();
    expect(w.size).toBe(100);
    const v = new CongestionWindow({ initial: 8, min: 2, max: 1000 });
    v.onAcked(92);
    v.onTimeout();
    v.onAcked(8);
    v.onLoss();
    v.undoTimeout();
    // The loss (no second halving within a window) voids the undo: the window stays where slow start took it.
    expect(v.size).toBe(16);
  });
});
