import { expect, it } from 'vitest';
import { checkAllocations } from './check-allocations';
import { createLayout } from './layout';
import { LogicalDisk } from './logical-disk';
import { Pool } from './pool';
import { FakePageMapStore } from './testing/fake-page-map-store';
import { MemDevice } from './testing/mem-device';
import { Prng } from '../common/prng';

const PS = 64 * 1024;
const STRIPE = 16 * 1024;
const ROUNDS = 2500;

interface Volume {
  disk: LogicalDisk;
  ref: Buffer;
}

type Op = { kind: 'write' | 'read' | 'discard' | 'zero'; vol: Volume; offset: number; length: number };

it('thin volumes on a raid10 pool match a reference model under random concurrent I/O', async () => {
  const rng = new Prng(0x5eed);
  const devices = Array.from({ length: 4 }, (_, i) => {
    const d = new MemDevice(`d${i}`, 40 * PS + 5000);
    d.jitter = () => (rng.next() < 0.3 ? rng.int(1, 4) : 0);
    return d;
  });
  const layout = createLayout(
    'raid10',
    devices.map((device, i) => ({ deviceId: device.label, device, offset: i * 512, length: 40 * PS })),
    { stripeUnit: STRIPE, label: 'pool r10' },
  );
  const store = new FakePageMapStore();
  const pool = new Pool({ id: 'p', name: 'r10', pageSize: PS, layout });
  expect(pool.pageCount).toBe(80);
  const sizes = { a: 40 * PS + PS / 2, b: 23 * PS + 1000 };
  const volumes: Volume[] = Object.entries(sizes).map(([id, size]) => ({
    disk: new LogicalDisk({ id, name: id, size, provisioning: 'thin', pool, store }),
    ref: Buffer.alloc(size),
  }));

  const randomOp = (): Op => {
    const vol = volumes[rng.int(0, volumes.length)];
    const size = vol.ref.length;
    const r = rng.next();
    const max = r < 0.5 ? 8192 : r < 0.85 ? PS + 4096 : 3 * PS;
    // Bias offsets to page edges and the volume end, where the rules differ.
    const edge = rng.next();
    const offset =
      edge < 0.2 ? rng.int(0, Math.ceil(size / PS)) * PS : edge < 0.3 ? Math.max(0, size - rng.int(1, max)) : rng.int(0, size);
    const length = Math.min(rng.int(1, max + 1), size - offset);
    const k = rng.next();
    const kind = k < 0.4 ? 'write' : k < 0.7 ? 'read' : k < 0.85 ? 'discard' : 'zero';
    return { kind, vol, offset: Math.min(offset, size - 1), length: Math.max(length, 1) };
  };
  const pages = (op: Op): [number, number] => [Math.floor(op.offset / PS), Math.floor((op.offset + op.length - 1) / PS)];
  const overlaps = (x: Op, y: Op) => {
    const [a0, a1] = pages(x);
    const [b0, b1] = pages(y);
    return x.vol === y.vol && a0 <= b1 && b0 <= a1;
  };

  const run = async (op: Op): Promise<void> => {
    const { disk, ref } = op.vol;
    const end = op.offset + op.length;
    switch (op.kind) {
      case 'write': {
        const data = rng.bytes(op.length);
        data.copy(ref, op.offset);
        return disk.write(op.offset, data, { fua: rng.next() < 0.05 });
      }
      case 'read': {
        const expected = Buffer.from(ref.subarray(op.offset, end));
        const back = await disk.read(op.offset, op.length);
        if (!back.equals(expected)) throw new Error(`read mismatch ${disk.id} [${op.offset}, ${end})`);
        return;
      }
      case 'discard':
        ref.fill(0, op.offset, end);
        return disk.discard(op.offset, op.length);
      case 'zero':
        ref.fill(0, op.offset, end);
        return disk.writeZeroes(op.offset, op.length);
    }
  };

  const verify = async () => {
    for (const { disk, ref } of volumes) {
      expect((await disk.read(0, disk.size)).equals(ref)).toBe(true);
      expect(disk.mappings()).toEqual(store.entries(disk.id).sort((x, y) => x.logical - y.logical));
    }
    expect(checkAllocations(pool, volumes.map((v) => v.disk))).toEqual({ leaked: [], doubleAllocated: [] });
    expect(pool.usedPages).toBe(volumes.reduce((n, v) => n + v.disk.allocatedPages, 0));
  };

  let ops = 0;
  for (let round = 0; round < ROUNDS; round++) {
    // Ops in one round touch disjoint pages, so the model is order-independent while they run together.
    const batch: Op[] = [];
    const want = rng.int(1, 5);
    for (let tries = 0; batch.length < want && tries < 10; tries++) {
      const op = randomOp();
      if (!batch.some((other) => overlaps(op, other))) batch.push(op);
    }
    await Promise.all(batch.map(run));
    ops += batch.length;
    if (round % 250 === 249) await verify();
  }
  await verify();
  expect(ops).toBeGreaterThan(5000);

  // What a reboot would load must hold the same data.
  const rebooted = new Pool({ id: 'p', name: 'r10', pageSize: PS, layout });
  for (const { disk, ref } of volumes) {
    const again = new LogicalDisk({
      id: disk.id,
      name: disk.name,
      size: disk.size,
      provisioning: 'thin',
      pool: rebooted,
      store,
      map: store.entries(disk.id),
    });
    expect((await again.read(0, again.size)).equals(ref)).toBe(true);
  }
  expect(rebooted.usedPages).toBe(pool.usedPages);
});
