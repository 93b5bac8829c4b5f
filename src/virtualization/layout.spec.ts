import { describe, expect, it } from 'vitest';
import { DeviceIOError, InvalidArgument, OutOfRange, PoolFailed } from '../common/errors';
import { createLayout, type Extent, type LayoutKind, usableSize, validateLayout } from './layout';
import { MemDevice } from './testing/mem-device';
import { Prng } from '../common/prng';

const SU = 4096;

function extent(device: MemDevice, offset: number, length: number): Extent {
  return { deviceId: device.label, device, offset, length };
}

/** Devices pre-filled with a sentinel, so bytes outside the extents prove untouched. */
function devices(n: number, size: number): MemDevice[] {
  return Array.from({ length: n }, (_, i) => {
    const d = new MemDevice(`d${i}`, size);
    d.data.fill(0xee);
    return d;
  });
}

function pattern(length: number, seed = 1): Buffer {
  return new Prng(seed).bytes(length);
}

async function fillAll(layout: { size: number; write(o: number, d: Buffer): Promise<void> }): Promise<Buffer> {
  const data = pattern(layout.size);
  await layout.write(0, data);
  return data;
}

describe('validateLayout / usableSize', () => {
  it('enforces member counts', () => {
    expect(() => validateLayout('concat', 0)).toThrow(InvalidArgument);
    expect(() => validateLayout('concat', 1)).not.toThrow();
    expect(() => validateLayout('raid0', 1)).toThrow(InvalidArgument);
    expect(() => validateLayout('raid1', 1)).toThrow(InvalidArgument);
    expect(() => validateLayout('raid1', 3)).not.toThrow();
    expect(() => validateLayout('raid10', 2)).toThrow(InvalidArgument);
    expect(() => validateLayout('raid10', 5)).toThrow(InvalidArgument);
    expect(() => validateLayout('raid10', 6)).not.toThrow();
    expect(() => validateLayout('raid5' as LayoutKind, 3)).toThrow(InvalidArgument);
  });

  it('computes usable capacity per layout and matches createLayout', () => {
    const lengths = [10 * SU + 100, 12 * SU, 11 * SU + 7, 13 * SU];
    expect(usableSize('concat', lengths, SU)).toBe(lengths.reduce((a, b) => a + b));
    expect(usableSize('raid1', lengths, SU)).toBe(10 * SU + 100);
    expect(usableSize('raid0', lengths, SU)).toBe(4 * 10 * SU);
    expect(usableSize('raid10', lengths, SU)).toBe(2 * 10 * SU);
    expect(usableSize('raid0', [3 * 65536, 2 * 65536 + 1])).toBe(4 * 65536);
    for (const kind of ['concat', 'raid0', 'raid1', 'raid10'] as const) {
      const devs = devices(4, 14 * SU);
      const layout = createLayout(
        kind,
        devs.map((d, i) => extent(d, i * 3, lengths[i])),
        { stripeUnit: SU },
      );
      expect(layout.size).toBe(usableSize(kind, lengths, SU));
      expect(layout.kind).toBe(kind);
    }
  });

  it('rejects bad stripe units and extents', () => {
    const [a, b] = devices(2, 10 * SU);
    expect(() => usableSize('raid0', [SU, SU], 3000)).toThrow(InvalidArgument);
    expect(() => createLayout('raid0', [extent(a, 0, SU), extent(b, 0, SU)], { stripeUnit: 256 })).toThrow(
      InvalidArgument,
    );
    expect(() => createLayout('concat', [extent(a, 0, 0)])).toThrow(InvalidArgument);
    expect(() => createLayout('concat', [extent(a, -1, 10)])).toThrow(InvalidArgument);
    expect(() => createLayout('concat', [extent(a, 9 * SU, 2 * SU)])).toThrow(/exceeds device/);
    expect(() => createLayout('concat', [extent(a, 0, 2 * SU), extent(a, SU, 2 * SU)])).toThrow(/overlap/);
    expect(() => createLayout('concat', [extent(a, 0, SU), extent(a, SU, SU)])).not.toThrow();
  });
});

describe('address mapping', () => {
  it('concat places members back to back inside their extents', async () => {
    const [a, b] = devices(2, 10_000);
    const layout = createLayout('concat', [extent(a, 1000, 4000), extent(b, 3000, 6000)]);
    expect(layout.size).toBe(10_000);
    const data = await fillAll(layout);
    expect(a.data.subarray(1000, 5000).equals(data.subarray(0, 4000))).toBe(true);
    expect(b.data.subarray(3000, 9000).equals(data.subarray(4000))).toBe(true);
    expect(a.data.subarray(0, 1000).every((x) => x === 0xee)).toBe(true);
    expect(a.data.subarray(5000).every((x) => x === 0xee)).toBe(true);
    expect(b.data.subarray(0, 3000).every((x) => x === 0xee)).toBe(true);
    expect(b.data.subarray(9000).every((x) => x === 0xee)).toBe(true);
  });

  it('raid0 puts stripe unit k on member k mod n at row k div n', async () => {
    const devs = devices(3, 9 * SU);
    const offsets = [0, 512, 3 * SU];
    const layout = createLayout(
      'raid0',
      devs.map((d, i) => extent(d, offsets[i], 5 * SU + 100)),
      { stripeUnit: SU },
    );
    expect(layout.size).toBe(15 * SU);
    const data = await fillAll(layout);
    for (let k = 0; k < 15; k++) {
      const m = k % 3;
      const at = offsets[m] + Math.floor(k / 3) * SU;
      expect(devs[m].data.subarray(at, at + SU).equals(data.subarray(k * SU, (k + 1) * SU))).toBe(true);
    }
  });

  it('raid1 keeps the same bytes on every member', async () => {
    const devs = devices(3, 20_000);
    const layout = createLayout('raid1', [extent(devs[0], 0, 10_000), extent(devs[1], 100, 12_000), extent(devs[2], 7, 11_000)]);
    expect(layout.size).toBe(10_000);
    const data = await fillAll(layout);
    expect(devs[0].data.subarray(0, 10_000).equals(data)).toBe(true);
    expect(devs[1].data.subarray(100, 10_100).equals(data)).toBe(true);
    expect(devs[2].data.subarray(7, 10_007).equals(data)).toBe(true);
  });

  it('raid10 stripes over mirrored pairs (0,1), (2,3)', async () => {
    const devs = devices(4, 4 * SU);
    const layout = createLayout('raid10', devs.map((d) => extent(d, SU, 3 * SU)), { stripeUnit: SU });
    expect(layout.size).toBe(6 * SU);
    const data = await fillAll(layout);
    for (let k = 0; k < 6; k++) {
      const pair = k % 2;
      const at = SU + Math.floor(k / 2) * SU;
      const unit = data.subarray(k * SU, (k + 1) * SU);
      expect(devs[2 * pair].data.subarray(at, at + SU).equals(unit)).toBe(true);
      expect(devs[2 * pair + 1].data.subarray(at, at + SU).equals(unit)).toBe(true);
    }
  });

  it('raid0 discard issues one contiguous discard per member', async () => {
    const devs = devices(3, 10 * SU);
    const layout = createLayout('raid0', devs.map((d) => extent(d, 0, 10 * SU)), { stripeUnit: SU });
    await fillAll(layout);
    await layout.discard(SU / 2, 7 * SU);
    for (const d of devs) expect(d.discards.length).toBe(1);
    // Units 0½, 3, 6 on member 0; 1, 4, 7½ on member 1; 2, 5 on member 2.
    expect(devs[0].discards[0]).toEqual([SU / 2, 2 * SU + SU / 2]);
    expect(devs[1].discards[0]).toEqual([0, 2 * SU + SU / 2]);
    expect(devs[2].discards[0]).toEqual([0, 2 * SU]);
    const back = Buffer.alloc(8 * SU);
    await layout.read(0, back);
    expect(back.subarray(SU / 2, SU / 2 + 7 * SU).every((x) => x === 0)).toBe(true);
  });

  it('validates every request against the layout size', async () => {
    const [a] = devices(1, 10_000);
    const layout = createLayout('concat', [extent(a, 0, 10_000)], { label: 'pool p' });
    await expect(layout.read(9_990, Buffer.alloc(20))).rejects.toBeInstanceOf(OutOfRange);
    await expect(layout.write(-1, Buffer.alloc(1))).rejects.toBeInstanceOf(OutOfRange);
    await expect(layout.write(0.5, Buffer.alloc(1))).rejects.toBeInstanceOf(OutOfRange);
    await expect(layout.discard(0, 10_001)).rejects.toThrow(/pool p/);
    await expect(layout.read(10_000, Buffer.alloc(0))).resolves.toBeUndefined();
  });
});

describe('random I/O against a reference buffer', () => {
  const kinds: Array<[LayoutKind, number]> = [
    ['concat', 3],
    ['raid0', 3],
    ['raid1', 2],
    ['raid10', 4],
  ];
  for (const [kind, n] of kinds) {
    it(`${kind} reads back exactly, sequentially and in parallel`, async () => {
      const rng = new Prng(kind.length * 7919 + n);
      const devs = devices(n, 12 * SU);
      for (const d of devs) d.jitter = () => rng.int(0, 3);
      const layout = createLayout(
        kind,
        devs.map((d, i) => extent(d, i * 512, 9 * SU + i * 1000)),
        { stripeUnit: SU },
      );
      const ref = Buffer.alloc(layout.size);
      await layout.write(0, ref);
      const randomRange = () => {
        const offset = rng.int(0, layout.size);
        return [offset, rng.int(0, Math.min(3 * SU, layout.size - offset) + 1)] as const;
      };
      for (let op = 0; op < 300; op++) {
        const [offset, length] = randomRange();
        const choice = rng.next();
        if (choice < 0.45) {
          const data = rng.bytes(length);
          await layout.write(offset, data);
          data.copy(ref, offset);
        } else if (choice < 0.55) {
          await layout.discard(offset, length);
          ref.fill(0, offset, offset + length);
        } else {
          const back = Buffer.alloc(length);
          await layout.read(offset, back);
          expect(back.equals(ref.subarray(offset, offset + length))).toBe(true);
        }
      }
      // Disjoint ranges in flight together: completions interleave through the jitter.
      const slice = Math.floor(layout.size / 8);
      await Promise.all(
        Array.from({ length: 8 }, (_, i) => {
          const data = rng.bytes(slice - 3);
          data.copy(ref, i * slice + 1);
          return layout.write(i * slice + 1, data);
        }),
      );
      const all = Buffer.alloc(layout.size);
      await layout.read(0, all);
      expect(all.equals(ref)).toBe(true);
    });
  }
});

describe('member failures', () => {
  it('raid1 with a failed member keeps serving reads and writes and reports degraded', async () => {
    const [a, b] = devices(2, 10_000);
    const layout = createLayout('raid1', [extent(a, 0, 10_000), extent(b, 0, 10_000)]);
    a.failWrites = true;
    const data = pattern(5000, 3);
    await layout.write(100, data);
    const health = layout.health();
    expect(health.state).toBe('degraded');
    expect(health.members[0]).toMatchObject({ deviceId: 'd0', state: 'failed', errors: 1 });
    expect(health.members[0].lastError).toMatch(/EIO/);
    expect(health.members[1]).toMatchObject({ state: 'online', errors: 0 });
    expect(health.members[1].lastError).toBeUndefined();

    const readsBefore = a.reads;
    for (let i = 0; i < 10; i++) {
      const back = Buffer.alloc(5000);
      await layout.read(100, back);
      expect(back.equals(data)).toBe(true);
    }
    expect(a.reads).toBe(readsBefore);
    await layout.write(0, Buffer.from('still writable'));
    expect(b.data.subarray(0, 14).toString()).toBe('still writable');
  });

  it('raid1 retries a failed read on another member', async () => {
    const [a, b] = devices(2, 10_000);
    const layout = createLayout('raid1', [extent(a, 0, 10_000), extent(b, 0, 10_000)]);
    const data = await fillAll(layout);
    b.failReads = true;
    for (let i = 0; i < 6; i++) {
      const back = Buffer.alloc(1000);
      await layout.read(i * 1000, back);
      expect(back.equals(data.subarray(i * 1000, (i + 1) * 1000))).toBe(true);
    }
    expect(layout.health()).toMatchObject({ state: 'degraded', members: [{ state: 'online' }, { state: 'failed', errors: 1 }] });
  });

  it('raid1 spreads reads over online members', async () => {
    const devs = devices(3, 10_000);
    const layout = createLayout('raid1', devs.map((d) => extent(d, 0, 10_000)));
    await Promise.all(Array.from({ length: 30 }, (_, i) => layout.read(i * 100, Buffer.alloc(100))));
    for (let i = 0; i < 10; i++) await layout.read(0, Buffer.alloc(10));
    for (const d of devs) expect(d.reads).toBeGreaterThanOrEqual(10);
  });

  it('raid1 fails when no member is left', async () => {
    const [a, b] = devices(2, 10_000);
    const layout = createLayout('raid1', [extent(a, 0, 10_000), extent(b, 0, 10_000)], { label: 'pool m' });
    a.failWrites = true;
    b.failWrites = true;
    await expect(layout.write(0, Buffer.alloc(10))).rejects.toBeInstanceOf(DeviceIOError);
    expect(layout.health().state).toBe('failed');
    await expect(layout.write(0, Buffer.alloc(10))).rejects.toBeInstanceOf(PoolFailed);
    await expect(layout.read(0, Buffer.alloc(10))).rejects.toThrow(/pool m/);
  });

  it('raid10 survives one failure per pair and fails when a pair is lost', async () => {
    const devs = devices(4, 4 * SU);
    const layout = createLayout('raid10', devs.map((d) => extent(d, 0, 4 * SU)), { stripeUnit: SU });
    const data = await fillAll(layout);
    devs[0].failReads = devs[0].failWrites = true;
    devs[3].failReads = devs[3].failWrites = true;
    const back = Buffer.alloc(layout.size);
    await layout.read(0, back);
    expect(back.equals(data)).toBe(true);
    const update = pattern(layout.size, 9);
    await layout.write(0, update);
    await layout.read(0, back);
    expect(back.equals(update)).toBe(true);
    expect(layout.health().state).toBe('degraded');
    expect(layout.health().members.map((m) => m.state)).toEqual(['failed', 'online', 'online', 'failed']);

    devs[1].failReads = true;
    // Unit 0 lives on pair (0,1): its last member fails now.
    await expect(layout.read(0, Buffer.alloc(10))).rejects.toBeInstanceOf(DeviceIOError);
    await expect(layout.read(0, Buffer.alloc(10))).rejects.toBeInstanceOf(PoolFailed);
    expect(layout.health().state).toBe('failed');
    // Unit 1 lives on pair (2,3), which still has member 2.
    const unit1 = Buffer.alloc(SU);
    await layout.read(SU, unit1);
    expect(unit1.equals(update.subarray(SU, 2 * SU))).toBe(true);
    await expect(layout.read(SU - 1, Buffer.alloc(2))).rejects.toBeInstanceOf(PoolFailed);
  });

  it('concat reports a failing member, keeps the others serving, and keeps trying the only copy', async () => {
    const [a, b] = devices(2, 10_000);
    const layout = createLayout('concat', [extent(a, 0, 5000), extent(b, 0, 5000)]);
    const data = await fillAll(layout);
    a.failWrites = true;
    await expect(layout.write(4000, Buffer.alloc(2000))).rejects.toBeInstanceOf(DeviceIOError);
    expect(layout.health().state).toBe('failed');
    await expect(layout.write(100, Buffer.alloc(10))).rejects.toBeInstanceOf(DeviceIOError);
    await layout.write(5000, Buffer.from('fine'));
    const back = Buffer.alloc(4000);
    await layout.read(6000, back);
    expect(back.equals(data.subarray(6000))).toBe(true);
    // There is no other copy to prefer: once the device answers again the member is healthy.
    a.failWrites = false;
    await layout.write(100, Buffer.from('back'));
    expect(layout.health().state).toBe('online');
  });

  it('reports a redundant member taken out of service, once, before the I/O completes', async () => {
    const [a, b] = devices(2, 10_000);
    const failed: Array<[number, string]> = [];
    const layout = createLayout('raid1', [extent(a, 0, 10_000), extent(b, 0, 10_000)], { onMemberFailed: (i, reason) => failed.push([i, reason]) });
    b.failWrites = true;
    const write = layout.write(0, Buffer.from('x'));
    await write;
    expect(failed).toHaveLength(1);
    expect(failed[0][0]).toBe(1);
    await layout.write(10, Buffer.from('y'));
    expect(failed).toHaveLength(1);
  });

  it('fails the I/O when recording a member failure fails', async () => {
    const [a, b] = devices(2, 10_000);
    const layout = createLayout('raid1', [extent(a, 0, 10_000), extent(b, 0, 10_000)], {
      onMemberFailed: () => {
        throw new Error('catalog unavailable');
      },
    });
    b.failWrites = true;
    await expect(layout.write(0, Buffer.from('x'))).rejects.toThrow('catalog unavailable');
  });

  it('setMemberState marks members by hand', () => {
    const [a, b] = devices(2, 10_000);
    const layout = createLayout('raid1', [extent(a, 0, 10_000), extent(b, 0, 10_000)]);
    layout.setMemberState(1, 'failed');
    expect(layout.health().state).toBe('degraded');
    layout.setMemberState(1, 'online');
    expect(layout.health().state).toBe('online');
    expect(() => layout.setMemberState(2, 'failed')).toThrow(InvalidArgument);
  });
});

describe('flush', () => {
  it('flushes every online device once', async () => {
    const [a, b, c] = devices(3, 10_000);
    const layout = createLayout('concat', [extent(a, 0, 1000), extent(b, 0, 1000), extent(a, 5000, 1000), extent(c, 0, 1000)]);
    layout.setMemberState(3, 'failed');
    await layout.flush();
    expect([a.flushes, b.flushes, c.flushes]).toEqual([1, 1, 0]);
  });

  it('a mirror member failing to flush degrades the layout; a lone copy failing rejects', async () => {
    const [a, b] = devices(2, 10_000);
    const mirror = createLayout('raid1', [extent(a, 0, 10_000), extent(b, 0, 10_000)]);
    a.failFlush = true;
    await mirror.flush();
    expect(mirror.health().state).toBe('degraded');

    const [c, d] = devices(2, 10_000);
    const concat = createLayout('concat', [extent(c, 0, 10_000), extent(d, 0, 10_000)]);
    d.failFlush = true;
    await expect(concat.flush()).rejects.toBeInstanceOf(DeviceIOError);
    expect(concat.health().members.map((m) => m.state)).toEqual(['online', 'failed']);
  });
});
