import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import type { HostSecurity } from './domain';

/**
 * The catalog schema. Entities never leave src/storage: other modules get the
 * plain domain objects of domain.ts. Times are ISO-8601 text (UTC).
 * The tables are created by migrations/, never by synchronize.
 */

@Entity('devices')
export class DeviceEntity {
  @PrimaryColumn('text') id: string;
  @Column('text', { unique: true }) name: string;
  @Column('text') kind: 'file' | 'block' | 'ram';
  @Column('text', { nullable: true }) path: string | null;
  @Column('integer') size: number;
  @Column('integer', { name: 'sector_size' }) sectorSize: number;
  @Column('text', { name: 'created_at' }) createdAt: string;
}

@Entity('pools')
export class PoolEntity {
  @PrimaryColumn('text') id: string;
  @Column('text', { unique: true }) name: string;
  @Column('text') layout: 'concat' | 'raid0' | 'raid1' | 'raid10';
  @Column('integer', { name: 'page_size' }) pageSize: number;
  @Column('integer', { name: 'stripe_unit' }) stripeUnit: number;
  @Column('text', { name: 'created_at' }) createdAt: string;
}

/** A region of a device given to a pool; `position` orders the pool's members. */
@Entity('extents')
export class ExtentEntity {
  @PrimaryColumn('text') id: string;
  @Column('text', { name: 'device_id' }) deviceId: string;
  @Column('text', { name: 'pool_id' }) poolId: string;
  @Column('integer') position: number;
  @Column('integer') offset: number;
  @Column('integer') length: number;
  @Column('text', { name: 'created_at' }) createdAt: string;
  /** 'failed': a mirror member out of service (stale until resynced). */
  @Column('text') state: 'online' | 'failed';
  @Column('text', { name: 'state_reason', nullable: true }) stateReason: string | null;
  @Column('text', { name: 'failed_at', nullable: true }) failedAt: string | null;
}

@Entity('volumes')
export class VolumeEntity {
  @PrimaryColumn('text') id: string;
  @Column('text', { unique: true }) name: string;
  @Column('text', { name: 'pool_id' }) poolId: string;
  @Column('integer') size: number;
  @Column('text') provisioning: 'thin' | 'thick';
  /** Stable identity a SAN client sees (serial, WWN). */
  @Column('text', { unique: true }) serial: string;
  /** 'deleting' survives a crash in the middle of a delete so boot can finish it. */
  @Column('text') state: 'online' | 'deleting';
  /** Exported by the gateway's own NBD server on loopback. */
  @Column('boolean', { name: 'nbd_export' }) nbdExport: boolean;
  /** 'share': the backing volume of a NAS share (shares.volume_id points here); 'snapshot': a read-only snapshot of origin_id. */
  @Column('text') role: 'block' | 'share' | 'snapshot';
  /** Set on a mirror's member: the hidden copy of that volume, never listed, assigned or addressed on its own. */
  @Column('text', { name: 'mirror_of', nullable: true }) mirrorOf: string | null;
  /** A snapshot's volume. */
  @Column('text', { name: 'origin_id', nullable: true }) originId: string | null;
  /** Volumes sharing pool pages (a volume, its snapshots, their clones) have one family; null: the volume's own id. */
  @Column('text', { name: 'family_id', nullable: true }) familyId: string | null;
  /** The schedule that took this snapshot: it deletes its own beyond its `keep`. */
  @Column('text', { name: 'schedule_id', nullable: true }) scheduleId: string | null;
  @Column('text', { name: 'created_at' }) createdAt: string;
}

/** A named set of volumes snapshotted at one instant. */
@Entity('consistency_groups')
export class ConsistencyGroupEntity {
  @PrimaryColumn('text') id: string;
  @Column('text', { unique: true }) name: string;
  @Column('text', { name: 'created_at' }) createdAt: string;
}

@Entity('consistency_group_members')
export class ConsistencyGroupMemberEntity {
  @PrimaryColumn('text', { name: 'group_id' }) groupId: string;
  @PrimaryColumn('text', { name: 'volume_id' }) volumeId: string;
}

@Entity('snapshot_schedules')
export class SnapshotScheduleEntity {
  @PrimaryColumn('text') id: string;
  @Column('text', { unique: true }) name: string;
  @Column('text', { name: 'volume_id', nullable: true }) volumeId: string | null;
  @Column('text', { name: 'group_id', nullable: true }) groupId: string | null;
  @Column('integer') every: number;
  @Column('text') unit: 'minutes' | 'hours' | 'days';
  @Column('integer') keep: number;
  @Column('text', { name: 'next_run_at' }) nextRunAt: string;
  @Column('text', { name: 'last_run_at', nullable: true }) lastRunAt: string | null;
  @Column('text', { name: 'last_error', nullable: true }) lastError: string | null;
  @Column('text', { name: 'created_at' }) createdAt: string;
}

/** A volume's synchronous mirror; the member volume lives on another pool. */
@Entity('mirrors')
export class MirrorEntity {
  @PrimaryColumn('text', { name: 'volume_id' }) volumeId: string;
  @Column('text', { name: 'member_id', unique: true }) memberId: string;
  @Column('text') state: 'in-sync' | 'syncing' | 'degraded';
  @Column('text', { nullable: true }) reason: string | null;
  /** Dirty tracking unit: the larger page size of the two pools. */
  @Column('integer', { name: 'region_size' }) regionSize: number;
  @Column('text', { name: 'created_at' }) createdAt: string;
  @Column('text', { name: 'updated_at' }) updatedAt: string;
}

/** A long operation (resync, later replication, backup, restore, clone copy), resumable from its checkpoint. */
@Entity('jobs')
export class JobEntity {
  @PrimaryColumn('text') id: string;
  @Column('text') kind: string;
  @Column('text', { name: 'target_type' }) targetType: string;
  @Column('text', { name: 'target_id' }) targetId: string;
  @Column('text', { name: 'target_name' }) targetName: string;
  @Column('text') state: 'queued' | 'running' | 'paused' | 'succeeded' | 'failed' | 'cancelled';
  /** JSON. */
  @Column('text') params: string;
  /** JSON, kind-specific; null before the first checkpoint. */
  @Column('text', { nullable: true }) checkpoint: string | null;
  @Column('integer', { name: 'bytes_done' }) bytesDone: number;
  @Column('integer', { name: 'bytes_total' }) bytesTotal: number;
  @Column('text', { nullable: true }) error: string | null;
  @Column('text', { name: 'created_by' }) createdBy: string;
  @Column('text', { name: 'created_at' }) createdAt: string;
  @Column('text', { name: 'started_at', nullable: true }) startedAt: string | null;
  @Column('text', { name: 'finished_at', nullable: true }) finishedAt: string | null;
  @Column('text', { name: 'updated_at' }) updatedAt: string;
}

/** A volume copied in cycles to a volume on another gateway (source side). */
@Entity('replications')
export class ReplicationEntity {
  @PrimaryColumn('text') id: string;
  @Column('text', { name: 'volume_id', unique: true }) volumeId: string;
  /** The target gateway's SAN address, `host:port`. */
  @Column('text', { name: 'target_address' }) targetAddress: string;
  @Column('text', { name: 'target_volume' }) targetVolume: string;
  /** The host name the target registered this gateway's replication key under. */
  @Column('text', { name: 'host_name' }) hostName: string;
  /** A cycle this often (when none is running); null: on demand only. */
  @Column('integer', { name: 'every_seconds', nullable: true }) everySeconds: number | null;
  /** Bytes per second, 0: no limit. */
  @Column('integer', { name: 'rate_limit' }) rateLimit: number;
  /** The last cycle the target committed and this side recorded; 0 before the first. */
  @Column('integer', { name: 'last_cycle' }) lastCycle: number;
  @Column('text', { name: 'last_good_at', nullable: true }) lastGoodAt: string | null;
  /** When the snapshot of the last good cycle was taken: the replica holds the volume as it was then. */
  @Column('text', { name: 'last_point_at', nullable: true }) lastPointAt: string | null;
  @Column('integer', { name: 'bytes_sent' }) bytesSent: number;
  @Column('text', { name: 'last_error', nullable: true }) lastError: string | null;
  @Column('text', { name: 'next_run_at', nullable: true }) nextRunAt: string | null;
  @Column('text', { name: 'created_at' }) createdAt: string;
}

/** A volume received from another gateway (target side): only `hostId` writes it, REPLICA_COMMIT snapshots it. */
@Entity('replicas')
export class ReplicaEntity {
  @PrimaryColumn('text', { name: 'volume_id' }) volumeId: string;
  @Column('text', { name: 'host_id' }) hostId: string;
  @Column('integer', { name: 'last_cycle' }) lastCycle: number;
  @Column('text', { name: 'last_commit_at', nullable: true }) lastCommitAt: string | null;
  @Column('text', { name: 'created_at' }) createdAt: string;
}

/** A NAS share; its size and pool are those of its volume. */
@Entity('shares')
export class ShareEntity {
  @PrimaryColumn('text') id: string;
  @Column('text', { unique: true }) name: string;
  @Column('text', { name: 'volume_id', unique: true }) volumeId: string;
  /** In NFS file handles; allocated from settings 'shares.lastExportId', never reused. */
  @Column('integer', { name: 'export_id', unique: true }) exportId: number;
  /** 32 random bytes: the MAC key of the share's file handles. */
  @Column('blob', { name: 'secret_key' }) secretKey: Buffer;
  @Column('text') state: 'online' | 'deleting';
  /** The backup a restore job is filling this share from: not served, nor changed, until it is done. */
  @Column('text', { name: 'restoring_from', nullable: true }) restoringFrom: string | null;
  /** exports(5) sync: namespace and attribute changes are durable before the reply. */
  @Column('boolean', { default: true }) sync: boolean;
  @Column('text', { name: 'created_at' }) createdAt: string;
  @Column('text', { name: 'updated_at' }) updatedAt: string;
}

@Entity('export_rules')
export class ExportRuleEntity {
  @PrimaryColumn('text') id: string;
  @Column('text', { name: 'share_id' }) shareId: string;
  /** 0-based here, 1-based in the API. */
  @Column('integer') position: number;
  /** JSON array of canonical client patterns. */
  @Column('text') clients: string;
  @Column('text') access: 'ro' | 'rw';
  @Column('text') squash: 'root_squash' | 'all_squash' | 'no_root_squash';
  @Column('integer', { name: 'anon_uid' }) anonUid: number;
  @Column('integer', { name: 'anon_gid' }) anonGid: number;
  @Column('boolean', { name: 'require_privileged_port' }) requirePrivilegedPort: boolean;
  @Column('text', { nullable: true }) comment: string | null;
  @Column('text', { name: 'created_at' }) createdAt: string;
  @Column('text', { name: 'updated_at' }) updatedAt: string;
}

@Entity('hosts')
export class HostEntity {
  @PrimaryColumn('text') id: string;
  @Column('text', { unique: true }) name: string;
  /** OpenSSH form: `ssh-ed25519 <base64>`. */
  @Column('text', { name: 'public_key' }) publicKey: string;
  @Column('text', { name: 'key_fingerprint', unique: true }) keyFingerprint: string;
  @Column('text', { nullable: true }) description: string | null;
  /** What the host's SAN sessions must use: `encrypt`, or `integrity` (clear, authenticated) when it asks. */
  @Column('text', { default: 'encrypt' }) security: HostSecurity;
  @Column('text', { name: 'created_at' }) createdAt: string;
}

@Entity('assignments')
@Index(['hostId', 'volumeId'], { unique: true })
export class AssignmentEntity {
  @PrimaryColumn('text') id: string;
  @Column('text', { name: 'host_id' }) hostId: string;
  @Column('text', { name: 'volume_id' }) volumeId: string;
  @Column('text') access: 'rw' | 'ro';
  @Column('text') sharing: 'exclusive' | 'shared';
  @Column('text', { name: 'created_at' }) createdAt: string;
}

@Entity('admin_users')
export class AdminUserEntity {
  @PrimaryColumn('text') id: string;
  @Column('text', { unique: true }) username: string;
  @Column('text', { name: 'password_hash' }) passwordHash: string;
  @Column('text', { name: 'created_at' }) createdAt: string;
  @Column('text', { name: 'last_login_at', nullable: true }) lastLoginAt: string | null;
}

/** An admin's SSH public key for the admin shell; `fingerprint` (SHA256 of the key blob) is unique across admins. */
@Entity('admin_ssh_keys')
export class AdminSshKeyEntity {
  @PrimaryColumn('text') id: string;
  @Column('text', { name: 'user_id' }) userId: string;
  @Column('text') name: string;
  /** OpenSSH form without the comment: `ssh-ed25519 <base64>`. */
  @Column('text', { name: 'public_key' }) publicKey: string;
  @Column('text', { unique: true }) fingerprint: string;
  @Column('text', { name: 'created_at' }) createdAt: string;
}

/** Only a SHA-256 of each bearer token is kept. */
@Entity('api_tokens')
export class ApiTokenEntity {
  @PrimaryColumn('text') id: string;
  @Column('text', { name: 'token_hash', unique: true }) tokenHash: string;
  @Column('text', { name: 'user_id' }) userId: string;
  @Column('text', { name: 'created_at' }) createdAt: string;
  @Column('text', { name: 'expires_at' }) expiresAt: string;
  @Column('text', { nullable: true }) source: string | null;
}

@Entity('audit_log')
export class AuditEntity {
  @PrimaryGeneratedColumn() id: number;
  @Column('text') at: string;
  @Column('text') actor: string;
  @Column('text', { nullable: true }) source: string | null;
  @Column('text') action: string;
  @Column('text', { name: 'object_type', nullable: true }) objectType: string | null;
  @Column('text', { name: 'object_id', nullable: true }) objectId: string | null;
  @Column('text', { name: 'object_name', nullable: true }) objectName: string | null;
  @Column('text') outcome: 'success' | 'failure';
  @Column('text', { name: 'error_code', nullable: true }) errorCode: string | null;
  @Column('text', { nullable: true }) detail: string | null;
}

/** Where backups go: a directory of image files, a device or file holding one raw image, or a pool of this gateway. */
@Entity('backup_targets')
export class BackupTargetEntity {
  @PrimaryColumn('text') id: string;
  @Column('text', { unique: true }) name: string;
  @Column('text') kind: 'directory' | 'device' | 'pool';
  @Column('text', { nullable: true }) path: string | null;
  @Column('text', { name: 'pool_id', nullable: true }) poolId: string | null;
  @Column('text', { name: 'created_at' }) createdAt: string;
}

/** One backup of a volume's snapshot; 'complete' once its image and manifest are durable on the target. */
@Entity('backups')
export class BackupEntity {
  @PrimaryColumn('text') id: string;
  /** Not a foreign key: a backup outlives its volume. */
  @Column('text', { name: 'volume_id' }) volumeId: string;
  @Column('text', { name: 'volume_name' }) volumeName: string;
  @Column('text', { name: 'snapshot_name' }) snapshotName: string;
  @Column('text') kind: 'full' | 'incremental';
  @Column('text', { name: 'parent_id', nullable: true }) parentId: string | null;
  @Column('text', { name: 'target_id' }) targetId: string;
  /** The image file (directory), the device path, or the snapshot volume's id (pool). */
  @Column('text', { nullable: true }) location: string | null;
  @Column('integer') size: number;
  @Column('integer', { name: 'page_size' }) pageSize: number;
  @Column('integer', { name: 'bytes_stored' }) bytesStored: number;
  @Column('text', { name: 'image_digest', nullable: true }) imageDigest: string | null;
  /** The manifest's JSON, byte for byte what a directory target holds beside the image. */
  @Column('text', { nullable: true }) manifest: string | null;
  /** 'overwritten': a newer backup to the same device took its place. */
  @Column('text') state: 'pending' | 'complete' | 'overwritten';
  @Column('text', { name: 'job_id', nullable: true }) jobId: string | null;
  @Column('text', { name: 'created_by' }) createdBy: string;
  @Column('text', { name: 'created_at' }) createdAt: string;
  @Column('text', { name: 'finished_at', nullable: true }) finishedAt: string | null;
  /** 'share': volume_id is the share's volume, and a copy of its metadata database goes with the image. */
  @Column('text', { name: 'source_type', default: 'volume' }) sourceType: 'volume' | 'share';
  @Column('text', { name: 'share_id', nullable: true }) shareId: string | null;
  /** A share backup's metadata database copy (a file: beside the image, or under the data dir for a pool target). */
  @Column('text', { name: 'metadata_location', nullable: true }) metadataLocation: string | null;
}

export const CATALOG_ENTITIES = [
  DeviceEntity,
  PoolEntity,
  ExtentEntity,
  VolumeEntity,
  ConsistencyGroupEntity,
  ConsistencyGroupMemberEntity,
  SnapshotScheduleEntity,
  MirrorEntity,
  JobEntity,
  ReplicationEntity,
  ReplicaEntity,
  ShareEntity,
  ExportRuleEntity,
  HostEntity,
  AssignmentEntity,
  AdminUserEntity,
  AdminSshKeyEntity,
  ApiTokenEntity,
  AuditEntity,
  BackupTargetEntity,
  BackupEntity,
];
