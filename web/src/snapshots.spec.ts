import { describe, expect, it } from 'vitest';
import { dirtyText, intervalText, mirrorHealth, rollbackImpact, scheduleText, timestampName } from './snapshots';
import type { AssignmentInfo, SnapshotInfo } from './types';

const MiB = 2 ** 20;

const snap = (name: string, createdAt: string, size = 64 * MiB): SnapshotInfo => ({
  id: `id-${name}`,
  name,
  volumeName: `vol1@${name}`,
  originId: 'v1',
  originName: 'vol1',
  poolName: 'default',
  size,
  allocatedBytes: 0,
  uniqueBytes: 0,
  scheduleId: null,
  assignments: [],
  createdAt,
});

const assignment = (hostName: string, access: 'rw' | 'ro'): AssignmentInfo => ({
  id: `a-${hostName}`,
  hostId: `h-${hostName}`,
  hostName,
  volumeId: 'v1',
  volumeName: 'vol1',
  access,
  sharing: 'exclusive',
  createdAt: '2025-01-01T00:00:00.000Z',
});

describe('schedule text', () => {
  it('says one unit without a count and many with one', () => {
    expect(intervalText({ every: 1, unit: 'hours' })).toBe('every hour');
    expect(intervalText({ every: 1, unit: 'minutes' })).toBe('every minute');
    expect(intervalText({ every: 15, unit: 'minutes' })).toBe('every 15 minutes');
    expect(intervalText({ every: 3, unit: 'days' })).toBe('every 3 days');
  });

  it('adds how many it keeps', () => {
    expect(scheduleText({ every: 1, unit: 'hours', keep: 24 })).toBe('every hour, keeps the last 24');
    expect(scheduleText({ every: 2, unit: 'days', keep: 1 })).toBe('every 2 days, keeps only the newest');
  });
});

describe('timestampName', () => {
  it('names by the UTC second, as schedules name their snapshots', () => {
    expect(timestampName('snap', new Date('2025-01-31T14:03:59.987Z'))).toBe('snap-20250131-140359');
    expect(timestampName('erp', new Date(Date.UTC(2024, 11, 1, 0, 0, 7)))).toBe('erp-20241201-000007');
  });
});

describe('mirror health', () => {
  it('maps the API states to healthy, resyncing and degraded', () => {
    expect(mirrorHealth({ state: 'in-sync' })).toBe('healthy');
    expect(mirrorHealth({ state: 'syncing' })).toBe('resyncing');
    expect(mirrorHealth({ state: 'degraded' })).toBe('degraded');
  });

  it('says how much is dirty in regions and bytes', () => {
    expect(dirtyText({ dirtyRegions: 0, dirtyBytes: 0, regionSize: MiB })).toBe('no dirty regions: both sides hold the same data');
    expect(dirtyText({ dirtyRegions: 1, dirtyBytes: MiB, regionSize: MiB })).toBe('1 dirty region of 1 MiB (1 MiB) to copy');
    expect(dirtyText({ dirtyRegions: 24, dirtyBytes: 24 * MiB, regionSize: MiB })).toBe('24 dirty regions of 1 MiB (24 MiB) to copy');
  });
});

describe('rollbackImpact', () => {
  const a = snap('a', '2025-01-01T10:00:00.000Z', 32 * MiB);
  const b = snap('b', '2025-01-01T11:00:00.000Z');
  const c = snap('c', '2025-01-01T12:00:00.000Z');

  it('loses what was written since the snapshot; later snapshots stay and are named', () => {
    const impact = rollbackImpact({ size: 64 * MiB, assignments: [], nbdExport: false }, b, [a, b, c]);
    expect(impact).toEqual({ since: b.createdAt, writers: [], nbdExport: false, grownBy: 0, later: ['c'] });
  });

  it('counts the growth since the snapshot, which reads as zeros afterwards', () => {
    expect(rollbackImpact({ size: 64 * MiB, assignments: [], nbdExport: false }, a, [a, b, c]).grownBy).toBe(32 * MiB);
  });

  it('names only read-write hosts as writers, and the NBD export', () => {
    const ro = assignment('reader', 'ro');
    const rw = assignment('writer', 'rw');
    const impact = rollbackImpact({ size: 64 * MiB, assignments: [ro, rw], nbdExport: true }, c, [a, b, c]);
    expect(impact.writers).toEqual([rw]);
    expect(impact.nbdExport).toBe(true);
    expect(impact.later).toEqual([]);
  });
});
