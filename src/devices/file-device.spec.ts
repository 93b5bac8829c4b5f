import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceGone, DeviceIOError, InvalidArgument } from '../common/errors';
import { describeBlockDeviceContract, mulberry32, randomBuffer } from './block-device.contract';
import { mapIoError } from './fd-io';
import { INLINE_READ_MAX, INLINE_WRITE_MAX } from './inline-io-policy';
import { FileDevice } from './file-device';
import { openDevice } from './open-device';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

function tempDir(): string {
  return fs.mkdtempSync(join(tmpdir(), 'strata-file-device-'));
}

describeBlockDeviceContract('FileDevice.create', async () => {
  const dir = tempDir();
  const device = await FileDevice.create(join(dir, 'dev.img'), 64 * MiB);
  return { device, cleanup: () => fs.promises.rm(dir, { recursive: true, force: true }) };
});

describeBlockDeviceContract('FileDevice.open', async () => {
  const dir = tempDir();
  const path = join(dir, 'dev.img');
  fs.writeFileSync(path, '');
  fs.truncateSync(path, 16 * MiB);
  const device = await FileDevice.open(path);
  return { device, cleanup: () => fs.promises.rm(dir, { recursive: true, force: true }) };
});

describe('FileDevice', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Allocated bytes of a file, as the host filesystem counts them. */
  const allocated = (path: string): number => fs.statSync(path).blocks * 512;

  it('creates a sparse file, making parent directories', async () => {
    const path = join(dir, 'nested', 'deeper', 'sparse.img');
    const device = await FileDevice.create(path, GiB);
    try {
      expect(device.kind).toBe('file');
      expect(device.label).toBe(path);
      expect(device.size).toBe(GiB);
      expect(device.sectorSize).toBe(512);
      expect(fs.statSync(path).size).toBe(GiB);
      expect(allocated(path)).toBeLessThanOrEqual(64 * KiB);
    } finally {
      await device.close();
    }
  });

  it('refuses to create over an existing path and leaves it untouched', async () => {
    const path = join(dir, 'existing.img');
    fs.writeFileSync(path, 'precious');
    await expect(FileDevice.create(path, MiB)).rejects.toThrow(InvalidArgument);
    await expect(FileDevice.create(path, MiB)).rejects.toThrow(/already exists/);
    expect(fs.readFileSync(path, 'utf8')).toBe('precious');
  });

  it('rejects a bad size without leaving a file behind', async () => {
    const path = join(dir, 'bad-size.img');
    for (const size of [0, -1, 1.5]) await expect(FileDevice.create(path, size)).rejects.toThrow(InvalidArgument);
    expect(fs.existsSync(path)).toBe(false);
  });

  it('maps a failing create to DeviceIOError and removes the half-made file', async (ctx) => {
    // 4 PiB is past ext4's largest file, so ftruncate fails with EFBIG; xfs and tmpfs allow it.
    const path = join(dir, 'too-big.img');
    const err = await FileDevice.create(path, 2 ** 52).catch((e: unknown) => e);
    if (err instanceof FileDevice) {
      await err.close();
      fs.rmSync(path);
      ctx.skip('the temp filesystem accepts a 4 PiB file, so there is no EFBIG to provoke');
    }
    expect(err).toBeInstanceOf(DeviceIOError);
    expect((err as DeviceIOError).errno).toBe('EFBIG');
    expect(fs.existsSync(path)).toBe(false);
  });

  it('opens an existing file and keeps data across close and reopen', async () => {
    const path = join(dir, 'persist.img');
    const data = randomBuffer(100_000, mulberry32(7));
    const first = await FileDevice.create(path, 8 * MiB);
    await first.write(3 * MiB + 17, data);
    await first.close();

    const second = await FileDevice.open(path);
    try {
      expect(second.size).toBe(8 * MiB);
      const got = Buffer.alloc(data.length);
      await second.read(3 * MiB + 17, got);
      expect(got.equals(data)).toBe(true);
    } finally {
      await second.close();
    }
  });

  it('refuses to open what is not a non-empty regular file', async () => {
    const empty = join(dir, 'empty.img');
    fs.writeFileSync(empty, '');
    await expect(FileDevice.open(join(dir, 'nope.img'))).rejects.toThrow(InvalidArgument);
    await expect(FileDevice.open(dir)).rejects.toThrow(InvalidArgument);
    await expect(FileDevice.open(empty)).rejects.toThrow(InvalidArgument);
    await expect(FileDevice.open('/dev/null')).rejects.toThrow(/not a regular file/);
  });

  it('gives discarded space back to the host filesystem', async () => {
    const path = join(dir, 'punch.img');
    const device = await FileDevice.create(path, 32 * MiB);
    try {
      await device.write(4 * MiB, randomBuffer(8 * MiB, mulberry32(8)));
      await device.flush();
      const before = allocated(path);
      expect(before).toBeGreaterThanOrEqual(8 * MiB);

      await device.discard(4 * MiB, 8 * MiB);
      expect(allocated(path)).toBeLessThanOrEqual(before - 7 * MiB);
      expect(fs.statSync(path).size).toBe(32 * MiB);
      const got = Buffer.alloc(8 * MiB, 0xa5);
      await device.read(4 * MiB, got);
      expect(got.equals(Buffer.alloc(8 * MiB))).toBe(true);
    } finally {
      await device.close();
    }
  });

  it('falls back to writing zeros when fallocate is unavailable', async () => {
    const path = join(dir, 'no-fallocate.img');
    const device = await FileDevice.create(path, 8 * MiB);
    const savedPath = process.env.PATH;
    try {
      await device.write(0, Buffer.alloc(4 * MiB, 3));
      process.env.PATH = '/nonexistent';
      await device.discard(MiB + 1, 2 * MiB);
      const got = Buffer.alloc(4 * MiB);
      await device.read(0, got);
      expect(got.equals(Buffer.alloc(4 * MiB, 3).fill(0, MiB + 1, 3 * MiB + 1))).toBe(true);
    } finally {
      process.env.PATH = savedPath;
      await device.close();
    }
  });

  it('finishes a long zero-filling discard before close releases the fd', async () => {
    const path = join(dir, 'slow-discard.img');
    const device = await FileDevice.create(path, 64 * MiB);
    const savedPath = process.env.PATH;
    try {
      await device.write(0, Buffer.alloc(32 * MiB, 5));
      // Flushed first so close()'s own fdatasync is quick and the race is tight.
      await device.flush();
      // Without fallocate the discard is 32 sequential 1 MiB writes, racing the close.
      process.env.PATH = '/nonexistent';
      const discarded = device.discard(0, 32 * MiB);
      await device.close();
      await expect(discarded).resolves.toBeUndefined();
    } finally {
      process.env.PATH = savedPath;
    }
    const reopened = await FileDevice.open(path);
    const got = Buffer.alloc(32 * MiB, 0xa5);
    await reopened.read(0, got);
    await reopened.close();
    expect(got.equals(Buffer.alloc(32 * MiB))).toBe(true);
  });

  it('reads zeros past the end of a file truncated behind its back', async () => {
    const path = join(dir, 'shrunk.img');
    const device = await FileDevice.create(path, 8 * MiB);
    try {
      await device.write(0, Buffer.alloc(MiB, 0x11));
      fs.truncateSync(path, 4096);
      const got = Buffer.alloc(8192, 0xa5);
      await device.read(0, got);
      expect(got.equals(Buffer.concat([Buffer.alloc(4096, 0x11), Buffer.alloc(4096)]))).toBe(true);
      const far = Buffer.alloc(4096, 0xa5);
      await device.read(6 * MiB, far);
      expect(far.equals(Buffer.alloc(4096))).toBe(true);
    } finally {
      await device.close();
    }
  });

  // I/O up to INLINE_READ_MAX / INLINE_WRITE_MAX runs on the event loop thread, larger I/O in libuv's pool.
  const sizes = [...new Set([512, 4 * KiB, 64 * KiB, INLINE_READ_MAX, INLINE_READ_MAX + 512, INLINE_WRITE_MAX, INLINE_WRITE_MAX + 512, 3 * MiB])];

  it('writes the same bytes inline and through the thread pool', async () => {
    const device = await FileDevice.create(join(dir, 'inline-write.img'), 8 * MiB);
    try {
      for (const [i, size] of sizes.entries()) {
        const data = randomBuffer(3 * MiB, mulberry32(i + 1));
        const writes: Promise<void>[] = [];
        for (let at = 0; at < data.length; at += size) writes.push(device.write(MiB + 17 + at, data.subarray(at, Math.min(at + size, data.length))));
        await Promise.all(writes);
        const got = Buffer.alloc(data.length);
        await device.read(MiB + 17, got);
        expect(got.equals(data), `writes of ${size}`).toBe(true);
      }
    } finally {
      await device.close();
    }
  });

  it('reads the same bytes inline and through the thread pool, also past a truncated end', async () => {
    const path = join(dir, 'inline-read.img');
    const device = await FileDevice.create(path, 8 * MiB);
    try {
      const data = randomBuffer(4 * MiB, mulberry32(7));
      await device.write(0, data);
      fs.truncateSync(path, 2 * MiB + 1000);
      const expected = Buffer.concat([data.subarray(0, 2 * MiB + 1000), Buffer.alloc(6 * MiB - 1000)]);
      for (const size of sizes) {
        const got = Buffer.alloc(3 * MiB, 0xa5);
        const reads: Promise<void>[] = [];
        for (let at = 0; at < got.length; at += size) reads.push(device.read(MiB - KiB + at, got.subarray(at, Math.min(at + size, got.length))));
        await Promise.all(reads);
        expect(got.equals(expected.subarray(MiB - KiB, 4 * MiB - KiB)), `reads of ${size}`).toBe(true);
      }
    } finally {
      await device.close();
    }
  });

  it('turns a file descriptor closed behind its back into DeviceGone, not a crash', async () => {
    const path = fs.realpathSync(dir) + '/stolen-fd.img';
    const device = await FileDevice.create(path, MiB);
    const fd = fs
      .readdirSync('/proc/self/fd')
      .map(Number)
      .find((n) => {
        try {
          return fs.readlinkSync(`/proc/self/fd/${n}`) === path;
        } catch {
          return false;
        }
      });
    expect(fd).toBeDefined();
    fs.closeSync(fd as number);

    const err = await device.read(0, Buffer.alloc(512)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceGone);
    expect((err as DeviceGone).code).toBe('DEVICE_GONE');
    // The fd number may now belong to another file: the device must not touch it again.
    await expect(device.write(0, Buffer.alloc(512))).rejects.toThrow(DeviceGone);
    await expect(device.close()).resolves.toBeUndefined();
  });

  it('maps errnos to typed errors', () => {
    const errno = (code: string): Error => Object.assign(new Error(code), { code });
    for (const code of ['EBADF', 'ENXIO', 'ENODEV', 'ENOENT', 'ESTALE']) {
      expect(mapIoError('d', 'read', 0, errno(code))).toBeInstanceOf(DeviceGone);
    }
    const io = mapIoError('d', 'write', 4096, errno('EIO'));
    expect(io).toBeInstanceOf(DeviceIOError);
    expect(io).toMatchObject({ code: 'DEVICE_IO_ERROR', device: 'd', op: 'write', offset: 4096, errno: 'EIO' });
    expect(mapIoError('d', 'write', 0, new Error('no errno'))).toBeInstanceOf(DeviceIOError);
  });
});

describe('openDevice for files', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses a missing file without a size', async () => {
    const path = join(dir, 'missing.img');
    const err = await openDevice({ kind: 'file', path }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgument);
    expect((err as Error).message).toBe(`file '${path}' does not exist; give a size to create it`);
  });

  it('creates a missing file when given a size, then reopens it with or without the size', async () => {
    const path = join(dir, 'made.img');
    const created = await openDevice({ kind: 'file', path, size: 4 * MiB });
    expect(created).toBeInstanceOf(FileDevice);
    expect(created.size).toBe(4 * MiB);
    await created.close();

    for (const spec of [{ kind: 'file' as const, path }, { kind: 'file' as const, path, size: 4 * MiB }]) {
      const reopened = await openDevice(spec);
      expect(reopened.size).toBe(4 * MiB);
      await reopened.close();
    }
  });

  it('refuses an existing file whose size differs from the one given', async () => {
    const path = join(dir, 'sized.img');
    await (await openDevice({ kind: 'file', path, size: 4 * MiB })).close();
    const err = await openDevice({ kind: 'file', path, size: 8 * MiB }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgument);
    expect((err as Error).message).toMatch(/is 4194304 bytes, but a size of 8388608 bytes was given/);
    expect(fs.statSync(path).size).toBe(4 * MiB);
  });
});
