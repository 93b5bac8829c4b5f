import { describe, expect, it } from 'vitest';
import { cycleText, durationText, everyInput, everyText, lagText, promoteEffect, rateInput, rateLimitText, replicaText, sharePromoteEffect, sourceName, sourceText } from './replication';

describe('replication wording', () => {
  it('states a lag in its two largest units', () => {
    expect(durationText(0)).toBe('0s');
    expect(durationText(59.9)).toBe('59s');
    expect(durationText(60)).toBe('1m 0s');
    expect(durationText(185)).toBe('3m 5s');
    expect(durationText(3600 * 2 + 600 + 59)).toBe('2h 10m');
    expect(durationText(86_400 * 3 + 3600 * 4 + 7)).toBe('3d 4h');
    expect(durationText(-5)).toBe('0s');
    expect(lagText({ lagSeconds: null })).toBe('no cycle yet');
    expect(lagText({ lagSeconds: 7 })).toBe('7s');
  });

  it('states a schedule as the CLI takes it', () => {
    expect(everyText({ everySeconds: null })).toBe('on demand');
    expect(everyText({ everySeconds: 900 })).toBe('every 15m');
    expect(everyText({ everySeconds: 90 })).toBe('every 90s');
    expect(everyText({ everySeconds: 7200 })).toBe('every 2h');
    expect(everyText({ everySeconds: 86_400 })).toBe('every 1d');
    expect(everyText({ everySeconds: 5400 })).toBe('every 90m');
    expect(everyInput({ everySeconds: null })).toBe('');
    expect(everyInput({ everySeconds: 900 })).toBe('15m');
  });

  it('states the last good cycle and the rate limit', () => {
    expect(cycleText({ lastCycle: 0, lastGoodAt: null })).toBe('none yet');
    expect(cycleText({ lastCycle: 4, lastGoodAt: '2026-11-24T00:48:07.123Z' })).toBe('cycle 4, 2026-11-24 00:48:07Z');
    expect(rateLimitText({ rateLimit: 0 })).toBe('no limit');
    expect(rateLimitText({ rateLimit: 50 * 2 ** 20 })).toBe('50 MiB/s');
    expect(rateInput({ rateLimit: 0 })).toBe('');
    expect(rateInput({ rateLimit: 50 * 2 ** 20 })).toBe('50M');
    expect(rateInput({ rateLimit: 2 * 2 ** 30 })).toBe('2G');
    expect(rateInput({ rateLimit: 1536 * 2 ** 20 })).toBe('1536M');
    expect(rateInput({ rateLimit: 3 * 1024 })).toBe('3K');
    expect(rateInput({ rateLimit: 1000 })).toBe('1000');
  });

  it("states a replica's state and what promoting it rolls back", () => {
    const none = { lastCycle: 0, lastCommitAt: null, snapshot: null, hostName: 'site-a' };
    expect(replicaText(none)).toBe('no cycle committed yet: it holds no consistent image');
    expect(promoteEffect(none).force).toBe(true);
    expect(promoteEffect(none).rollback).toMatch(/nothing to roll back to.*may be partial/);
    const two = { lastCycle: 2, lastCommitAt: '2026-11-24T01:00:00.000Z', snapshot: 'db-r@cycle-2', hostName: 'site-a' };
    expect(replicaText(two)).toBe('cycle 2 committed at 2026-11-24 01:00:00Z; consistent point db-r@cycle-2');
    expect(promoteEffect(two)).toEqual({
      force: false,
      rollback: 'If a cycle was cut off after cycle 2, what it wrote is rolled back: the volume reads as db-r@cycle-2, the source as it was when that cycle was committed (2026-11-24 01:00:00Z).',
    });
  });
  it("names a share's replication by the share, and says what promoting a share replica does", () => {
    const vol = { volume: { id: 'v1', name: 'db' }, share: null };
    const shr = { volume: { id: 'v2', name: 'share:home' }, share: { id: 's2', name: 'home' } };
    expect([sourceName(vol), sourceText(vol), sourceName(shr), sourceText(shr)]).toEqual(['db', "'db'", 'home', "share 'home'"]);
    const two = { lastCycle: 2, lastCommitAt: '2026-11-24T01:00:00.000Z', snapshot: 'share:home-r@cycle-2' };
    expect(sharePromoteEffect(two, 2)).toEqual({
      force: false,
      rollback: "It is rolled back to cycle 2 (share:home-r@cycle-2): its files are as they were on the source at that cycle's snapshot, committed 2026-11-24 01:00:00Z; what a cycle cut off after it wrote is dropped.",
      served: 'It is served again with its 2 export rules: clients they match can mount it.',
    });
    expect(sharePromoteEffect({ ...two, lastCommitAt: null }, 1).rollback).toBe(
      "It is rolled back to cycle 2 (share:home-r@cycle-2): its files are as they were on the source at that cycle's snapshot; what a cycle cut off after it wrote is dropped.",
    );
    const none = sharePromoteEffect({ lastCycle: 0, lastCommitAt: null, snapshot: null }, 0);
    expect(none.force).toBe(true);
    expect(none.rollback).toMatch(/empty filesystem it was made with/);
    expect(none.served).toBe('It is served again, but it has no export rules: no client can mount it until one is added.');
  });
});
