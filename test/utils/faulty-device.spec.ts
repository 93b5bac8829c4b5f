import { describe, expect, it } from 'vitest';
import { DeviceGone, DeviceIOError, OutOfRange } from '../../src/common/errors';
import { describeBlockDeviceContract } from '../../src/devices/block-device.contract';
import { RamDevice } from '../../src/devices/ram-device';
import { FaultyDevice } from './faulty-device';

const MiB = 1024 * 1024;

// Without faults the wrapper must be indistinguishable from the device it wraps.
describeBlockDeviceContract('FaultyDevice without faults', async () => ({
  device: new FaultyDevice(new RamDevice('faulty-contract', 16 * MiB)),
  cleanup: async () => undefined,
}));

async function rejection(op: Promise<unknown>): Promise<unknown> {
  return op.then(
    () => expect.fail('expected a rejection'),
    (err: unknown) => err,
  );
}

describe('FaultyDevice', () => {
  const make = () => new FaultyDevice(new RamDevice('faulty', 4 * MiB));

  it('passes the inner geometry through', () => {
    const device = make();
    expect(device).toMatchObject({ kind: 'ram', label: 'ram:faulty', size: 4 * MiB, sectorSize: 512 });
  });

  it('fails reads with EIO while failReads is on, and recovers on heal', async () => {
    const device = make();
    await device.write(0, Buffer.alloc(512, 1));
    device.failReads();
    const err = await rejection(device.read(512, Buffer.alloc(512)));
    expect(err).toBeInstanceOf(DeviceIOError);
    expect(err).toMatchObject({ code: 'DEVICE_IO_ERROR', device: 'ram:faulty', op: 'read', offset: 512, errno: 'EIO' });
    await expect(device.write(1024, Buffer.alloc(512))).resolves.toBeUndefined();
    device.heal();
    const buf = Buffer.alloc(512);
    await device.read(0, buf);
    expect(buf.equals(Buffer.alloc(512, 1))).toBe(true);
  });

  it('fails writes and discards while failWrites is on, without touching the data', async () => {
    const device = make();
    await device.write(0, Buffer.alloc(512, 1));
    device.failWrites();
    expect(await rejection(device.write(0, Buffer.alloc(512, 2)))).toMatchObject({ op: 'write', offset: 0, errno: 'EIO' });
    expect(await rejection(device.discard(0, 512))).toMatchObject({ op: 'discard', errno: 'EIO' });
    await expect(device.flush()).resolves.toBeUndefined();
    device.failWrites(false);
    const buf = Buffer.alloc(512);
    await device.read(0, buf);
    expect(buf.equals(Buffer.alloc(512, 1))).toBe(true);
  });

  it('fails only operations that touch a bad range', async () => {
    const device = make().failRange(MiB, 4096);
    await expect(device.write(MiB - 512, Buffer.alloc(512))).resolves.toBeUndefined();
    await expect(device.read(MiB + 4096, Buffer.alloc(512))).resolves.toBeUndefined();
    await expect(device.read(MiB + 4096, Buffer.alloc(0))).resolves.toBeUndefined();
    expect(await rejection(device.read(MiB - 1, Buffer.alloc(2)))).toBeInstanceOf(DeviceIOError);
    expect(await rejection(device.write(MiB + 4095, Buffer.alloc(1)))).toBeInstanceOf(DeviceIOError);
    expect(await rejection(device.discard(0, 2 * MiB))).toBeInstanceOf(DeviceIOError);
  });

  it('still validates ranges first while faults are on', async () => {
    const device = make().failReads();
    expect(await rejection(device.read(4 * MiB, Buffer.alloc(1)))).toBeInstanceOf(OutOfRange);
  });

  it('rejects everything with DeviceGone once vanished, even after heal', async () => {
    const device = make();
    device.vanish().heal();
    for (const op of [
      device.read(0, Buffer.alloc(1)),
      device.write(0, Buffer.alloc(1)),
      device.flush(),
      device.discard(0, 1),
    ]) {
      const err = await rejection(op);
      expect(err).toBeInstanceOf(DeviceGone);
      expect(err).toMatchObject({ code: 'DEVICE_GONE' });
    }
    await expect(device.close()).resolves.toBeUndefined();
  });

  it('counts the operations it sees, failed ones included', async () => {
    const device = make();
    await device.write(0, Buffer.alloc(1));
    await device.read(0, Buffer.alloc(1));
    device.failReads();
    await device.read(0, Buffer.alloc(1)).catch(() => undefined);
    await device.flush();
    await device.discard(0, 1);
    expect(device.ops).toEqual({ read: 2, write: 1, flush: 1, discard: 1 });
    expect(device.injectedFailures).toBe(1);
  });
});
