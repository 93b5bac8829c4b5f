import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { dirname, join } from 'node:path';
import { syncDirectory } from '../../common/durable-files';
import { DomainError } from '../../common/errors';
import type { BlockDevice } from '../../devices/block-device';
import { errnoOf, preadFully, pwriteFully } from '../../devices/fd-io';
import { openDevice } from '../../devices/open-device';

/**
 * The file and device side of backups: sparse image files with their
 * manifests in a directory, or one raw image on a device or file. Each
 * backup's image is written under a temporary name and renamed once durable.
 */

/** A target that cannot take or give back a backup: gone, unreadable, damaged. */
export class BackupTargetError extends DomainError {
  readonly code = 'BACKUP_TARGET_ERROR';
}

/** A backup whose bytes are not what its manifest says. */
export class BackupDamaged extends DomainError {
  readonly code = 'BACKUP_DAMAGED';
}

/** Where one backup of a directory target lives. */
export function directoryPaths(targetDir: string, volumeName: string, backupId: string) {
  const dir = join(targetDir, volumeName);
  return {
    dir,
    image: join(dir, `${backupId}.img`),
    manifest: join(dir, `${backupId}.json`),
    imagePart: join(dir, `.${backupId}.img.part`),
    manifestPart: join(dir, `.${backupId}.json.part`),
    /** A share backup's metadata database copy. */
    metadata: join(dir, metadataFileName(backupId)),
    metadataPart: join(dir, `.${metadataFileName(backupId)}.part`),
  };
}

/** The name of a share backup's metadata database copy, on every target. */
export const metadataFileName = (backupId: string) => `${backupId}.meta.sqlite`;

const COPY_CHUNK = 2 ** 20;

export { copyFileHashed, syncDirectory } from '../../common/durable-files';

/** A file's size and hex SHA-256, or BackupDamaged naming it when it cannot be read. */
export async function hashFile(path: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of fs.createReadStream(path, { highWaterMark: COPY_CHUNK })) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
  } catch (e) {
    throw new BackupDamaged(`metadata file ${path} ${errnoOf(e) === 'ENOENT' ? 'is missing' : `cannot be read (${errnoOf(e) ?? (e as Error).message})`}`, { path });
  }
  return { size, sha256: hash.digest('hex') };
}

/** The admin's directory must be there: never recreate a directory that vanished (an unmounted disk would fill the root). */
export async function assertDirectory(path: string): Promise<void> {
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(path);
  } catch (e) {
    throw new BackupTargetError(`backup directory '${path}' ${errnoOf(e) === 'ENOENT' ? 'does not exist (removed, or its disk not mounted?)' : `cannot be reached (${errnoOf(e) ?? (e as Error).message})`}`, { path });
  }
  if (!st.isDirectory()) throw new BackupTargetError(`backup directory '${path}' is not a directory`, { path });
}

/** Can we create, write, sync and remove a file there? */
export async function probeWritable(path: string): Promise<void> {
  await assertDirectory(path);
  const probe = join(path, `.strata-probe-${process.pid}-${Date.now()}`);
  try {
    const fh = await fs.promises.open(probe, 'wx', 0o600);
    try {
      await fh.write(Buffer.from('strata'));
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw new BackupTargetError(`backup directory '${path}' is not writable (${errnoOf(e) ?? (e as Error).message})`, { path });
  } finally {
    await fs.promises.unlink(probe).catch(() => undefined);
  }
}

/** Where a backup's bytes go while it is being made. */
export interface BackupSink {
  /** False when a resumed backup found nothing of its earlier run: start over from the first run. */
  readonly resumed: boolean;
  writeData(offset: number, data: Buffer): Promise<void>;
  /** Bytes that read as zeros in the image: a hole in a file, a discard elsewhere. */
  writeZeros(offset: number, length: number): Promise<void>;
  /** What was written so far is durable: called before each checkpoint. */
  sync(): Promise<void>;
  /** Durable and in its final place; the catalog row commits after this. `dataBytes`: the data runs' bytes. */
  finish(manifest: Buffer, dataBytes: number): Promise<{ location: string; bytesStored: number }>;
  close(): Promise<void>;
}

/** A sparse image file of `size` bytes and its manifest, in `<dir>/<volume>/`. */
export class DirectorySink implements BackupSink {
  private constructor(
    private readonly paths: ReturnType<typeof directoryPaths>,
    private readonly targetDir: string,
    private fd: number | null,
    readonly resumed: boolean,
  ) {}

  static async open(targetDir: string, volumeName: string, backupId: string, size: number, resume: boolean): Promise<DirectorySink> {
    await assertDirectory(targetDir);
    const paths = directoryPaths(targetDir, volumeName, backupId);
    await fs.promises.mkdir(paths.dir, { recursive: true, mode: 0o700 });
    // Finished before a crash, with only the catalog row missing.
    if (resume && (await exists(paths.image))) return new DirectorySink(paths, targetDir, null, true);
    const resumed = resume && (await exists(paths.imagePart));
    const fd = await new Promise<number>((res, rej) => fs.open(paths.imagePart, resumed ? 'r+' : 'w', 0o600, (e, n) => (e ? rej(e) : res(n))));
    await new Promise<void>((res, rej) => fs.ftruncate(fd, size, (e) => (e ? rej(e) : res())));
    return new DirectorySink(paths, targetDir, fd, resumed);
  }

  async writeData(offset: number, data: Buffer): Promise<void> {
    await pwriteFully(this.openFd(), data, offset).catch((e) => this.ioError('write', e));
  }

  async writeZeros(): Promise<void> {
    // The file is sparse: what is never written reads as zeros.
  }

  async sync(): Promise<void> {
    // Finished before a restart: the image is already synced and in place.
    if (this.fd === null) return;
    const fd = this.fd;
    await new Promise<void>((res, rej) => fs.fdatasync(fd, (e) => (e ? rej(e) : res()))).catch((e) => this.ioError('sync', e));
  }

  async finish(manifest: Buffer): Promise<{ location: string; bytesStored: number }> {
    if (this.fd !== null) {
      await this.sync();
      await this.close();
      await fs.promises.rename(this.paths.imagePart, this.paths.image);
    }
    const fh = await fs.promises.open(this.paths.manifestPart, 'w', 0o600);
    try {
      await fh.writeFile(manifest);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.promises.rename(this.paths.manifestPart, this.paths.manifest);
    await syncDirectory(this.paths.dir);
    await syncDirectory(dirname(this.paths.dir));
    const st = await fs.promises.stat(this.paths.image);
    return { location: this.paths.image, bytesStored: st.blocks * 512 + manifest.length };
  }

  async close(): Promise<void> {
    const fd = this.fd;
    this.fd = null;
    if (fd !== null) await new Promise<void>((res) => fs.close(fd, () => res()));
  }

  private openFd(): number {
    if (this.fd === null) throw new BackupTargetError(`image ${this.paths.image} is already finished`);
    return this.fd;
  }

  private async ioError(op: string, e: unknown): Promise<never> {
    // A vanished directory says so rather than a bare errno.
    await assertDirectory(this.targetDir);
    throw new BackupTargetError(`backup image ${this.paths.imagePart}: ${op} failed (${errnoOf(e) ?? (e as Error).message})`, { path: this.paths.imagePart });
  }
}

/** One raw image written in place on a block device or a file (created at the volume's size when missing). */
export class DeviceSink implements BackupSink {
  readonly resumed: boolean;

  private constructor(
    private readonly device: BlockDevice,
    private readonly path: string,
    private readonly size: number,
    resume: boolean,
  ) {
    this.resumed = resume;
  }

  static async open(path: string, size: number, resume: boolean): Promise<DeviceSink> {
    const device = await openRaw(path, size);
    if (device.size < size) {
      await device.close();
      throw new BackupTargetError(`device '${path}' holds ${device.size} bytes, the volume needs ${size}`, { path });
    }
    return new DeviceSink(device, path, size, resume);
  }

  writeData(offset: number, data: Buffer): Promise<void> {
    return this.device.write(offset, data);
  }

  writeZeros(offset: number, length: number): Promise<void> {
    // The device contract: a discarded range reads as zeros.
    return this.device.discard(offset, length);
  }

  sync(): Promise<void> {
    return this.device.flush();
  }

  async finish(): Promise<{ location: string; bytesStored: number }> {
    await this.device.flush();
    await this.close();
    // The manifest stays in the catalog: a raw device has no room beside the image.
    return { location: this.path, bytesStored: this.size };
  }

  close(): Promise<void> {
    return this.device.close();
  }
}

async function openRaw(path: string, size: number): Promise<BlockDevice> {
  let st: fs.Stats | null = null;
  try {
    st = await fs.promises.stat(path);
  } catch (e) {
    if (errnoOf(e) !== 'ENOENT') throw new BackupTargetError(`device '${path}' cannot be reached (${errnoOf(e) ?? (e as Error).message})`, { path });
  }
  try {
    if (st?.isBlockDevice()) return await openDevice({ kind: 'block', path });
    if (st && !st.isFile()) throw new BackupTargetError(`'${path}' is neither a block device nor a regular file`, { path });
    return await openDevice({ kind: 'file', path, ...(st ? {} : { size }) });
  } catch (e) {
    if (e instanceof BackupTargetError) throw e;
    throw new BackupTargetError(`device '${path}' cannot be opened: ${(e as Error).message}`, { path });
  }
}

/** Reads one backup's image (a file or a device). */
export interface ImageReader {
  read(offset: number, target: Buffer): Promise<void>;
  close(): Promise<void>;
}

/** A directory backup's image, after checking its manifest file is the catalog's, byte for byte. */
export async function openImageFile(image: string, manifestFile: string, catalogManifest: Buffer, size: number): Promise<ImageReader> {
  const onDisk = await fs.promises.readFile(manifestFile).catch((e: unknown) => {
    throw new BackupDamaged(`manifest ${manifestFile} ${errnoOf(e) === 'ENOENT' ? 'is missing' : `cannot be read (${errnoOf(e)})`}`, { path: manifestFile });
  });
  if (!onDisk.equals(catalogManifest)) throw new BackupDamaged(`manifest ${manifestFile} differs from the catalog's copy: it was changed or replaced`, { path: manifestFile });
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(image, 'r');
  } catch (e) {
    throw new BackupDamaged(`image ${image} ${errnoOf(e) === 'ENOENT' ? 'is missing' : `cannot be opened (${errnoOf(e)})`}`, { path: image });
  }
  const st = await fh.stat();
  if (st.size !== size) {
    await fh.close();
    throw new BackupDamaged(`image ${image} is ${st.size} bytes, its manifest says ${size}: it was truncated or replaced`, { path: image });
  }
  return {
    async read(offset, target) {
      const got = await preadFully(fh.fd, target, offset).catch((e: unknown) => {
        throw new BackupTargetError(`image ${image}: read at ${offset} failed (${errnoOf(e) ?? (e as Error).message})`, { path: image });
      });
      if (got !== target.length) throw new BackupDamaged(`image ${image} ends at ${offset + got}, before ${offset + target.length}`, { path: image });
    },
    close: () => fh.close(),
  };
}

export async function openImageDevice(path: string, size: number): Promise<ImageReader> {
  let device: BlockDevice;
  try {
    device = await openDevice({ kind: (await fs.promises.stat(path)).isBlockDevice() ? 'block' : 'file', path });
  } catch (e) {
    throw new BackupDamaged(`device '${path}' cannot be opened: ${errnoOf(e) === 'ENOENT' ? 'it is missing' : (e as Error).message}`, { path });
  }
  if (device.size < size) {
    await device.close();
    throw new BackupDamaged(`device '${path}' holds ${device.size} bytes, the backup ${size}`, { path });
  }
  return { read: (offset, target) => device.read(offset, target), close: () => device.close() };
}

export async function removeFiles(paths: string[]): Promise<void> {
  for (const p of paths) await fs.promises.rm(p, { force: true });
}

async function exists(path: string): Promise<boolean> {
  return fs.promises.access(path).then(
    () => true,
    () => false,
  );
}
