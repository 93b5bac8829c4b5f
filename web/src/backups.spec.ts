import { describe, expect, it } from 'vitest';
import { backupStateText, chainOf, chainText, shortId, targetWhere, verifyText } from './backups';
import type { BackupInfo, JobInfo } from './types';

const id = (n: number) => `${String(n).repeat(8)}-0000-4000-8000-000000000000`;

const backup = (n: number, parent: number | null, more: Partial<BackupInfo> = {}): BackupInfo => ({
  id: id(n),
  volumeId: 'v1',
  volumeName: 'db',
  snapshotName: `backup-${id(n)}`,
  kind: parent === null ? 'full' : 'incremental',
  parentId: parent === null ? null : id(parent),
  targetId: 't1',
  targetName: 'nightly',
  targetKind: 'directory',
  location: null,
  size: 16 * 2 ** 20,
  pageSize: 2 ** 20,
  bytesStored: 2 ** 20,
  imageDigest: null,
  state: 'complete',
  jobId: null,
  job: null,
  dependents: [],
  createdBy: 'admin',
  createdAt: '2026-11-24T00:00:00.000Z',
  finishedAt: null,
  ...more,
});

const job = (more: Partial<JobInfo>): JobInfo => ({
  id: 'j',
  kind: 'backup',
  target: { type: 'volume', id: 'v1', name: 'db' },
  state: 'running',
  bytesDone: 0,
  bytesTotal: 0,
  percent: 0,
  rate: 0,
  etaSeconds: null,
  error: null,
  resumable: true,
  createdBy: 'admin',
  createdAt: '',
  startedAt: null,
  finishedAt: null,
  ...more,
});

describe('backup chains', () => {
  const full = backup(1, null);
  const inc1 = backup(2, 1);
  const inc2 = backup(3, 2);
  const other = backup(4, null);

  it('walks from a backup back to its full one', () => {
    expect(chainOf(inc2, [other, inc2, full, inc1]).map((b) => b.id)).toEqual([id(1), id(2), id(3)]);
    expect(chainOf(full, [full, inc1]).map((b) => b.id)).toEqual([id(1)]);
    expect(shortId(id(3))).toBe('33333333');
  });

  it('says the chain with short ids, marking the full one and a missing start', () => {
    expect(chainText(inc2, [full, inc1, inc2])).toBe('11111111 (full) → 22222222 → 33333333');
    expect(chainText(full, [full])).toBe('11111111 (full)');
    expect(chainText(inc2, [inc1, inc2])).toBe('… → 22222222 → 33333333');
  });

  it('stops at a loop rather than walking forever', () => {
    const a = backup(5, 6);
    const b = backup(6, 5);
    expect(chainOf(a, [a, b]).map((x) => x.id)).toEqual([id(6), id(5)]);
  });
});

describe('backup wording', () => {
  it("says a backup's state, a pending one's from its job", () => {
    expect(backupStateText({ state: 'complete', job: null })).toBe('complete');
    expect(backupStateText({ state: 'overwritten', job: null })).toBe('overwritten');
    expect(backupStateText({ state: 'pending', job: null })).toBe('pending');
    expect(backupStateText({ state: 'pending', job: job({ state: 'running', percent: 42 }) })).toBe('running 42%');
    expect(backupStateText({ state: 'pending', job: job({ state: 'failed', error: "backup directory '/x' does not exist" }) })).toBe("failed: backup directory '/x' does not exist");
    expect(backupStateText({ state: 'pending', job: job({ state: 'cancelled' }) })).toBe('cancelled');
  });

  it('says where a target keeps backups, and how a verify ended', () => {
    expect(targetWhere({ kind: 'directory', path: '/srv/backups', poolName: null })).toBe('directory /srv/backups');
    expect(targetWhere({ kind: 'device', path: '/dev/sdx', poolName: null })).toBe('device /dev/sdx');
    expect(targetWhere({ kind: 'pool', path: null, poolName: 'p2' })).toBe('pool p2');
    expect(verifyText({ state: 'running', error: null })).toBeNull();
    expect(verifyText({ state: 'succeeded', error: null })).toBe('every page matches its digest');
    expect(verifyText({ state: 'failed', error: 'page 5 does not match its SHA-256' })).toBe('page 5 does not match its SHA-256');
    expect(verifyText({ state: 'cancelled', error: null })).toBe('cancelled before it finished');
  });
});
