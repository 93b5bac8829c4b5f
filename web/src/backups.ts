/**
 * Words for backups: chains, states and targets as the Backups page says
 * them. Pure, so the spec pins the wording.
 */
import type { BackupInfo, BackupTargetInfo, JobInfo } from './types';

/** Backup ids are UUIDs; their first 8 digits tell backups of one volume apart on a screen. */
export const shortId = (id: string) => id.slice(0, 8);

/** The backups a restore of `b` reads, oldest first: its full backup, then each incremental up to `b`. */
export function chainOf(b: BackupInfo, all: readonly BackupInfo[]): BackupInfo[] {
  const byId = new Map(all.map((x) => [x.id, x]));
  const chain = [b];
  const seen = new Set([b.id]);
  for (let at = b; at.parentId; ) {
    const parent = byId.get(at.parentId);
    // A parent the list does not hold (or a loop, which the catalog never makes) ends the walk.
    if (!parent || seen.has(parent.id)) break;
    chain.unshift(parent);
    seen.add(parent.id);
    at = parent;
  }
  return chain;
}

/** `6f0c1a2b (full) → 9a8b7c6d → 1234abcd`; an incremental whose parent is not listed starts with `… →`. */
export function chainText(b: BackupInfo, all: readonly BackupInfo[]): string {
  const chain = chainOf(b, all);
  const head = chain[0].kind === 'full' ? '' : '… → ';
  return head + chain.map((x) => (x.kind === 'full' ? `${shortId(x.id)} (full)` : shortId(x.id))).join(' → ');
}

/** A backup's state in a word or two; a pending one's job says why it is not complete. */
export function backupStateText(b: Pick<BackupInfo, 'state' | 'job'>): string {
  if (b.state !== 'pending') return b.state;
  const j = b.job;
  if (!j) return 'pending';
  if (j.state === 'running') return `running ${j.percent}%`;
  if (j.state === 'failed') return `failed: ${j.error ?? 'no reason given'}`;
  return j.state;
}

/** Where a target keeps backups: its directory, its device, or its pool. */
export function targetWhere(t: Pick<BackupTargetInfo, 'kind' | 'path' | 'poolName'>): string {
  return t.kind === 'pool' ? `pool ${t.poolName ?? '?'}` : `${t.kind} ${t.path ?? '?'}`;
}

/** The outcome of a verify job, once it ended; null while it runs. */
export function verifyText(j: Pick<JobInfo, 'state' | 'error'>): string | null {
  if (j.state === 'succeeded') return 'every page matches its digest';
  if (j.state === 'failed') return j.error ?? 'failed';
  if (j.state === 'cancelled') return 'cancelled before it finished';
  return null;
}
