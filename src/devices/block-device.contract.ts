import { Prng } from '../common/prng';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeviceGone, InvalidArgument, OutOfRange } from '../common/errors';
import type { BlockDevice } from './block-device';

/**
 * The behaviour every BlockDevice backend must share. A backend spec calls
 * describeBlockDeviceContract with a factory for a fresh device of at least
 * 8 MiB; the suite closes the device itself and then calls `cleanup` to remove
 * whatever backs it.
 */

const KiB = 1024;
const MiB = 1024 * KiB;
const MIN_SIZE = 8 * MiB;

export interface DeviceUnderTest {
  device: BlockDevice;
  cleanup: () => Promise<void>;
}

export function describeBlockDeviceContract(name: string, make: () => Promise<DeviceUnderTest>): void {
  describe(`BlockDevice contract: ${name}`, () => {
    let dut: DeviceUnderTest | undefined;
    let device: BlockDevice;

    beforeEach(async () => {
      dut = await make();
      device = dut.device;
      expect(device.size, 'the contract suite needs a device of at least 8 MiB').toBeGreaterThanOrEqual(MIN_SIZE);
    });

    afterEach(async () => {
      if (!dut) return;
      const { device: done, cleanup } = dut;
      dut = undefined;
      try {
        await done.close();
      } finally {
        await cleanup();
      }
    });

    it('reports its kind, label and geometry', () => {
      expect(['file', 'block', 'ram']).toContain(device.kind);
      expect(typeof device.label).toBe('string');
      expect(device.label.length).toBeGreaterThan(0);
      expect(Number.isSafeInteger(device.size)).toBe(true);
      expect([512, 4096]).toContain(device.sectorSize);
    });

    it('reads zeros everywhere when fresh', async () => {
      expectZeros(await readAt(device, 0, 2 * MiB + 17), 'start');
      expectZeros(await readAt(device, Math.floor(device.size / 2) - 333, 100 * KiB), 'middle');
      expectZeros(await readAt(device, device.size - 64 * KiB - 3, 64 * KiB + 3), 'end');
    });

    it('round-trips writes at unaligned offsets', async () => {
      const model = new Model(0, 2 * MiB);
      const cases: Array<[number, number]> = [
        [0, 1],
        [1, 1],
        [511, 3],
        [4097, 777],
        [12345, 70001],
        [MiB - 3, 7],
      ];
      const rnd = mulberry32(1);
      for (const [offset, length] of cases) {
        const data = randomBuffer(length, rnd);
        await device.write(offset, data);
        model.write(offset, data);
        const copy = Buffer.from(data);
        // The device must not keep a reference to the caller's buffer.
        data.fill(0xff);
        expectBytes(await readAt(device, offset, length), copy, `write of ${length} at ${offset}`);
      }
      expectBytes(await readAt(device, 0, model.length), model.bytes, 'whole window');
    });

    it('round-trips writes across 1 MiB boundaries', async () => {
      const model = new Model(0, 6 * MiB);
      const rnd = mulberry32(2);
      const writes: Array<[number, number]> = [
        [MiB - 1000, 5000],
        [2 * MiB - 5, 2 * MiB + MiB / 2],
        [5 * MiB - 1, 2],
      ];
      for (const [offset, length] of writes) {
        const data = randomBuffer(length, rnd);
        await device.write(offset, data);
        model.write(offset, data);
      }
      for (const [offset, length] of [
        [MiB - 10, 20],
        [2 * MiB - 100, MiB + 200],
        [4 * MiB - 1, 2],
        [5 * MiB - 2, 4],
      ]) {
        expectBytes(await readAt(device, offset, length), model.slice(offset, length), `read of ${length} at ${offset}`);
      }
      expectBytes(await readAt(device, 0, model.length), model.bytes, 'whole window');
    });

    it('reads and writes the last bytes of the device', async () => {
      const end = device.size;
      const model = new Model(end - 8192, 8192);
      const tail = randomBuffer(4096, mulberry32(3));
      await device.write(end - 4096, tail);
      model.write(end - 4096, tail);
      await device.write(end - 1, Buffer.from([0x5a]));
      model.write(end - 1, Buffer.from([0x5a]));
      expectBytes(await readAt(device, end - 1, 1), Buffer.from([0x5a]), 'last byte');
      expectBytes(await readAt(device, end - 8192, 8192), model.bytes, 'last 8 KiB');
      await expect(device.read(end, Buffer.alloc(0))).resolves.toBeUndefined();
    });

    it('rejects accesses outside the device with OutOfRange', async () => {
      const end = device.size;
      const rejected: Array<[string, () => Promise<void>]> = [
        ['read across the end', () => device.read(end - 1, Buffer.alloc(2))],
        ['read at the end', () => device.read(end, Buffer.alloc(1))],
        ['empty read past the end', () => device.read(end + 1, Buffer.alloc(0))],
        ['read far past the end', () => device.read(Number.MAX_SAFE_INTEGER, Buffer.alloc(1))],
        ['read at -1', () => device.read(-1, Buffer.alloc(1))],
        ['write across the end', () => device.write(end - 4095, Buffer.alloc(4096, 1))],
        ['write at the end', () => device.write(end, Buffer.alloc(1, 1))],
        ['write at -512', () => device.write(-512, Buffer.alloc(512, 1))],
        ['discard across the end', () => device.discard(end - 10, 11)],
        ['discard at -1', () => device.discard(-1, 1)],
      ];
      for (const [what, op] of rejected) await expectRejection(op(), OutOfRange, 'OUT_OF_RANGE', what);
      // A rejected write must not have written its in-range part.
      expectZeros(await readAt(device, end - 8192, 8192), 'tail after rejected writes');
    });

    it('rejects non-integer offsets and negative lengths with InvalidArgument', async () => {
      const rejected: Array<[string, () => Promise<void>]> = [
        ['fractional read offset', () => device.read(1.5, Buffer.alloc(1))],
        ['NaN write offset', () => device.write(Number.NaN, Buffer.alloc(1))],
        ['negative discard length', () => device.discard(0, -1)],
        ['fractional discard length', () => device.discard(0, 0.5)],
      ];
      for (const [what, op] of rejected) await expectRejection(op(), InvalidArgument, 'INVALID_ARGUMENT', what);
    });

    it('discard makes ranges read as zeros and leaves neighbours intact', async () => {
      const model = new Model(0, 6 * MiB);
      const data = randomBuffer(4 * MiB, mulberry32(4));
      await device.write(0, data);
      model.write(0, data);
      const discards: Array<[string, number, number]> = [
        ['small aligned', 8192, 4096],
        ['small unaligned', 12345, 100],
        ['single byte', 20001, 1],
        ['large aligned', MiB, 128 * KiB],
        ['large unaligned', MiB + 512 * KiB + 13, 200001],
        ['large across a 1 MiB boundary', 2 * MiB - 70001, 150000],
        ['large never written', 5 * MiB, 256 * KiB],
        ['empty', 3 * MiB, 0],
      ];
      for (const [what, offset, length] of discards) {
        await device.discard(offset, length);
        model.discard(offset, length);
        expectZeros(await readAt(device, offset, length), `${what} discard`);
      }
      expectBytes(await readAt(device, 0, model.length), model.bytes, 'window after discards');
    });

    it('flushes', async () => {
      await expect(device.flush()).resolves.toBeUndefined();
      await device.write(4096, Buffer.alloc(4096, 7));
      await expect(device.flush()).resolves.toBeUndefined();
      expectBytes(await readAt(device, 4096, 4096), Buffer.alloc(4096, 7), 'data after flush');
    });

    it('lands concurrent writes to disjoint ranges', async () => {
      const model = new Model(0, 4 * MiB + 64);
      const rnd = mulberry32(5);
      const writes = Array.from({ length: 64 }, (_, i) => ({ offset: i * 64 * KiB + i, data: randomBuffer(48 * KiB + 7 * i, rnd) }));
      for (const { offset, data } of writes) model.write(offset, data);
      await Promise.all(writes.map(({ offset, data }) => device.write(offset, data)));
      const reads = await Promise.all(writes.map(({ offset, data }) => readAt(device, offset, data.length)));
      reads.forEach((got, i) => expectBytes(got, writes[i].data, `concurrent write ${i}`));
      expectBytes(await readAt(device, 0, model.length), model.bytes, 'whole window');
    });

    it('matches a reference model over a random sequence of operations', async () => {
      const seed = 0x5eed;
      const rnd = mulberry32(seed);
      const windowSize = Math.min(device.size, 6 * MiB);
      // The window sits at the end of the device so the last bytes get exercised too.
      const model = new Model(device.size - windowSize, windowSize);
      const pickLength = (): number => {
        const r = rnd();
        const max = r < 0.3 ? 600 : r < 0.7 ? 64 * KiB : r < 0.95 ? 512 * KiB : 3 * MiB / 2;
        return 1 + Math.floor(rnd() * max);
      };
      const pickOffset = (length: number): number => {
        const offset = model.base + Math.floor(rnd() * (windowSize - length + 1));
        return rnd() < 0.2 ? Math.max(model.base, offset - (offset % 4096)) : offset;
      };
      for (let step = 0; step < 300; step++) {
        const length = pickLength();
        const offset = pickOffset(length);
        const r = rnd();
        const where = `seed ${seed}, step ${step}`;
        if (r < 0.45) {
          const data = randomBuffer(length, rnd);
          await device.write(offset, data);
          model.write(offset, data);
        } else if (r < 0.8) {
          expectBytes(await readAt(device, offset, length), model.slice(offset, length), `${where}: read of ${length} at ${offset}`);
        } else if (r < 0.97) {
          await device.discard(offset, length);
          model.discard(offset, length);
        } else {
          await device.flush();
        }
      }
      expectBytes(await readAt(device, model.base, windowSize), model.bytes, `seed ${seed}: final window`);
    });

    it('lets operations already in flight finish when closed', async () => {
      const rnd = mulberry32(6);
      const pending = Array.from({ length: 16 }, (_, i) => device.write(i * 64 * KiB, randomBuffer(64 * KiB, rnd)));
      // A large discard takes several steps on some backends: close must not cut it off.
      pending.push(device.discard(2 * MiB, 4 * MiB), device.read(MiB, Buffer.alloc(MiB)));
      const closed = device.close();
      const results = await Promise.allSettled(pending);
      await closed;
      expect(results.map((r) => r.status)).toEqual(pending.map(() => 'fulfilled'));
    });

    it('rejects every operation with DeviceGone after close, and close is idempotent', async () => {
      await device.close();
      await expectRejection(device.read(0, Buffer.alloc(512)), DeviceGone, 'DEVICE_GONE', 'read');
      await expectRejection(device.write(0, Buffer.alloc(512)), DeviceGone, 'DEVICE_GONE', 'write');
      await expectRejection(device.flush(), DeviceGone, 'DEVICE_GONE', 'flush');
      await expectRejection(device.discard(0, 512), DeviceGone, 'DEVICE_GONE', 'discard');
      await expect(Promise.all([device.close(), device.close()])).resolves.toBeDefined();
    });
  });
}

/** Expected contents of the window [base, base + length) of a device. */
class Model {
  readonly bytes: Buffer;

  constructor(
    readonly base: number,
    readonly length: number,
  ) {
    this.bytes = Buffer.alloc(length);
  }

  write(offset: number, data: Buffer): void {
    data.copy(this.bytes, offset - this.base);
  }

  discard(offset: number, length: number): void {
    this.bytes.fill(0, offset - this.base, offset - this.base + length);
  }

  slice(offset: number, length: number): Buffer {
    return this.bytes.subarray(offset - this.base, offset - this.base + length);
  }
}

/** Reads into a buffer pre-filled with garbage, so a backend that skips bytes is caught. */
async function readAt(device: BlockDevice, offset: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length, 0xa5);
  await device.read(offset, buf);
  return buf;
}

function expectBytes(actual: Buffer, expected: Buffer, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  if (actual.equals(expected)) return;
  let i = 0;
  while (actual[i] === expected[i]) i++;
  expect.fail(`${what}: first difference at byte ${i} of ${actual.length}: got ${actual[i]}, expected ${expected[i]}`);
}

function expectZeros(actual: Buffer, what: string): void {
  expectBytes(actual, Buffer.alloc(actual.length), what);
}

async function expectRejection(
  op: Promise<unknown>,
  type: abstract new (...args: never[]) => Error,
  code: string,
  what: string,
): Promise<void> {
  const outcome = await op.then(
    () => ({ resolved: true as const }),
    (error: unknown) => ({ resolved: false as const, error }),
  );
  if (outcome.resolved) expect.fail(`${what}: expected a rejection with ${code}, but it resolved`);
  expect(outcome.error, what).toBeInstanceOf(type);
  expect((outcome.error as { code?: unknown }).code, what).toBe(code);
}

/** Small seeded PRNG so a failing sequence replays exactly. */
export function mulberry32(seed: number): () => number {
  const prng = new Prng(seed);
  return () => prng.next();
}

export function randomBuffer(length: number, rnd: () => number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let i = 0;
  for (; i + 4 <= length; i += 4) buf.writeUInt32LE(Math.floor(rnd() * 4294967296), i);
  for (; i < length; i++) buf[i] = Math.floor(rnd() * 256);
  return buf;
}
