import type * as Gateway from '../../src/storage/domain';
import type { JobInfo } from '../../src/jobs/job-kind';
import type { ShareFsckReport } from '../../src/nas/share-fsck';
import type { BackupView } from '../../src/services/backup/backup.service';
import type * as Console from '../../web/src/types';

/** True when what the gateway sends (A) is what the console reads (B). */
type Fits<A, B> = [A] extends [B] ? true : false;

export const fits: Record<string, true> = {
  AssignmentInfo: true as Fits<Gateway.AssignmentInfo, Console.AssignmentInfo>,
  AuditEntry: true as Fits<Gateway.AuditEntry, Console.AuditEntry>,
  BackupState: true as Fits<Gateway.BackupState, Console.BackupState>,
  BackupTargetInfo: true as Fits<Gateway.BackupTargetInfo, Console.BackupTargetInfo>,
  BackupTargetKind: true as Fits<Gateway.BackupTargetKind, Console.BackupTargetKind>,
  ConsistencyGroupInfo: true as Fits<Gateway.ConsistencyGroupInfo, Console.ConsistencyGroupInfo>,
  DeviceInfo: true as Fits<Gateway.DeviceInfo, Console.DeviceInfo>,
  DeviceState: true as Fits<Gateway.DeviceState, Console.DeviceState>,
  ExportRuleInfo: true as Fits<Gateway.ExportRuleInfo, Console.ExportRuleInfo>,
  ExtentInfo: true as Fits<Gateway.ExtentInfo, Console.ExtentInfo>,
  HostInfo: true as Fits<Gateway.HostInfo, Console.HostInfo>,
  HostSecurity: true as Fits<Gateway.HostSecurity, Console.HostSecurity>,
  JobState: true as Fits<Gateway.JobState, Console.JobState>,
  MirrorInfo: true as Fits<Gateway.MirrorInfo, Console.MirrorInfo>,
  MirrorState: true as Fits<Gateway.MirrorState, Console.MirrorState>,
  PoolInfo: true as Fits<Gateway.PoolInfo, Console.PoolInfo>,
  PoolState: true as Fits<Gateway.PoolState, Console.PoolState>,
  ReplicaInfo: true as Fits<Gateway.ReplicaInfo, Console.ReplicaInfo>,
  ReplicationInfo: true as Fits<Gateway.ReplicationInfo, Console.ReplicationInfo>,
  ScheduleUnit: true as Fits<Gateway.ScheduleUnit, Console.ScheduleUnit>,
  ShareInfo: true as Fits<Gateway.ShareInfo, Console.ShareInfo>,
  SnapshotInfo: true as Fits<Gateway.SnapshotInfo, Console.SnapshotInfo>,
  SnapshotScheduleInfo: true as Fits<Gateway.SnapshotScheduleInfo, Console.SnapshotScheduleInfo>,
  Squash: true as Fits<Gateway.Squash, Console.Squash>,
  VolumeInfo: true as Fits<Gateway.VolumeInfo, Console.VolumeInfo>,
  VolumeRole: true as Fits<Gateway.VolumeRole, Console.VolumeRole>,
  // Named differently on each side.
  JobInfo: true as Fits<JobInfo, Console.JobInfo>,
  BackupInfo: true as Fits<BackupView, Console.BackupInfo>,
  ShareFsckReport: true as Fits<ShareFsckReport, Console.ShareFsckReport>,
};
