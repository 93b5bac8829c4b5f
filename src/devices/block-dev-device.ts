import * as fs from 'node:fs';
import { DeviceGone, DeviceIOError, InvalidArgument } from '../common/errors';
import { FdDevice, errnoOf, openExisting, zeroFill } from './fd-io';

/** An existing block device node (disk, partition, loop device). */
export class BlockDevDevice extends FdDevice {
  private constructor(path: string, size: number, sectorSize: number, fd: number) {
    super('block', path, size, sectorSize, fd);
  }

  /** Open `path`, which must be a block device; geometry comes from sysfs. */
  static async open(path: string): Promise<BlockDevDevice> {
    const { fd, stat } = await openExisting(path, 'block');
    try {
      const { size, sectorSize } = await readGeometry(path, stat.rdev);
      return new BlockDevDevice(path, size, sectorSize, fd);
    } catch (err) {
      fs.close(fd, () => undefined);
      throw err;
    }
  }

  /** Within `size` a disk never ends early: it shrank or was detached. */
  protected override readPastEnd(_target: Buffer, got: number, offset: number): void {
    throw new DeviceGone(this.label, `device ended at byte ${offset + got}, before its size ${this.size}`);
  }

  protected override release(fd: number, offset: number, length: number): Promise<void> {
    return zeroFill(fd, offset, length);
  }
}

/** Linux dev_t encoding (glibc gnu_dev_major/minor), done in bigint so no bits are lost. */
export function devNumbers(rdev: bigint): { major: number; minor: number } {
  const major = ((rdev & 0xfff00n) >> 8n) | ((rdev & 0xfffff00000000000n) >> 32n);
  const minor = (rdev & 0xffn) | ((rdev & 0xffffff00000n) >> 12n);
  return { major: Number(major), minor: Number(minor) };
}

async function readGeometry(path: string, rdev: bigint): Promise<{ size: number; sectorSize: number }> {
  const { major, minor } = devNumbers(rdev);
  const sysfs = `/sys/dev/block/${major}:${minor}`;
  // sysfs counts 512-byte units whatever the logical block size.
  const size = (await readSysfsInt(path, `${sysfs}/size`)) * 512;
  // Partitions have no queue/ of their own; it lives on the parent disk.
  const sectorSize = await readSysfsInt(path, `${sysfs}/queue/logical_block_size`).catch(() =>
    readSysfsInt(path, `${sysfs}/../queue/logical_block_size`),
  );
  if (size === 0) throw new InvalidArgument(`block device '${path}' has size 0 (no media, or an unbound loop device)`, 'path');
  if (!Number.isSafeInteger(size)) throw new InvalidArgument(`block device '${path}' is too large (${size} bytes)`, 'path');
  if (sectorSize !== 512 && sectorSize !== 4096) {
    throw new InvalidArgument(`block device '${path}' has logical block size ${sectorSize}; only 512 and 4096 are supported`, 'path');
  }
  return { size, sectorSize };
}

async function readSysfsInt(device: string, file: string): Promise<number> {
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (err) {
    throw new DeviceIOError(device, `read ${file}`, 0, errnoOf(err), err);
  }
  const value = Number(text.trim());
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new DeviceIOError(device, `parse ${file}`, 0, undefined, new Error(`unexpected content '${text.trim()}'`));
  }
  return value;
}
