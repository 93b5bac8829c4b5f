import { describe, expect, it } from 'vitest';
import { parseStats, sampleTime, unavailable } from './stats';

/** A sample as docs/rest-api.md shows it. */
const sample = (t: unknown, extra: Record<string, unknown> = {}) => ({
  t,
  readIops: 812,
  writeIops: 95,
  readBps: 3325952,
  writeBps: 6225920,
  readLatencyMs: 0.21,
  writeLatencyMs: 1.9,
  readLatencyP99Ms: 0.46,
  writeLatencyP99Ms: 8.1,
  ...extra,
});

const body = (over: Record<string, unknown> = {}) => ({
  intervalSeconds: 1,
  windowSeconds: 300,
  samples: [sample(1_767_225_601_000), sample(1_767_225_600_000)],
  volumes: { db1: sample(1_767_225_601_000) },
  san: { available: false, reason: 'SAN target not running yet' },
  nas: { available: false, reason: 'NAS server not running yet' },
  ...over,
});

describe('parseStats', () => {
  it('accepts the documented shape and orders samples by time', () => {
    const v = parseStats(body());
    expect(v.series.ok && v.series.value.samples.map((s) => s.t)).toEqual([1_767_225_600_000, 1_767_225_601_000]);
    expect(v.series.ok && v.series.value.samples[0]).toMatchObject({ readIops: 812, writeLatencyP99Ms: 8.1 });
    expect(v.volumes.ok && Object.keys(v.volumes.value)).toEqual(['db1']);
    expect(v.san).toEqual({ ok: true, value: { available: false, reason: 'SAN target not running yet' } });
    expect(v.nas.ok).toBe(true);
  });

  it('keeps "nothing completed" (null latency) apart from zero', () => {
    const idle = sample(1_767_225_600_000, { readLatencyMs: null, writeLatencyMs: null, readLatencyP99Ms: null, writeLatencyP99Ms: null });
    const v = parseStats(body({ samples: [idle] }));
    expect(v.series.ok && v.series.value.samples[0]).toMatchObject({ readLatencyMs: null, writeLatencyMs: null, readLatencyP99Ms: null });
  });

  it('reads a gateway without percentiles as having none', () => {
    const v = parseStats(body({ samples: [sample(1_767_225_600_000, { readLatencyP99Ms: undefined, writeLatencyP99Ms: undefined })] }));
    expect(v.series.ok && v.series.value.samples[0].readLatencyP99Ms).toBeNull();
  });

  it('never draws from a sample with a missing or bad figure', () => {
    const bad = (extra: Record<string, unknown>) => parseStats(body({ samples: [sample(1_767_225_600_000, extra)] })).series;
    expect(bad({ writeBps: undefined })).toEqual({ ok: false, reason: 'sample 0 has no writeBps' });
    expect(bad({ readIops: null })).toEqual({ ok: false, reason: 'sample 0 has no readIops' });
    expect(bad({ readIops: '5' }).ok).toBe(false);
    expect(bad({ readIops: Number.NaN }).ok).toBe(false);
    // Null means "none completed"; absent means the gateway did not say.
    expect(bad({ readLatencyMs: undefined })).toEqual({ ok: false, reason: 'sample 0 has no readLatencyMs' });
    expect(bad({ writeLatencyP99Ms: 'slow' })).toEqual({ ok: false, reason: 'sample 0 has a malformed writeLatencyP99Ms' });
    expect(bad({ t: 'yesterday' })).toEqual({ ok: false, reason: 'sample 0 has no time' });
  });

  it('judges each panel on its own: bad samples do not hide the front-end reasons', () => {
    const v = parseStats(body({ samples: undefined }));
    expect(v.series).toEqual({ ok: false, reason: 'the answer has no samples' });
    expect(v.san.ok).toBe(true);
    expect(v.volumes.ok).toBe(true);
    const w = parseStats(body({ nas: undefined, volumes: { db1: sample(1, { readBps: -1 }) } }));
    expect(w.series.ok).toBe(true);
    expect(w.nas).toEqual({ ok: false, reason: 'the answer has no nas status' });
    expect(w.volumes).toEqual({ ok: false, reason: "the sample of volume 'db1' has no readBps" });
  });

  it('turns anything that is not an object into "not available" everywhere', () => {
    for (const junk of [null, 'ok', 42, []]) {
      const v = parseStats(junk);
      expect([v.series.ok, v.volumes.ok, v.san.ok, v.nas.ok]).toEqual([false, false, false, false]);
    }
    expect(unavailable('404').series).toEqual({ ok: false, reason: '404' });
  });
});

describe('sampleTime', () => {
  it('reads epoch milliseconds, epoch seconds and ISO text', () => {
    expect(sampleTime(1_700_000_000_000)).toBe(1_700_000_000_000);
    expect(sampleTime(1_700_000_000)).toBe(1_700_000_000_000);
    expect(sampleTime('2023-11-14T22:13:20.000Z')).toBe(1_700_000_000_000);
  });

  it('refuses what is not a time', () => {
    for (const bad of [undefined, null, 0, -5, 'yesterday', Number.POSITIVE_INFINITY]) expect(sampleTime(bad)).toBeNull();
  });
});
