import { describe, expect, it } from 'vitest';
import { InvalidArgument } from '../common/errors';
import { describeBlockDeviceContract } from './block-device.contract';
import { openDevice } from './open-device';
import { RamDevice } from './ram-device';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

const noCleanup = async (): Promise<void> => undefined;

describeBlockDeviceContract('RamDevice', async () => ({ device: new RamDevice('contract', 64 * MiB), cleanup: noCleanup }));

// Small chunks and a size that is not a multiple of them exercise the short last chunk.
describeBlockDeviceContract('RamDevice with 64 KiB chunks and a ragged end', async () => ({
  device: new RamDevice('ragged', 8 * MiB + 1000, 64 * 1024),
  cleanup: noCleanup,
}));

describe('RamDevice', () => {
  it('labels itself ram:<name>', () => {
    const device = new RamDevice('scratch', MiB);
    expect(device.label).toBe('ram:scratch');
    expect(device.kind).toBe('ram');
  });

  it('costs nothing until written, then one chunk per touched MiB', async () => {
    const device = new RamDevice('huge', 64 * GiB);
    expect(device.allocatedBytes).toBe(0);
    const zeros = Buffer.alloc(MiB, 0xa5);
    await device.read(32 * GiB, zeros);
    expect(zeros.equals(Buffer.alloc(MiB))).toBe(true);
    expect(device.allocatedBytes).toBe(0);
    await device.write(64 * GiB - 10, Buffer.alloc(10, 1));
    await device.write(5 * GiB + MiB - 1, Buffer.alloc(2, 1));
    expect(device.allocatedBytes).toBe(3 * MiB);
  });

  it('drops whole chunks on discard and zeroes partial ones', async () => {
    const device = new RamDevice('discard', 8 * MiB);
    await device.write(0, Buffer.alloc(4 * MiB, 9));
    expect(device.allocatedBytes).toBe(4 * MiB);
    await device.discard(MiB / 2, 2 * MiB);
    // Chunk 1 is wholly covered and freed; chunks 0 and 2 are only zeroed in part.
    expect(device.allocatedBytes).toBe(3 * MiB);
    const buf = Buffer.alloc(4 * MiB);
    await device.read(0, buf);
    const expected = Buffer.alloc(4 * MiB, 9).fill(0, MiB / 2, MiB / 2 + 2 * MiB);
    expect(buf.equals(expected)).toBe(true);
  });

  it('releases its memory on close', async () => {
    const device = new RamDevice('close', 4 * MiB);
    await device.write(0, Buffer.alloc(MiB, 1));
    await device.close();
    expect(device.allocatedBytes).toBe(0);
  });

  it('rejects bad sizes and chunk sizes with InvalidArgument', () => {
    for (const size of [0, -1, 1.5, Number.NaN]) expect(() => new RamDevice('bad', size)).toThrow(InvalidArgument);
    for (const chunk of [0, -4096, 0.5]) expect(() => new RamDevice('bad', MiB, chunk)).toThrow(InvalidArgument);
  });

  it('is created by openDevice', async () => {
    const device = await openDevice({ kind: 'ram', name: 'factory', size: 16 * MiB });
    expect(device).toBeInstanceOf(RamDevice);
    expect(device.size).toBe(16 * MiB);
    await device.close();
  });
});
