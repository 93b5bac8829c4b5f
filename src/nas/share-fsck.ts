import type { FsckProblemKind, FsckReport } from './fs';

/**
 * What `strata share fsck` shows: the engine's report on a share's
 * filesystem (metadata cross-checked against block allocation), with the
 * problems counted by kind.
 */
export interface ShareFsckReport extends FsckReport {
  share: string;
  shareId: string;
  /** Problems by kind; empty when clean. */
  byKind: Partial<Record<FsckProblemKind, number>>;
  /** Set when a snapshot of the share was checked rather than the live share. */
  snapshot?: string;
}

export function shareFsckReport(share: { shareId: string; name: string }, report: FsckReport): ShareFsckReport {
  const byKind: Partial<Record<FsckProblemKind, number>> = {};
  for (const p of report.problems) byKind[p.kind] = (byKind[p.kind] ?? 0) + 1;
  return { share: share.name, shareId: share.shareId, ...report, byKind };
}
