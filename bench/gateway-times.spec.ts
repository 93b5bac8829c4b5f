import { describe, expect, it } from 'vitest';
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
strata_share_metadata_commit_seconds_sum{share="bench",kind="synced"} ${syncedSum}
strata_share_metadata_commit_seconds_count{share="bench",kind="synced"} ${syncedCount}
strata_share_metadata_commit_seconds_sum{share="bench-async",kind="synced"} 5
strata_share_metadata_commit_seconds_count{share="bench-async",kind="synced"} 5
strata_share_metadata_commit_seconds_sum{share="bench",kind="applied"} 0
strata_share_metadata_commit_seconds_count{share="bench",kind="applied"} 0
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
});
