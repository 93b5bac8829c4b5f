import type { BackupView, StartedBackup, StartedRestore } from '../services/backup/backup.service';
import type { BackupTargetInfo } from '../storage/domain';
import { details, size, table, time } from './format';
import { jobLine } from './job-views';

/*
 * What a person reads about backups and their targets: shared by the CLI
 * and the SSH shell. No commander here.
 */

const where = (t: BackupTargetInfo) => (t.kind === 'pool' ? `pool ${t.poolName ?? t.poolId}` : t.path);

export function targetTable(list: BackupTargetInfo[]): string {
  return table(['NAME', 'KIND', 'WHERE', 'BACKUPS', 'CREATED'], list.map((t) => [t.name, t.kind, where(t), t.backupCount, time(t.createdAt)]));
}

export const targetLine = (t: BackupTargetInfo) => `Backup target '${t.name}' (${t.kind}, ${where(t)}).`;

export const NO_TARGETS = 'No backup targets (add one with backup target add).';

/** A pending backup shows its job's state: running, paused, failed, cancelled. */
const stateOf = (b: BackupView) => (b.state === 'pending' && b.job ? b.job.state : b.state);

export function backupTable(list: BackupView[]): string {
  return table(
    ['ID', 'VOLUME', 'KIND', 'TARGET', 'STATE', 'SIZE', 'STORED', 'CREATED'],
    list.map((b) => [b.id, b.volumeName, b.kind, b.targetName, stateOf(b), b.size ? size(b.size) : null, b.state === 'complete' ? size(b.bytesStored) : null, time(b.createdAt)]),
  );
}

export function showBackup(b: BackupView): string {
  return details([
    ['ID', b.id],
    ['Volume', `${b.volumeName} (${b.volumeId})`],
    ['Snapshot', `${b.volumeName}@${b.snapshotName}`],
    ['Kind', b.kind],
    ['Parent', b.parentId],
    ['Dependents', b.dependents.length ? b.dependents.join(', ') : null],
    ['Target', `${b.targetName} (${b.targetKind})`],
    ['Location', b.location],
    ['State', stateOf(b)],
    ['Size', b.size ? size(b.size) : null],
    ['Stored', b.state === 'complete' ? size(b.bytesStored) : null],
    ['Image digest', b.imageDigest],
    ['Job', b.job ? `${b.job.id} ${b.job.state}${b.job.error ? `: ${b.job.error}` : ''}` : null],
    ['Created', `${time(b.createdAt)} by ${b.createdBy}`],
    ['Finished', time(b.finishedAt)],
  ]);
}

export const backupStarted = (s: StartedBackup) => `Backup ${s.backup.id} (${s.backup.kind}) of volume '${s.backup.volumeName}' to target '${s.backup.targetName}' started.\n${jobLine(s.job)}`;

export const restoreStarted = (s: StartedRestore) => `Restoring into ${s.share ? `share '${s.share.name}' (served once the job is done)` : `volume '${s.volume.name}'`}.\n${jobLine(s.job)}`;
