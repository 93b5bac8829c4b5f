import { describe, expect, it } from 'vitest';
import { nasTable, type NasBenchResult } from './nas.bench';

const base: NasBenchResult = { rows: [], nfs4Client: {}, nfs4Depth: 4, size: 2 ** 30, files: 1000, rounds: 3, peakRssMiB: 300 };

describe('the NAS table', () => {
  it('prints the NFSv4.1 rows under their own heading, with each server’s bytes per call and our client’s CPU, after the NFSv3 rows', () => {
    const text = nasTable({
      ...base,
      nfs4Client: {
        strata: { write: 2 ** 20, read: 2 ** 20, cpu: { upload: 0.3, download: 0.97, meta: 0.2 } },
        ganesha: { write: 2 ** 20, read: 512 * 1024, cpu: { upload: 0.5, download: 0.99, meta: 0.25 } },
      },
      rows: [
        { workload: 'nfs-cp upload 1 GiB', unit: 'MB/s', ganesha: 900, strata: 1000, ratio: 1.1 },
        { workload: 'NFSv4.1 upload 1 GiB', unit: 'MB/s', ganesha: 800, strata: 600, ratio: 0.75, nfs4: true },
        { workload: 'NFSv4.1 stat', unit: 'ops/s', ganesha: 10000, strata: 12345.6, ratio: 1.234, nfs4: true },
      ],
    }).split('\n');
    const heading = lines(text, /^NFSv4\.1 through Strata's own client/);
    expect(heading).toHaveLength(1);
    expect(heading[0]).toContain('4 in flight');
    expect(heading[0]).toContain('strata 1,024/1,024 KiB, ganesha 1,024/512 KiB');
    const at = text.indexOf(heading[0]);
    expect(text.indexOf(lines(text, /^nfs-cp upload/)[0])).toBeLessThan(at);
    expect(text.slice(at + 1, at + 4)).toEqual([
      'NFSv4.1 upload 1 GiB               MB/s          800        600   0.75',
      'NFSv4.1 stat                       ops/s      10,000     12,346   1.23',
      "our client's CPU, share of one core, upload/download/metadata: strata 30%/97%/20%; ganesha 50%/99%/25% (near 100%: the client set the pace, not the server)",
    ]);
    // The goal speaks of the NFSv3 rows only (met there, not on the NFSv4.1 rows).
    expect(lines(text, /^goal/)).toEqual(['goal ratio >= 1.0 on every NFSv3 row (share exported sync, the default): met']);
  });

  it('without ganesha, prints the NFSv4.1 rows without a ganesha figure or ratio, and says why', () => {
    const text = nasTable({
      ...base,
      ganeshaSkipped: 'ganesha runs in its own network namespace, which needs root',
      nfs4Client: { strata: { write: 2 ** 20, read: 2 ** 20, cpu: { upload: 0.3, download: 0.97, meta: 0.2 } } },
      rows: [{ workload: 'NFSv4.1 unlink', unit: 'ops/s', strata: 4000, nfs4: true }],
    }).split('\n');
    expect(lines(text, /^ganesha column skipped/)).toEqual(['ganesha column skipped: ganesha runs in its own network namespace, which needs root']);
    expect(lines(text, /^NFSv4\.1 unlink/)).toEqual(['NFSv4.1 unlink                     ops/s           -      4,000   -']);
    expect(lines(text, /^goal/)).toEqual([]);
  });

  it('lists the async share rows, NFSv3 and NFSv4.1, in their own section, not among the sync NFSv4.1 rows', () => {
    const text = nasTable({
      ...base,
      rows: [
        { workload: 'unlink', unit: 'ops/s', ganesha: 2000, strata: 1500, ratio: 0.75 },
        { workload: 'NFSv4.1 unlink', unit: 'ops/s', ganesha: 2200, strata: 1300, ratio: 0.59, nfs4: true },
        { workload: 'unlink', unit: 'ops/s', ganesha: 2000, strata: 2300, ratio: 1.15, asyncShare: true },
        { workload: 'NFSv4.1 unlink', unit: 'ops/s', ganesha: 2200, strata: 2400, ratio: 1.09, asyncShare: true, nfs4: true },
      ],
    }).split('\n');
    expect(lines(text, /unlink/)).toEqual([
      'unlink                             ops/s       2,000      1,500   0.75',
      'NFSv4.1 unlink                     ops/s       2,200      1,300   0.59',
      'unlink (async)                     ops/s       2,000      2,300   1.15',
      'NFSv4.1 unlink (async)             ops/s       2,200      2,400   1.09',
    ]);
    const heading = text.findIndex((l) => l.startsWith('the metadata rows on a share exported async'));
    expect(text.indexOf('unlink (async)                     ops/s       2,000      2,300   1.15')).toBe(heading + 1);
  });

  it("ends with the gateway's own time per call in the metadata rows, sync and async share", () => {
    const text = nasTable({
      ...base,
      rows: [{ workload: 'unlink', unit: 'ops/s', ganesha: 2000, strata: 1500, ratio: 0.75 }],
      gatewayTimes: {
        sync: { 'NFSv3 REMOVE': { seconds: 0.45, count: 1000 }, 'commit synced': { seconds: 0.4, count: 1000 } },
        async: { 'NFSv3 REMOVE': { seconds: 0.11, count: 1000 }, 'commit applied': { seconds: 0.07, count: 1000 } },
      },
    }).split('\n');
    expect(text.slice(-3)).toEqual([
      "the gateway's own time per call in the NFSv3 metadata rows, means over the rounds (from its /metrics; the rest of a client's wait is the network and the client):",
      '  sync share: REMOVE 450 µs; metadata commits: synced 400 µs (1,000)',
      '  async share: REMOVE 110 µs; metadata commits: applied 70 µs (1,000)',
    ]);
  });
});

const lines = (text: string[], re: RegExp) => text.filter((l) => re.test(l));
