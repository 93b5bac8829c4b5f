/**
 * Words and figures for snapshots, schedules and mirrors: what the volume
 * page and the consistency groups page say, kept apart from the components
 * so each rule can be tested on its own.
 */
import { formatSize, plural } from './format';
import type { AssignmentInfo, MirrorInfo, ScheduleUnit, SnapshotInfo, SnapshotScheduleInfo, VolumeInfo } from './types';

const UNIT_NOUN: Record<ScheduleUnit, string> = { minutes: 'minute', hours: 'hour', days: 'day' };

/** `every hour` / `every 15 minutes`. */
export function intervalText(s: Pick<SnapshotScheduleInfo, 'every' | 'unit'>): string {
  const noun = UNIT_NOUN[s.unit];
  return s.every === 1 ? `every ${noun}` : `every ${s.every} ${noun}s`;
}

/** `every hour, keeps the last 24` / `every 15 minutes, keeps only the newest`. */
export function scheduleText(s: Pick<SnapshotScheduleInfo, 'every' | 'unit' | 'keep'>): string {
  return `${intervalText(s)}, ${s.keep === 1 ? 'keeps only the newest' : `keeps the last ${s.keep}`}`;
}

/**
 * A snapshot name from the time, as schedules name theirs (`<prefix>-YYYYMMDD-HHMMSS`, UTC):
 * the take-snapshot form's suggestion, unique unless two are taken in one second.
 */
export function timestampName(prefix: string, at: Date): string {
  const iso = at.toISOString(); // 2025-01-31T14:03:59.123Z
  return `${prefix}-${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 19).replaceAll(':', '')}`;
}

export type MirrorHealth = 'healthy' | 'resyncing' | 'degraded';

/** The API's mirror states in the words an admin looks for: in-sync is healthy, syncing is a resync under way. */
export function mirrorHealth(m: Pick<MirrorInfo, 'state'>): MirrorHealth {
  return m.state === 'in-sync' ? 'healthy' : m.state === 'syncing' ? 'resyncing' : 'degraded';
}

/** How far the mirror is behind: `4 dirty regions of 1 MiB (4 MiB) to copy`, or that it has nothing to copy. */
export function dirtyText(m: Pick<MirrorInfo, 'dirtyRegions' | 'dirtyBytes' | 'regionSize'>): string {
  if (m.dirtyRegions === 0) return 'no dirty regions: both sides hold the same data';
  return `${plural(m.dirtyRegions, 'dirty region')} of ${formatSize(m.regionSize)} (${formatSize(m.dirtyBytes)}) to copy`;
}

/** What a rollback of `volume` to `snapshot` throws away or disturbs, for its confirm dialog. */
export interface RollbackImpact {
  /** Everything written to the volume since this instant is lost. */
  since: string;
  /** Hosts that may be writing (their caches go stale): the rollback needs force for them. */
  writers: AssignmentInfo[];
  nbdExport: boolean;
  /** Bytes the volume grew by after the snapshot: they read as zeros afterwards. */
  grownBy: number;
  /** Snapshots taken after this one: they stay (a rollback only rewrites the volume's own map). */
  later: string[];
}

export function rollbackImpact(volume: Pick<VolumeInfo, 'size' | 'assignments' | 'nbdExport'>, snapshot: SnapshotInfo, all: SnapshotInfo[]): RollbackImpact {
  return {
    since: snapshot.createdAt,
    writers: volume.assignments.filter((a) => a.access === 'rw'),
    nbdExport: volume.nbdExport,
    grownBy: Math.max(0, volume.size - snapshot.size),
    later: laterSnapshots(snapshot, all),
  };
}

/** Names of the snapshots taken after `snapshot`: a rollback to it keeps them (it rewrites only the live map). */
export const laterSnapshots = (snapshot: Pick<SnapshotInfo, 'id' | 'createdAt'>, all: Pick<SnapshotInfo, 'id' | 'createdAt' | 'name'>[]) =>
  all.filter((s) => s.id !== snapshot.id && s.createdAt > snapshot.createdAt).map((s) => s.name);

/** Only block volumes take snapshots, mirrors and schedules of their own (a share's volume goes through its share). */
export const isBlock = (v: Pick<VolumeInfo, 'role'>) => v.role === 'block';
