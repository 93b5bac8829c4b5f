import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLayout } from './layout';
import { LATENCY_BUCKETS_SECONDS } from '../common/latency-histogram';
import { IoCounter } from './io-stats';
import { LogicalDisk } from './logical-disk';
import { Pool } from './pool';
import { FakePageMapStore } from './testing/fake-page-map-store';
import { MemDevice } from './testing/mem-device';

const PS = 64 * 1024;

describe('IoCounter', () => {
  afterEach(() => vi.restoreAllMocks());

  /** Complete one operation that took `ms` on a frozen clock. */
  function complete(counter: IoCounter, ms: number, bytes = 512): void {
    vi.spyOn(performance, 'now').mockReturnValue(1000 + ms);
    counter.done(bytes, 1000);
  }

  it('counts operations, bytes and their latency', () => {
    const c = new IoCounter();
    complete(c, 0.03);
    complete(c, 3, 4096);
    const s = c.snapshot();
    expect(s).toMatchObject({ ops: 2, bytes: 512 + 4096, errors: 0 });
    expect(s.buckets).toHaveLength(LATENCY_BUCKETS_SECONDS.length + 1);
    expect(s.buckets[0]).toBe(1); // <= 50 µs
    expect(s.buckets[6]).toBe(1); // <= 5 ms
    expect(s.latencySumSeconds).toBeCloseTo(0.00303, 9);
  });

  it('counts failures apart from completed operations', () => {
    const c = new IoCounter();
    c.failed();
    expect(c.snapshot()).toMatchObject({ ops: 0, bytes: 0, errors: 1, latencySumSeconds: 0 });
  });

  it('hands out copies', () => {
    const c = new IoCounter();
    const s = c.snapshot();
    complete(c, 1);
    expect(s.ops).toBe(0);
    expect(s.buckets.every((n) => n === 0)).toBe(true);
  });
});

describe('LogicalDisk.stats', () => {
  function volume() {
    const device = new MemDevice('dev0', 16 * PS);
    const pool = new Pool({ id: 'p1', name: 'pool1', pageSize: PS, layout: createLayout('concat', [{ deviceId: 'dev0', device, offset: 0, length: device.size }]) });
    const disk = new LogicalDisk({ id: 'v1', name: 'v1', size: 8 * PS, provisioning: 'thin', pool, store: new FakePageMapStore() });
    return { device, disk };
  }

  it('counts each kind of operation with its bytes and latency', async () => {
    const { disk } = volume();
    await disk.write(0, Buffer.alloc(3 * PS, 1));
    await disk.write(PS, Buffer.alloc(100, 2), { fua: true });
    await disk.read(10, 5000);
    await disk.readInto(0, Buffer.alloc(PS));
    await disk.writeZeroes(0, PS);
    await disk.discard(PS, 2 * PS);
    await disk.flush();
    const s = disk.stats();
    expect(s.write).toMatchObject({ ops: 2, bytes: 3 * PS + 100, errors: 0 });
    expect(s.read).toMatchObject({ ops: 2, bytes: 5000 + PS, errors: 0 });
    expect(s.writeZeroes).toMatchObject({ ops: 1, bytes: PS });
    expect(s.discard).toMatchObject({ ops: 1, bytes: 2 * PS });
    expect(s.flush).toMatchObject({ ops: 1, bytes: 0 });
    for (const op of Object.values(s)) {
      expect(op.buckets.reduce((a, b) => a + b, 0)).toBe(op.ops);
      expect(op.latencySumSeconds).toBeGreaterThanOrEqual(0);
    }
  });

  it('counts failed operations as errors, not as completed', async () => {
    // A device failure takes the member out of service, so each failure gets a fresh volume.
    const failing = async (fail: 'failReads' | 'failWrites' | 'failFlush') => {
      const v = volume();
      await v.disk.write(0, Buffer.alloc(PS, 1));
      v.device[fail] = true;
      return v.disk;
    };
    const reader = await failing('failReads');
    await expect(reader.read(0, 512)).rejects.toThrow(/EIO/);
    expect(reader.stats().read).toMatchObject({ ops: 0, bytes: 0, errors: 1 });
    const writer = await failing('failWrites');
    await expect(writer.write(0, Buffer.alloc(512))).rejects.toThrow(/EIO/);
    expect(writer.stats().write).toMatchObject({ ops: 1, bytes: PS, errors: 1 });
    const flusher = await failing('failFlush');
    await expect(flusher.flush()).rejects.toThrow(/EIO/);
    expect(flusher.stats().flush).toMatchObject({ ops: 0, errors: 1 });
    // The FUA write reached the device but its flush failed: the write failed.
    const fua = await failing('failFlush');
    await expect(fua.write(0, Buffer.alloc(512), { fua: true })).rejects.toThrow(/EIO/);
    expect(fua.stats().write).toMatchObject({ ops: 1, bytes: PS, errors: 1 });
  });

  it('does not count calls refused before any I/O (out of range)', async () => {
    const { disk } = volume();
    await expect(disk.read(8 * PS, 1)).rejects.toThrow();
    await expect(disk.write(8 * PS, Buffer.alloc(1))).rejects.toThrow();
    const s = disk.stats();
    expect(s.read.errors + s.write.errors).toBe(0);
  });
});
