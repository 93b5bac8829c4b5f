import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { LATENCY_BUCKETS_SECONDS, LatencyHistogram } from '../src/common/latency-histogram';
import { LiveHistogram } from '../src/metrics/live-histogram';
import { addTimesBetween, formatGatewayTimes, parseGatewayTimes } from './gateway-times';

const exposition = (createSum: number, createCount: number, syncedSum: number, syncedCount: number) => `# HELP strata_nfs_call_duration_seconds Time from ...
# TYPE strata_nfs_call_duration_seconds histogram
strata_nfs_call_duration_seconds_bucket{program="nfs",version="3",procedure="CREATE",le="0.001"} ${createCount}
strata_nfs_call_duration_seconds_sum{program="nfs",version="3",procedure="CREATE"} ${createSum}
strata_nfs_call_duration_seconds_count{program="nfs",version="3",procedure="CREATE"} ${createCount}
strata_nfs_call_duration_seconds_sum{program="nfs",version="4",procedure="COMPOUND"} 9
strata_nfs_call_duration_seconds_count{program="nfs",version="4",procedure="COMPOUND"} 9
strata_nfs_call_duration_seconds_sum{program="mount",version="3",procedure="MNT"} 1
strata_nfs_call_duration_seconds_count{program="mount",version="3",procedure="MNT"} 1
strata_share_metadata_commit_duration_seconds_sum{share="bench",kind="synced"} ${syncedSum}
strata_share_metadata_commit_duration_seconds_count{share="bench",kind="synced"} ${syncedCount}
strata_share_metadata_commit_duration_seconds_sum{share="bench-async",kind="synced"} 5
strata_share_metadata_commit_duration_seconds_count{share="bench-async",kind="synced"} 5
strata_share_metadata_commit_duration_seconds_sum{share="bench",kind="applied"} 0
strata_share_metadata_commit_duration_seconds_count{share="bench",kind="applied"} 0
`;

describe('gateway times', () => {
  it('reads NFSv3 call times and one share’s commit times, and adds up what happened between two scrapes', () => {
    const before = parseGatewayTimes(exposition(0.1, 200, 0.3, 1000), 'bench');
    expect(before).toEqual({
      'NFSv3 CREATE': { seconds: 0.1, count: 200 },
      'commit synced': { seconds: 0.3, count: 1000 },
      'commit applied': { seconds: 0, count: 0 },
    });
    const after = parseGatewayTimes(exposition(0.63, 1200, 0.695, 2000), 'bench');
    const t = addTimesBetween({}, before, after);
    expect(Object.keys(t)).toEqual(['NFSv3 CREATE', 'commit synced']);
    expect(t['NFSv3 CREATE'].count).toBe(1000);
    expect(t['NFSv3 CREATE'].seconds).toBeCloseTo(0.53, 9);
    // A second row adds to the first.
    addTimesBetween(t, before, after);
    expect(formatGatewayTimes(t)).toBe('CREATE 530 µs; metadata commits: synced 395 µs (2,000)');
  });

  it('reads what the gateway’s registry renders', async () => {
    const registry = new Registry();
    const remove = new LatencyHistogram();
    remove.observe(0.4);
    remove.observe(0.5);
    const synced = new LatencyHistogram();
    synced.observe(0.35);
    new LiveHistogram<'program' | 'version' | 'procedure'>({
      name: 'strata_nfs_call_duration_seconds',
      help: 'h',
      labelNames: ['program', 'version', 'procedure'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers: [registry],
      collect: () => [{ labels: { program: 'nfs', version: '3', procedure: 'REMOVE' }, counts: remove.counts, sum: remove.sumSeconds }],
    });
    new LiveHistogram<'share' | 'kind'>({
      name: 'strata_share_metadata_commit_duration_seconds',
      help: 'h',
      labelNames: ['share', 'kind'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers: [registry],
      collect: () => [{ labels: { share: 'bench', kind: 'synced' }, counts: synced.counts, sum: synced.sumSeconds }],
    });
    const t = parseGatewayTimes(await registry.metrics(), 'bench');
    expect(t['NFSv3 REMOVE'].count).toBe(2);
    expect(t['NFSv3 REMOVE'].seconds).toBeCloseTo(0.0009, 12);
    expect(t['commit synced']).toEqual({ seconds: expect.closeTo(0.00035, 12), count: 1 });
  });
});
