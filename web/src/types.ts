/**
 * What the REST API sends back (src/storage/domain.ts on the gateway side).
 * Copied rather than imported: the console depends on the wire format only,
 * and the gateway's sources pull in Node types the browser build must not see.
 * test/wire/console-types.check.ts has the compiler check that every object
 * the gateway sends fits its type here.
 */

export type DeviceKind = 'file' | 'block' | 'ram';
export type DeviceState = 'online' | 'failed' | 'missing';
export type LayoutKind = 'concat' | 'raid0' | 'raid1' | 'raid10';
export type PoolState = 'online' | 'degraded' | 'failed';
export type Provisioning = 'thin' | 'thick';
export type Access = 'rw' | 'ro';
export type Sharing = 'exclusive' | 'shared';

export interface ExtentInfo {
  id: string;
  deviceId: string;
  deviceName: string;
  poolId: string;
  poolName: string;
  position: number;
  offset: number;
  length: number;
  state: 'online' | 'failed';
  errors: number;
  lastError?: string;
}

export interface DeviceInfo {
  id: string;
  name: string;
  kind: DeviceKind;
  path: string | null;
  size: number;
  sectorSize: number;
  freeBytes: number;
  state: DeviceState;
  stateReason?: string;
  extents: ExtentInfo[];
  createdAt: string;
}

export interface PoolInfo {
  id: string;
  name: string;
  layout: LayoutKind;
  pageSize: number;
  stripeUnit: number;
  capacity: number;
  usedBytes: number;
  freeBytes: number;
  provisionedBytes: number;
  volumeCount: number;
  shareCount: number;
  state: PoolState;
  members: ExtentInfo[];
  createdAt: string;
}

export interface AssignmentInfo {
  id: string;
  hostId: string;
  hostName: string;
  volumeId: string;
  volumeName: string;
  access: Access;
  sharing: Sharing;
  createdAt: string;
}

/** 'share': the volume of a NAS share, managed through the share; 'snapshot': a read-only snapshot volume (`<volume>@<name>`). */
export type VolumeRole = 'block' | 'share' | 'snapshot';

export interface VolumeInfo {
  id: string;
  name: string;
  role: VolumeRole;
  share: { id: string; name: string } | null;
  /** The volume it is a snapshot of, when role is 'snapshot'. */
  origin?: { id: string; name: string } | null;
  poolId: string;
  poolName: string;
  size: number;
  provisioning: Provisioning;
  pageSize: number;
  allocatedBytes: number;
  serial: string;
  state: 'online' | 'degraded' | 'failed';
  /** Served by the gateway's NBD export on loopback: a rollback changes data under it. */
  nbdExport: boolean;
  assignments: AssignmentInfo[];
  /** Its synchronous mirror on another pool (absent from gateways without mirrors). */
  mirror?: MirrorInfo | null;
  /** Set when it is a replica written by another gateway (absent from gateways without replication). */
  replica?: ReplicaInfo | null;
  createdAt: string;
}

/** A replica volume (target side): written only by the source gateway's host, snapshotted at each cycle the source commits. */
export interface ReplicaInfo {
  hostId: string;
  /** Null when that host was removed since (the replica can still be promoted). */
  hostName: string | null;
  /** The last cycle committed; 0 before the first (no consistent point yet). */
  lastCycle: number;
  lastCommitAt: string | null;
  /** `<volume>@cycle-<n>`, the last consistent point, or null. */
  snapshot: string | null;
}

/** A source volume's replication to a volume on another gateway: GET /replications. */
export interface ReplicationInfo {
  id: string;
  volume: { id: string; name: string };
  /** Set when a share is replicated; `targetVolume` then names the target's share. */
  share: { id: string; name: string } | null;
  /** The target gateway's SAN address, `host:port`. */
  target: string;
  targetVolume: string;
  /** The host name this gateway logs in to the target as. */
  hostName: string;
  /** Seconds between scheduled cycles, or null: on demand only. */
  everySeconds: number | null;
  /** Bytes per second, 0 for none. */
  rateLimit: number;
  /** The last cycle the target committed; 0 before the first. */
  lastCycle: number;
  lastGoodAt: string | null;
  /** The instant the replica holds (the last good cycle's snapshot). */
  lastPointAt: string | null;
  /** How far the replica is behind, in seconds; null before the first cycle. */
  lagSeconds: number | null;
  bytesSent: number;
  lastError: string | null;
  nextRunAt: string | null;
  /** The cycle job running or waiting now, if any. */
  activeJobId: string | null;
  createdAt: string;
}

/** GET /replications/:key and what a run answers: the replication with its running (or last) cycle job. */
export interface ReplicationView {
  replication: ReplicationInfo;
  job: JobInfo | null;
}

/** GET /replication/identity: the key a target registers this gateway under. */
export interface ReplicationIdentity {
  publicKey: string;
  fingerprint: string;
  hostName: string;
  /** The ready `strata host add` line for the target. */
  register: string;
}

export interface CreateReplicationBody {
  volume: string;
  target: string;
  targetVolume: string;
  hostName?: string;
  /** `30s`, `15m`, `1h`, `1d`; absent: on demand only. */
  every?: string;
  rateLimit?: SizeValue;
}

export type MirrorState = 'in-sync' | 'syncing' | 'degraded';

export interface MirrorInfo {
  /** Where the mirror member lives (after a swap: where the old primary lives). */
  poolId: string;
  poolName: string;
  state: MirrorState;
  reason: string | null;
  /** Copied share of the running resync, 0-100 (100 when in sync). */
  syncPercent: number;
  /** The unit the mirror tracks changes in: a dirty region is this many bytes the mirror lacks. */
  regionSize: number;
  dirtyRegions: number;
  dirtyBytes: number;
}

/** GET /volumes/:v/mirror, and what adding a mirror or starting a resync answers. */
export interface MirrorStatus {
  volume: VolumeInfo;
  /** The resync job running or waiting, if any. */
  job: JobInfo | null;
}

/** A point-in-time, read-only image of a volume, sharing pool pages with it: GET /volumes/:v/snapshots. */
export interface SnapshotInfo {
  id: string;
  name: string;
  /** `<volume>@<name>`: the volume name it is assigned and read under. */
  volumeName: string;
  originId: string;
  originName: string;
  /** Set for a snapshot of a share: the share, and the number its NFS handles carry. */
  share?: { id: string; name: string; handleId: number };
  poolName: string;
  /** The volume's size when the snapshot was taken. */
  size: number;
  /** Bytes of pool pages its map points at (shared or not). */
  allocatedBytes: number;
  /** Bytes of pool pages only it points at: what deleting it gives back. */
  uniqueBytes: number;
  /** The schedule that took it, if any. */
  scheduleId: string | null;
  assignments: AssignmentInfo[];
  createdAt: string;
}

/** Volumes snapshotted together, at one instant: GET /consistency-groups. */
export interface ConsistencyGroupInfo {
  id: string;
  name: string;
  volumes: Array<{ id: string; name: string }>;
  createdAt: string;
}

export type ScheduleUnit = 'minutes' | 'hours' | 'days';

/** Snapshots of a volume or a group every `every` `unit`s, keeping the last `keep`: GET /snapshot-schedules. */
export interface SnapshotScheduleInfo {
  id: string;
  name: string;
  volume: { id: string; name: string } | null;
  group: { id: string; name: string } | null;
  every: number;
  unit: ScheduleUnit;
  keep: number;
  nextRunAt: string;
  lastRunAt: string | null;
  lastError: string | null;
  createdAt: string;
}

export type Squash = 'root_squash' | 'all_squash' | 'no_root_squash';

export interface ExportRuleInfo {
  id: string;
  shareId: string;
  /** 1-based; the first rule whose clients match decides. */
  position: number;
  clients: string[];
  access: Access;
  squash: Squash;
  anonUid: number;
  anonGid: number;
  requirePrivilegedPort: boolean;
  comment: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ShareInfo {
  id: string;
  name: string;
  path: string;
  poolId: string;
  poolName: string;
  volumeId: string;
  volumeName: string;
  size: number;
  allocatedBytes: number;
  exportId: number;
  /** exports(5) sync (true) or async metadata commits. */
  sync: boolean;
  state: 'online' | 'degraded' | 'failed';
  /** Set while a restore job fills it: not served yet. */
  restoringFrom?: string;
  /** Set when it is a replica another gateway writes: not served until promoted. */
  replica?: ReplicaInfo | null;
  rules: ExportRuleInfo[];
  createdAt: string;
  updatedAt: string;
}

/** POST /shares/:share/fsck[?snapshot=]: the filesystem's metadata cross-checked against its block allocation. */
export interface ShareFsckReport {
  share: string;
  shareId: string;
  /** Set when a snapshot's metadata copy was checked rather than the live share. */
  snapshot?: string;
  clean: boolean;
  problems: Array<{ kind: string; ino?: number; detail: string; repaired?: boolean }>;
  byKind: Record<string, number>;
  inodes: number;
  directories: number;
  files: number;
  usedBlocks: number;
  totalBlocks: number;
}

export interface HostInfo {
  id: string;
  name: string;
  publicKey: string;
  keyFingerprint: string;
  description: string | null;
  /** integrity: the host may send its SAN data in clear, authenticated, when it asks to. */
  security: HostSecurity;
  assignments: AssignmentInfo[];
  createdAt: string;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  source: string | null;
  action: string;
  objectType: string | null;
  objectId: string | null;
  objectName: string | null;
  outcome: 'success' | 'failure';
  errorCode: string | null;
  detail: Record<string, unknown> | null;
}

export interface Session {
  token: string;
  username: string;
  expiresAt: string;
}

/** Sizes go over the wire as bytes or as text with a binary unit ('64M'). */
export type SizeValue = number | string;

export interface CreateDeviceBody {
  name: string;
  kind: DeviceKind;
  path?: string;
  size?: SizeValue;
}

export interface PoolMemberBody {
  device: string;
  offset?: SizeValue;
  length?: SizeValue;
}

export interface CreatePoolBody {
  name: string;
  layout: LayoutKind;
  pageSize?: SizeValue;
  stripeUnit?: SizeValue;
  members: PoolMemberBody[];
}

export interface CreateVolumeBody {
  name: string;
  pool: string;
  size: SizeValue;
  provisioning: Provisioning;
}

export interface CreateShareBody {
  name: string;
  pool: string;
  size: SizeValue;
}

export interface ExportRuleBody {
  clients: string[];
  access?: Access;
  squash?: Squash;
  anonUid?: number;
  anonGid?: number;
  requirePrivilegedPort?: boolean;
  comment?: string | null;
  position?: number;
}

export interface CreateScheduleBody {
  name: string;
  volume?: string;
  group?: string;
  every: number;
  unit: ScheduleUnit;
  keep: number;
}

export type HostSecurity = 'encrypt' | 'integrity';

export interface CreateHostBody {
  name: string;
  publicKey: string;
  description?: string;
  security?: HostSecurity;
}

export interface CreateAssignmentBody {
  host: string;
  volume: string;
  access: Access;
  sharing: Sharing;
}

export interface AuditFilter {
  actor?: string;
  action?: string;
  objectType?: string;
  object?: string;
  outcome?: 'success' | 'failure';
  since?: string;
  until?: string;
  limit?: number;
  before?: number;
}

export type JobState = 'queued' | 'running' | 'paused' | 'succeeded' | 'failed' | 'cancelled';

/** A long operation (a mirror resync): GET /jobs. */
export interface JobInfo {
  id: string;
  kind: string;
  target: { type: string; id: string; name: string };
  state: JobState;
  bytesDone: number;
  bytesTotal: number;
  percent: number;
  /** Bytes per second, smoothed; 0 unless running. */
  rate: number;
  etaSeconds: number | null;
  error: string | null;
  resumable: boolean;
  createdBy: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export type BackupTargetKind = 'directory' | 'device' | 'pool';

/** Where backups go: GET /backup-targets. */
export interface BackupTargetInfo {
  id: string;
  name: string;
  kind: BackupTargetKind;
  /** The directory, or the device or file path; null for a pool. */
  path: string | null;
  poolId: string | null;
  poolName: string | null;
  /** Backups the catalog holds on it (any state). */
  backupCount: number;
  createdAt: string;
}

export interface CreateBackupTargetBody {
  name: string;
  kind: BackupTargetKind;
  path?: string;
  pool?: string;
}

/** 'pending': its job has not finished (running, paused, failed or cancelled: see the job). */
export type BackupState = 'pending' | 'complete' | 'overwritten';

/** One backup in the catalog, with its target and its job: GET /backups. */
export interface BackupInfo {
  id: string;
  volumeId: string;
  volumeName: string;
  snapshotName: string;
  kind: 'full' | 'incremental';
  /** The backup an incremental builds on. */
  parentId: string | null;
  targetId: string;
  targetName: string;
  targetKind: BackupTargetKind;
  location: string | null;
  size: number;
  pageSize: number;
  bytesStored: number;
  imageDigest: string | null;
  state: BackupState;
  jobId: string | null;
  job: JobInfo | null;
  /** Backups that build on this one. */
  dependents: string[];
  createdBy: string;
  createdAt: string;
  finishedAt: string | null;
  /** A block volume's backup, or a share's (its volume plus its metadata database). */
  sourceType?: 'volume' | 'share';
  shareId?: string | null;
}

export interface CreateBackupBody {
  volume: string;
  target: string;
  incremental?: boolean;
  rateLimit?: SizeValue;
}

/** POST /backups answers the pending backup and the job that makes it. */
export interface StartedBackup {
  backup: BackupInfo;
  job: JobInfo;
}

/** POST /backups/:id/restore answers the volume being written and the job. */
export interface StartedRestore {
  volume: VolumeInfo;
  job: JobInfo;
  /** Set for a restore to a new share. */
  share?: ShareInfo | null;
}
