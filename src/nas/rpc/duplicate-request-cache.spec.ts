import { describe, expect, it } from 'vitest';
import { DuplicateRequestCache } from './duplicate-request-cache';

const reply = (n: number) => [Buffer.alloc(n)];

describe('DuplicateRequestCache', () => {
  it('goes new → in-progress → done, returning the stored reply', () => {
    const drc = new DuplicateRequestCache();
    expect(drc.begin('k')).toEqual({ state: 'new' });
    expect(drc.begin('k')).toEqual({ state: 'in-progress' });
    const r = reply(8);
    drc.complete('k', r);
    expect(drc.begin('k')).toEqual({ state: 'done', reply: r });
    expect(drc.stats).toMatchObject({ entries: 1, bytes: 8, hits: 1, inProgressDrops: 1 });
  });

  it('forgets a call that produced no reply', () => {
    const drc = new DuplicateRequestCache();
    drc.begin('k');
    drc.forget('k');
    expect(drc.begin('k')).toEqual({ state: 'new' });
  });

  it('bounds completed replies by bytes, oldest first, and never keeps one larger than the bound', () => {
    const drc = new DuplicateRequestCache({ maxBytes: 100 });
    for (const k of ['a', 'b', 'c']) {
      drc.begin(k);
      drc.complete(k, reply(40));
    }
    expect(drc.stats).toMatchObject({ entries: 2, bytes: 80, evictions: 1 });
    expect(drc.begin('a')).toEqual({ state: 'new' });
    expect(drc.begin('b').state).toBe('done');
    drc.begin('huge');
    drc.complete('huge', reply(101));
    expect(drc.begin('huge')).toEqual({ state: 'new' });
  });

  it('does not evict calls in progress to make room', () => {
    const drc = new DuplicateRequestCache({ maxEntries: 1 });
    drc.begin('running');
    drc.begin('x');
    drc.complete('x', reply(1));
    drc.begin('y');
    drc.complete('y', reply(1));
    expect(drc.begin('running')).toEqual({ state: 'in-progress' });
    expect(drc.begin('x')).toEqual({ state: 'new' });
    expect(drc.begin('y').state).toBe('done');
  });

  it('keys by address, xid, program, version, procedure and arguments (not by port)', () => {
    const args = Buffer.from('abc');
    const k = DuplicateRequestCache.key('10.0.0.1', 7, 100003, 3, 7, args);
    expect(DuplicateRequestCache.key('10.0.0.1', 7, 100003, 3, 7, Buffer.from('abc'))).toBe(k);
    for (const other of [
      DuplicateRequestCache.key('10.0.0.2', 7, 100003, 3, 7, args),
      DuplicateRequestCache.key('10.0.0.1', 8, 100003, 3, 7, args),
      DuplicateRequestCache.key('10.0.0.1', 7, 100005, 3, 7, args),
      DuplicateRequestCache.key('10.0.0.1', 7, 100003, 4, 7, args),
      DuplicateRequestCache.key('10.0.0.1', 7, 100003, 3, 8, args),
      DuplicateRequestCache.key('10.0.0.1', 7, 100003, 3, 7, Buffer.from('abd')),
    ])
      expect(other).not.toBe(k);
  });
});
