import { describe, expect, it } from 'vitest';
import { POOLED_MIN, ReplyBuffers } from './reply-buffers';
import { newSanStats } from './san-stats';

const KiB = 2 ** 10;
const MiB = 2 ** 20;

/** A pool whose end-of-turn step runs when the test says, on a socket with `queued` sends waiting. */
function pool(opts: { classBytes?: number } = {}) {
  const stats = newSanStats();
  const turns: (() => void)[] = [];
  const socket = { queued: 0 };
  const p = new ReplyBuffers(stats, 8, () => socket.queued, opts.classBytes, (fn) => turns.push(fn));
  const endTurn = () => {
    for (const fn of turns.splice(0)) fn();
  };
  return { p, stats, socket, endTurn };
}

describe('ReplyBuffers', () => {
  it('lends small replies fresh and never takes them back', () => {
    const { p, stats, endTurn } = pool();
    const small = p.take(POOLED_MIN - 4 * KiB);
    expect(small.length).toBe(8 + POOLED_MIN - 4 * KiB);
    expect(p.owns(small)).toBe(false);
    p.give(small);
    endTurn();
    expect(p.take(POOLED_MIN - 4 * KiB).buffer).not.toBe(small.buffer);
    expect(stats.replyBuffersReused).toBe(0);
  });

  it('reuses a large reply buffer only after the turn it was given back in', () => {
    const { p, stats, endTurn } = pool();
    const a = p.take(MiB);
    expect(a.length).toBe(8 + MiB);
    expect(p.owns(a)).toBe(true);
    p.give(a);
    expect(p.owns(a)).toBe(false);
    // Same turn: a segment of `a` may still wait in the batcher, so a new reply gets other memory.
    const b = p.take(MiB);
    expect(b.buffer).not.toBe(a.buffer);
    endTurn();
    const c = p.take(MiB);
    expect(c.buffer).toBe(a.buffer);
    expect(stats.replyBuffersReused).toBe(1);
  });

  it('frees a buffer only in a deferral scheduled after it was given back, not in one already pending', () => {
    // A batcher flush scheduled before a give may still send from the buffer; a deferral scheduled earlier
    // than that flush must not free it.
    const stats = newSanStats();
    const queue: (() => void)[] = [];
    const p = new ReplyBuffers(stats, 8, () => 0, undefined, (fn) => queue.push(fn));
    const x = p.take(MiB);
    const b = p.take(MiB);
    p.give(x);
    const flush = () => undefined;
    queue.push(flush);
    p.give(b);
    // x's deferral, then the flush: b is not free yet.
    queue.shift()!();
    queue.shift()!();
    expect(p.take(MiB).buffer).toBe(x.buffer);
    expect(p.take(MiB).buffer).not.toBe(b.buffer);
    queue.shift()!();
    expect(p.take(MiB).buffer).toBe(b.buffer);
  });

  it('keeps buffers by size class: a 300 KiB reply reuses a 512 KiB buffer, never a smaller one', () => {
    const { p, endTurn } = pool();
    const half = p.take(512 * KiB);
    const quarter = p.take(256 * KiB);
    p.give(half);
    p.give(quarter);
    endTurn();
    const r = p.take(300 * KiB);
    expect(r.length).toBe(8 + 300 * KiB);
    expect(r.buffer).toBe(half.buffer);
    expect(p.take(POOLED_MIN).buffer).toBe(quarter.buffer);
  });

  it('leaves a buffer to the collector when the socket still has sends queued', () => {
    const { p, stats, socket, endTurn } = pool();
    const a = p.take(MiB);
    p.give(a);
    socket.queued = 1;
    endTurn();
    expect(p.take(MiB).buffer).not.toBe(a.buffer);
    expect(stats.replyBuffersDiscarded).toBe(1);
  });

  it('keeps no more free bytes per size class than its bound', () => {
    const { p, stats, endTurn } = pool({ classBytes: 2 * (MiB + 8) });
    const lent = [p.take(MiB), p.take(MiB), p.take(MiB)];
    for (const b of lent) p.give(b);
    endTurn();
    expect(stats.replyBuffersDiscarded).toBe(1);
    const again = [p.take(MiB), p.take(MiB), p.take(MiB)];
    expect(stats.replyBuffersReused).toBe(2);
    expect(new Set(again.map((b) => b.buffer)).size).toBe(3);
  });

  it('ignores a buffer it did not lend, and a second give of one it did', () => {
    const { p, stats, endTurn } = pool();
    p.give(Buffer.allocUnsafeSlow(MiB + 8));
    const a = p.take(MiB);
    p.give(a);
    p.give(a);
    endTurn();
    const b = p.take(MiB);
    const c = p.take(MiB);
    expect(b.buffer).toBe(a.buffer);
    expect(c.buffer).not.toBe(a.buffer);
    expect(stats.replyBuffersReused).toBe(1);
  });
});
