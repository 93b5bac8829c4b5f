import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceIOError, InvalidArgument } from '../common/errors';
import { BlockDevDevice, devNumbers } from './block-dev-device';
import { describeBlockDeviceContract, mulberry32, randomBuffer } from './block-device.contract';
import { openDevice } from './open-device';

const MiB = 1024 * 1024;
const run = promisify(execFile);

/** Why loop-device tests cannot run here, or undefined when they can. */
function loopUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'need root and losetup (not running as root)';
  if (!fs.existsSync('/dev/loop-control')) return 'need root and losetup (/dev/loop-control is missing)';
  const dir = fs.mkdtempSync(join(tmpdir(), 'strata-loop-probe-'));
  try {
    const file = join(dir, 'probe.img');
    fs.writeFileSync(file, Buffer.alloc(MiB));
    // Root inside a container may still be refused; only a real attach tells.
    const loop = execFileSync('losetup', ['-f', '--show', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    execFileSync('losetup', ['-d', loop], { stdio: 'ignore' });
    return undefined;
  } catch (err) {
    return `need root and losetup (losetup failed: ${(err as Error).message.split('\n')[0]})`;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const skipReason = loopUnavailable();
if (skipReason) console.warn(`block device tests skipped: ${skipReason}`);
const describeLoop = skipReason ? describe.skip : describe;

interface Loop {
  path: string;
  backing: string;
  detach: () => Promise<void>;
}

/** A loop device over a fresh sparse file; detach() also removes the file. */
async function attachLoop(size: number, losetupArgs: string[] = []): Promise<Loop> {
  const dir = fs.mkdtempSync(join(tmpdir(), 'strata-loop-'));
  const backing = join(dir, 'backing.img');
  fs.writeFileSync(backing, '');
  fs.truncateSync(backing, size);
  const removeDir = () => fs.promises.rm(dir, { recursive: true, force: true });
  let path: string;
  try {
    path = (await run('losetup', [...losetupArgs, '-f', '--show', backing])).stdout.trim();
  } catch (err) {
    await removeDir();
    throw err;
  }
  return {
    path,
    backing,
    detach: async () => {
      try {
        await run('losetup', ['-d', path]);
      } finally {
        await removeDir();
      }
    },
  };
}

describeLoop('BlockDevDevice contract', () => {
  describeBlockDeviceContract('BlockDevDevice on a loop device', async () => {
    const loop = await attachLoop(64 * MiB);
    try {
      return { device: await BlockDevDevice.open(loop.path), cleanup: loop.detach };
    } catch (err) {
      await loop.detach();
      throw err;
    }
  });
});

describeLoop('BlockDevDevice on loop devices', () => {
  it('takes size and sector size from sysfs', async () => {
    const loop = await attachLoop(64 * MiB);
    const device = await BlockDevDevice.open(loop.path);
    try {
      expect(device).toMatchObject({ kind: 'block', label: loop.path, size: 64 * MiB, sectorSize: 512 });
    } finally {
      await device.close();
      await loop.detach();
    }
  });

  it('reports a 4096-byte logical sector size', async () => {
    const loop = await attachLoop(16 * MiB, ['--sector-size', '4096']);
    const device = await BlockDevDevice.open(loop.path);
    try {
      expect(device.sectorSize).toBe(4096);
      expect(device.size).toBe(16 * MiB);
    } finally {
      await device.close();
      await loop.detach();
    }
  });

  it('lands flushed writes in the backing store', async () => {
    const loop = await attachLoop(16 * MiB);
    const device = await BlockDevDevice.open(loop.path);
    const data = randomBuffer(300_000, mulberry32(9));
    try {
      await device.write(MiB + 512, data);
      await device.flush();
    } finally {
      await device.close();
    }
    try {
      const fd = fs.openSync(loop.backing, 'r');
      const got = Buffer.alloc(data.length);
      fs.readSync(fd, got, 0, got.length, MiB + 512);
      fs.closeSync(fd);
      expect(got.equals(data)).toBe(true);
    } finally {
      await loop.detach();
    }
  });

  it('maps writes refused by a read-only device to DeviceIOError', async () => {
    const loop = await attachLoop(8 * MiB, ['--read-only']);
    const device = await BlockDevDevice.open(loop.path);
    try {
      const err = await device.write(4096, Buffer.alloc(4096, 1)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DeviceIOError);
      expect(err).toMatchObject({ code: 'DEVICE_IO_ERROR', device: loop.path, op: 'write', offset: 4096 });
      expect(['EPERM', 'EROFS', 'EIO']).toContain((err as DeviceIOError).errno);
      await expect(device.read(0, Buffer.alloc(4096))).resolves.toBeUndefined();
    } finally {
      await device.close();
      await loop.detach();
    }
  });

  it('is opened by openDevice', async () => {
    const loop = await attachLoop(8 * MiB);
    const device = await openDevice({ kind: 'block', path: loop.path });
    try {
      expect(device).toBeInstanceOf(BlockDevDevice);
      expect(device.size).toBe(8 * MiB);
    } finally {
      await device.close();
      await loop.detach();
    }
  });
});

describe('BlockDevDevice.open on the wrong kind of path', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(join(tmpdir(), 'strata-block-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses a regular file with InvalidArgument', async () => {
    const path = join(dir, 'plain.img');
    fs.writeFileSync(path, Buffer.alloc(MiB));
    const err = await BlockDevDevice.open(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgument);
    expect((err as InvalidArgument).code).toBe('INVALID_ARGUMENT');
    expect((err as Error).message).toMatch(/is not a block device \(for an image file use kind 'file'\)/);
    await expect(openDevice({ kind: 'block', path })).rejects.toThrow(InvalidArgument);
  });

  it('refuses a missing path and a character device with InvalidArgument', async () => {
    await expect(BlockDevDevice.open(join(dir, 'nope'))).rejects.toThrow(InvalidArgument);
    await expect(BlockDevDevice.open('/dev/null')).rejects.toThrow(/is not a block device/);
  });
});

describe('devNumbers', () => {
  it('decodes Linux dev_t values, including the high bits', () => {
    expect(devNumbers(0x700n)).toEqual({ major: 7, minor: 0 });
    expect(devNumbers(0x10303n)).toEqual({ major: 259, minor: 3 });
    // makedev(4100, 300): the high major bits live above bit 32, the high minor bits at 20..
    expect(devNumbers(0x1000_0000_0000n | 0x100000n | 0x400n | 0x2cn)).toEqual({ major: 4100, minor: 300 });
  });
});
