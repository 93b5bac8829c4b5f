import { Conflict, NameTaken, NotFound } from '../../common/errors';
import type { BackupCatalog } from '../../storage/backup-catalog';
import type { Actor, BackupRecord, BackupTargetInfo } from '../../storage/domain';
import type { StorageRuntime } from '../../storage/runtime';
import type { SnapshotService } from '../../storage/snapshot.service';
import type { VolumeService } from '../../storage/volume.service';
import { changedRuns } from '../../virtualization/page-diff';
import type { VolumeIo } from '../../virtualization/mirrored-disk';
import type { BackupSink } from './backup-files';

export interface PoolSinkDeps {
  catalog: BackupCatalog;
  runtime: StorageRuntime;
  volumes: VolumeService;
  snapshots: SnapshotService;
  actor: Actor;
}

/** The snapshot name every backup gets, on its source volume and on a pool target's volume. */
export const backupSnapshotName = (backupId: string) => `backup-${backupId}`;

/** A pool target's volume for a source: `<volume>.backup`; a share's volume `share:home` gives `share.home.backup` (names take no ':'). */
export const poolVolumeName = (volumeName: string) => `${volumeName.replace(/:/g, '.')}.backup`;

/**
 * A pool target: one volume `<volume>.backup` in that pool takes the runs of
 * each backup, then a snapshot of it is taken per backup, so every backup
 * there is a whole image on its own (sharing pages with its neighbours).
 * While a backup is pending its row's location is that volume's id; once
 * complete, the snapshot's id.
 */
export class PoolSink implements BackupSink {
  private constructor(
    private readonly deps: PoolSinkDeps,
    private readonly backupId: string,
    private readonly volumeId: string,
    private readonly disk: VolumeIo,
    readonly resumed: boolean,
  ) {}

  static async open(deps: PoolSinkDeps, target: BackupTargetInfo, rec: BackupRecord, size: number, parent: BackupRecord | null, resume: boolean): Promise<PoolSink> {
    if (!target.poolName) throw new NotFound('pool', target.poolId ?? '?');
    let volumeId: string;
    if (resume && rec.location) volumeId = rec.location;
    else if (parent) {
      const snap = await deps.volumes.get(parent.location!);
      volumeId = snap.origin!.id;
    } else volumeId = await PoolSink.fullVolume(deps, target, rec, size);
    let volume = await deps.volumes.get(volumeId);
    if (volume.size < size) volume = await deps.volumes.update(deps.actor, volume.id, { size });
    if (volume.size > size) {
      throw new Conflict('BACKUP_VOLUME_CHANGED', `volume '${volume.name}' in pool '${target.poolName}' is larger (${volume.size} bytes) than '${rec.volumeName}' (${size}): remove it, or back up to another target`, { volume: volume.name });
    }
    if (parent && !resume) {
      // An incremental applies only the changes since the parent: the volume must still hold the parent's image.
      const base = deps.runtime.disks.get(parent.location!);
      const here = deps.runtime.disks.get(volume.id);
      if (!base || !here) throw new NotFound('volume', volume.name);
      if (changedRuns(base, here).length > 0) {
        throw new Conflict('BACKUP_VOLUME_CHANGED', `volume '${volume.name}' was written after backup ${parent.id}: make a full backup (or roll it back to its snapshot ${backupSnapshotName(parent.id)})`, { volume: volume.name });
      }
    }
    await deps.catalog.updateBackup(rec.id, { location: volume.id });
    return new PoolSink(deps, rec.id, volume.id, await deps.volumes.blockDisk(volume.id), resume);
  }

  /** A full backup's volume: ours if a backup on this target already uses it, created otherwise. */
  private static async fullVolume(deps: PoolSinkDeps, target: BackupTargetInfo, rec: BackupRecord, size: number): Promise<string> {
    const name = poolVolumeName(rec.volumeName);
    const existing = await deps.volumes.get(name).catch((e: unknown) => {
      if (e instanceof NotFound) return null;
      throw e;
    });
    if (!existing) return (await deps.volumes.create(deps.actor, { name, pool: target.poolId!, size })).id;
    // Only a volume holding backups of a source of this name: 'share:home' and a volume 'share.home' both map to 'share.home.backup'.
    for (const b of await deps.catalog.listBackups({ targetId: target.id, volumeName: rec.volumeName })) {
      if (b.location === existing.id) return existing.id;
      if (b.state === 'complete' && b.location) {
        const snap = await deps.volumes.get(b.location).catch(() => null);
        if (snap?.origin?.id === existing.id) return existing.id;
      }
    }
    throw new NameTaken('volume', name);
  }

  writeData(offset: number, data: Buffer): Promise<void> {
    return this.disk.write(offset, data);
  }

  writeZeros(offset: number, length: number): Promise<void> {
    return this.disk.discard(offset, length);
  }

  sync(): Promise<void> {
    return this.disk.flush();
  }

  async finish(_manifest: Buffer, dataBytes: number): Promise<{ location: string; bytesStored: number }> {
    await this.disk.flush();
    const name = backupSnapshotName(this.backupId);
    const taken = (await this.deps.snapshots.list(this.volumeId)).find((s) => s.name === name);
    const snap = taken ?? (await this.deps.snapshots.create(this.deps.actor, this.volumeId, { name }));
    return { location: snap.id, bytesStored: dataBytes };
  }

  async close(): Promise<void> {}
}
