import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { dirname } from 'node:path';
import { InvalidArgument } from '../common/errors';
import { checkCapacity } from './check-range';
import { FdDevice, errnoOf, mapIoError, openError, openExisting, zeroFill } from './fd-io';

/** Smaller discards are zero-filled: cheaper than spawning fallocate. */
const PUNCH_HOLE_MIN = 64 * 1024;
const PUNCH_HOLE_TIMEOUT_MS = 60_000;

/** A sparse file used as a block device. */
export class FileDevice extends FdDevice {
  /** Cleared when fallocate is missing or the filesystem cannot punch holes. */
  private canPunchHoles = true;

  private constructor(path: string, size: number, fd: number) {
    super('file', path, size, 512, fd);
  }

  /** Create a new sparse file of `size` bytes; fails if `path` exists. */
  static async create(path: string, size: number): Promise<FileDevice> {
    checkCapacity(path, size);
    const dir = dirname(path);
    await fs.promises.mkdir(dir, { recursive: true }).catch((err: unknown) => {
      throw openError(dir, err);
    });
    const fd = await new Promise<number>((resolve, reject) =>
      fs.open(path, 'wx+', 0o600, (err, fd) => {
        if (!err) return resolve(fd);
        reject(errnoOf(err) === 'EEXIST' ? new InvalidArgument(`file '${path}' already exists`, 'path') : openError(path, err));
      }),
    );
    try {
      await new Promise<void>((resolve, reject) => fs.ftruncate(fd, size, (err) => (err ? reject(err) : resolve())));
      // Make the new file and its size survive a crash before anyone stores data in it.
      await new Promise<void>((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
      await syncDirectory(dir);
    } catch (err) {
      // Remove the half-made file so a retry is not refused with 'already exists'.
      await fs.promises.unlink(path).catch(() => undefined);
      fs.close(fd, () => undefined);
      throw mapIoError(path, 'create', 0, err);
    }
    return new FileDevice(path, size, fd);
  }

  /** Open an existing regular file; the device size is the file size. */
  static async open(path: string): Promise<FileDevice> {
    const { fd, stat } = await openExisting(path, 'file');
    const size = Number(stat.size);
    if (size === 0 || !Number.isSafeInteger(size)) {
      fs.close(fd, () => undefined);
      throw new InvalidArgument(`file '${path}' has unusable size ${stat.size}`, 'path');
    }
    return new FileDevice(path, size, fd);
  }

  /** The file may have been truncated behind our back; sparse semantics say zeros. */
  protected override readPastEnd(target: Buffer, got: number): void {
    target.fill(0, got);
  }

  protected override async release(fd: number, offset: number, length: number): Promise<void> {
    if (length >= PUNCH_HOLE_MIN && this.canPunchHoles && (await this.punchHole(fd, offset, length))) return;
    await zeroFill(fd, offset, length);
  }

  /**
   * Give the range back to the host filesystem. Goes through /proc/<pid>/fd so
   * it hits the file we hold open even if the path was renamed or replaced.
   * Resolves false on any failure; the caller then zero-fills.
   */
  private punchHole(fd: number, offset: number, length: number): Promise<boolean> {
    const args = ['--punch-hole', '--keep-size', '--offset', String(offset), '--length', String(length)];
    return new Promise((resolve) => {
      execFile('fallocate', [...args, `/proc/${process.pid}/fd/${fd}`], { timeout: PUNCH_HOLE_TIMEOUT_MS }, (err, _out, stderr) => {
        if (!err) return resolve(true);
        // Missing tool or unsupported filesystem will not change; stop trying.
        if (errnoOf(err) === 'ENOENT' || /not supported/i.test(String(stderr))) this.canPunchHoles = false;
        resolve(false);
      });
    });
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const fd = await new Promise<number>((resolve, reject) => fs.open(dir, 'r', (err, fd) => (err ? reject(err) : resolve(fd))));
  try {
    await new Promise<void>((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())));
  } finally {
    fs.close(fd, () => undefined);
  }
}
