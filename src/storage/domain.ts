/**
 * The storage manager's domain objects: plain data handed to the REST API, the
 * CLI and the protocol front ends. Sizes are bytes, times ISO-8601 UTC.
 */
import type { DeviceKind } from '../devices/block-device';
import type { LayoutKind, MemberState } from '../virtualization/layout';
import type { Provisioning } from '../virtualization/logical-disk';
import { SECURITY_MODES, type SecurityMode } from '../protocols/san/login';

export type DeviceState = 'online' | 'failed' | 'missing';

export interface ExtentInfo {
  id: string;
  deviceId: string;
  deviceName: string;
  poolId: string;
  poolName: string;
  position: number;
  offset: number;
  length: number;
  state: MemberState;
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
  /** Bytes not yet given to any pool. */
  freeBytes: number;
  state: DeviceState;
  stateReason?: string;
  extents: ExtentInfo[];
  createdAt: string;
}

export type PoolState = 'online' | 'degraded' | 'failed';

export interface PoolInfo {
  id: string;
  name: string;
  layout: LayoutKind;
  pageSize: number;
  stripeUnit: number;
  /** Usable bytes (whole pages). */
  capacity: number;
  /** Bytes of pages given to volumes. */
  usedBytes: number;
  freeBytes: number;
  /** Sum of the sizes of its volumes (shares' volumes included): above capacity means thin overcommit. */
  provisionedBytes: number;
  /** Block volumes. */
  volumeCount: number;
  /** NAS shares (each on a volume of its own). */
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
  access: 'rw' | 'ro';
  sharing: 'exclusive' | 'shared';
  createdAt: string;
}

/** What a volume is for: a SAN/NBD block volume, the backing disk of a NAS share, or a read-only snapshot of a volume. */
export type VolumeRole = 'block' | 'share' | 'snapshot';

export interface VolumeInfo {
  id: string;
  name: string;
  /** 'share': the backing volume of a NAS share, managed through the share (never assigned, exported or deleted on its own). */
  role: VolumeRole;
  /** The share it backs, when role is 'share'. */
  share: { id: string; name: string } | null;
  /** The volume it is a snapshot of, when role is 'snapshot'. */
  origin?: { id: string; name: string } | null;
  poolId: string;
  poolName: string;
  size: number;
  provisioning: Provisioning;
  pageSize: number;
  /** Bytes of pool pages backing it. */
  allocatedBytes: number;
  serial: string;
  state: 'online' | 'degraded' | 'failed';
  /** Served by the gateway's NBD export on loopback, under the volume's name. */
  nbdExport: boolean;
  assignments: AssignmentInfo[];
  /** Its synchronous mirror on another pool, if it has one. */
  mirror: MirrorInfo | null;
  /** Set when it is a replica received from another gateway (docs/replication.md). */
  replica?: ReplicaInfo | null;
  createdAt: string;
}

/** A replica volume: written only by the source gateway's host, snapshotted at each cycle the source commits. */
export interface ReplicaInfo {
  hostId: string;
  /** Null when that host was removed since (the replica can still be promoted). */
  hostName: string | null;
  /** The last cycle committed; 0 before the first (the replica holds no consistent point yet). */
  lastCycle: number;
  lastCommitAt: string | null;
  /** `<volume>@cycle-<n>`, the last consistent point, or null. */
  snapshot: string | null;
}

/** A source volume's replication to a volume on another gateway. */
export interface ReplicationInfo {
  id: string;
  volume: { id: string; name: string };
  /** Set when a share is replicated (its volume and its metadata database); `targetVolume` then names the target's share. */
  share: { id: string; name: string } | null;
  /** The target gateway's SAN address, `host:port`. */
  target: string;
  targetVolume: string;
  /** The host name this gateway logs in to the target as (registered there with the replication key). */
  hostName: string;
  /** Seconds between scheduled cycles, or null: on demand only. */
  everySeconds: number | null;
  /** Bytes per second, 0 for none. */
  rateLimit: number;
  /** The last cycle the target committed; 0 before the first. */
  lastCycle: number;
  /** When that cycle completed. */
  lastGoodAt: string | null;
  /** The instant the replica holds (the last good cycle's snapshot). */
  lastPointAt: string | null;
  /** Seconds from that instant to now: how far the replica is behind; null before the first cycle. */
  lagSeconds: number | null;
  bytesSent: number;
  lastError: string | null;
  nextRunAt: string | null;
  /** The cycle job running or waiting now, if any (its id). */
  activeJobId: string | null;
  createdAt: string;
}

/** A point-in-time, read-only image of a volume, sharing pool pages with it. */
export interface SnapshotInfo {
  id: string;
  /** Its own name, unique among the volume's snapshots. */
  name: string;
  /** `<volume>@<name>`: the volume name it is assigned, discovered and read under. */
  volumeName: string;
  /** The volume it is a snapshot of. */
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
  /** The schedule that took it, if any (schedules delete their own old snapshots). */
  scheduleId: string | null;
  assignments: AssignmentInfo[];
  createdAt: string;
}

export interface ConsistencyGroupInfo {
  id: string;
  name: string;
  volumes: Array<{ id: string; name: string }>;
  createdAt: string;
}

export type ScheduleUnit = 'minutes' | 'hours' | 'days';

/** Snapshots of a volume or a consistency group every `every` `unit`s, keeping the last `keep` it took. */
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

export type ExportAccess = 'ro' | 'rw';

/**
 * root_squash: uid 0 and gid 0 (also in the group list) become the anonymous
 * ids; all_squash: everyone is anonymous; no_root_squash: ids as sent.
 */
export type Squash = 'root_squash' | 'all_squash' | 'no_root_squash';

/** One export rule of a share; the first rule whose clients match a caller decides for it. */
export interface ExportRuleInfo {
  id: string;
  shareId: string;
  /** 1-based order within the share. */
  position: number;
  /** `*`, addresses or CIDR networks, IPv4 or IPv6, in canonical spelling. */
  clients: string[];
  access: ExportAccess;
  squash: Squash;
  anonUid: number;
  anonGid: number;
  /** Only callers from a source port below 1024 (Linux's `secure`). */
  requirePrivilegedPort: boolean;
  comment: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A NAS share: a filesystem on its own thin volume, exported to the clients its rules admit. */
export interface ShareInfo {
  id: string;
  name: string;
  /** What NFS clients mount: `/<name>`. */
  path: string;
  poolId: string;
  poolName: string;
  volumeId: string;
  volumeName: string;
  size: number;
  /** Bytes of pool pages backing the share's volume. */
  allocatedBytes: number;
  /** Stable small integer in NFS file handles; never reused. */
  exportId: number;
  /**
   * Like exports(5) sync (the default): creates, removes, renames and
   * attribute changes are durable before the reply. false: committed before
   * the reply without waiting for the disk, synced within a second (a crash
   * of the gateway loses none of them; a crash of the host may lose the last
   * second of them). Writes report their real stability either way.
   */
  sync: boolean;
  state: 'online' | 'degraded' | 'failed';
  /** Set while a restore job fills the share from this backup: not served until it is done. */
  restoringFrom?: string;
  /** Set when the share is a replica another gateway writes (docs/replication.md): not served until promoted. */
  replica?: ReplicaInfo | null;
  rules: ExportRuleInfo[];
  createdAt: string;
  updatedAt: string;
}

/**
 * What the NAS data path needs of a share: its public description and its
 * file-handle key (32 random bytes for the handles' MAC). Only in change
 * events and ShareService.exports(): never returned by the API.
 */
export interface ShareExport {
  share: ShareInfo;
  secretKey: Buffer;
  /** Its snapshots, oldest first: what NFS clients see under `/.snapshots/`. */
  snapshots: ShareSnapshotRef[];
  /** False while a restore fills it or it is a replica: the NAS closes its filesystem and leaves it alone. */
  served?: boolean;
}

/** A snapshot of a share as the NAS serves it, read-only, under `/.snapshots/<name>/`. */
export interface ShareSnapshotRef {
  /** The snapshot volume (the share's data at that instant); also names the metadata copy. */
  volumeId: string;
  name: string;
  /** The number file handles under `/.snapshots/<name>/` carry: per share, never reused. */
  handleId: number;
  createdAt: string;
}

/**
 * What a host's SAN sessions must use (docs/san-protocol.md, section 5):
 * `encrypt` refuses its integrity-only logins; `integrity` lets it send data
 * in clear, authenticated, when it asks to.
 */
export type HostSecurity = SecurityMode;
export const HOST_SECURITIES = SECURITY_MODES;

export interface HostInfo {
  id: string;
  name: string;
  publicKey: string;
  keyFingerprint: string;
  description: string | null;
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

/** Who did something, from where: recorded with every change. */
export interface Actor {
  name: string;
  source?: string;
}

export const SYSTEM_ACTOR: Actor = { name: 'system', source: 'gateway' };

export type JobState = 'queued' | 'running' | 'paused' | 'succeeded' | 'failed' | 'cancelled';

/** A long operation as persisted: progress and checkpoint survive a restart. */
export interface JobRecord {
  id: string;
  kind: string;
  target: { type: string; id: string; name: string };
  state: JobState;
  params: Record<string, unknown>;
  /** Kind-specific resume point (e.g. the next region to copy); null before the first one. */
  checkpoint: Record<string, unknown> | null;
  bytesDone: number;
  bytesTotal: number;
  error: string | null;
  createdBy: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
}

export type MirrorState = 'in-sync' | 'syncing' | 'degraded';

/** A volume's synchronous mirror, as GET /volumes/:v shows it. */
export interface MirrorInfo {
  /** Where the mirror member lives (after a swap: where the old primary lives). */
  poolId: string;
  poolName: string;
  state: MirrorState;
  reason: string | null;
  /** Copied share of the running resync, 0-100 (100 when in sync). */
  syncPercent: number;
  regionSize: number;
  dirtyRegions: number;
  dirtyBytes: number;
  /** Regions in the write-intent log (written in the last seconds): what a crash now would resync. */
  intentRegions: number;
}

export type BackupTargetKind = 'directory' | 'device' | 'pool';

/** Where backups go. */
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

/** 'pending': its job has not finished (running, paused, failed or cancelled: see the job). */
export type BackupState = 'pending' | 'complete' | 'overwritten';

/** One backup as the catalog keeps it. */
export interface BackupRecord {
  id: string;
  volumeId: string;
  volumeName: string;
  snapshotName: string;
  kind: 'full' | 'incremental';
  parentId: string | null;
  targetId: string;
  location: string | null;
  size: number;
  pageSize: number;
  bytesStored: number;
  /** SHA-256 of the image's page digests (see docs/backup.md). */
  imageDigest: string | null;
  state: BackupState;
  jobId: string | null;
  createdBy: string;
  createdAt: string;
  finishedAt: string | null;
  /** What was backed up: a block volume, or a share (its volume, volumeId, plus its metadata database). */
  sourceType: 'volume' | 'share';
  shareId: string | null;
  /** A share backup's metadata database copy, once complete. */
  metadataLocation: string | null;
}
