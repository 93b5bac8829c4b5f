import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { LATENCY_BUCKETS_SECONDS, LatencyHistogram } from '../src/common/latency-histogram';
import { LiveHistogram } from '../src/metrics/live-histogram';
import { addTimesBetween, formatGatewayTimes, parseGatewayTimes } from './gateway-times';

/** Latencies in ms, as the gateway's histograms hold them. */
const histogram = (...ms: number[]) => {
  const h = new LatencyHistogram();
  for (const x of ms) h.observe(x);
  return h;
};

/** What the gateway's registry renders for these NFS calls (NFSv3 CREATE, an NFSv4 COMPOUND, a MOUNT) and these commits (two shares). */
async function exposition(create: LatencyHistogram, synced: LatencyHistogram): Promise<string> {
  const registry = new Registry();
  const series = <T extends string>(labels: Record<T, string>, h: LatencyHistogram) => ({ labels, counts: h.counts, sum: h.sumSeconds });
  new LiveHistogram<'program' | 'version' | 'procedure'>({
    name: 'strata_nfs_call_duration_seconds',
    help: 'h',
    labelNames: ['program', 'version', 'procedure'],
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [registry],
    collect: () => [
      series({ program: 'nfs', version: '3', procedure: 'CREATE' }, create),
      series({ program: 'nfs', version: '4', procedure: 'COMPOUND' }, histogram(9)),
      series({ program: 'mount', version: '3', procedure: 'MNT' }, histogram(1)),
    ],
  });
  new LiveHistogram<'share' | 'kind'>({
    name: 'strata_share_metadata_commit_duration_seconds',
    help: 'h',
    labelNames: ['share', 'kind'],
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [registry],
    collect: () => [
      series({ share: 'bench', kind: 'synced' }, synced),
      series({ share: 'bench', kind: 'applied' }, histogram()),
      series({ share: 'bench-async', kind: 'synced' }, histogram(5)),
    ],
  });
  return registry.metrics();
}

describe('gateway times', () => {
  it('reads NFSv3 call times and one share’s commit times from what the registry renders', async () => {
    const t = parseGatewayTimes(await exposition(histogram(0.4, 0.5), histogram(0.35)), 'bench');
    expect(Object.keys(t).sort()).toEqual(['NFSv3 CREATE', 'commit applied', 'commit synced']);
    expect(t['NFSv3 CREATE']).toEqual({ seconds: expect.closeTo(0.0009, 12), count: 2 });
    expect(t['commit synced']).toEqual({ seconds: expect.closeTo(0.00035, 12), count: 1 });
    expect(t['commit applied']).toEqual({ seconds: 0, count: 0 });
    // A mean of nothing is left out, not printed as NaN.
    expect(formatGatewayTimes(t)).toBe('CREATE 450 µs; metadata commits: synced 350 µs (1)');
  });

  it('adds up what happened between two scrapes, row after row, and prints the means', async () => {
    const create = histogram(...new Array<number>(200).fill(0.5));
    const synced = histogram(...new Array<number>(1000).fill(0.3));
    const before = parseGatewayTimes(await exposition(create, synced), 'bench');
    for (let i = 0; i < 1000; i++) create.observe(0.53);
    for (let i = 0; i < 1000; i++) synced.observe(0.395);
    const after = parseGatewayTimes(await exposition(create, synced), 'bench');
    const t = addTimesBetween({}, before, after);
    // Keys with nothing in between (the applied commits) are left out.
    expect(Object.keys(t)).toEqual(['NFSv3 CREATE', 'commit synced']);
    expect(t['NFSv3 CREATE']).toEqual({ seconds: expect.closeTo(0.53, 9), count: 1000 });
    addTimesBetween(t, before, after);
    expect(formatGatewayTimes(t)).toBe('CREATE 530 µs; metadata commits: synced 395 µs (2,000)');
  });
});
