import { describe, expect, it } from 'vitest';
import { InvalidArgument } from '../common/errors';
import { Prng } from '../common/prng';
import { createLayout } from './layout';
import { LogicalDisk } from './logical-disk';
import { changedRuns, runTotals } from './page-diff';
import { Pool } from './pool';
import { FakePageMapStore } from './testing/fake-page-map-store';
import { MemDevice } from './testing/mem-device';
import { snapshotOf } from './testing/snapshot-of';

const PS = 64 * 1024;

function env(pages = 256) {
  const device = new MemDevice('d', pages * PS);
  const pool = new Pool({ id: 'p', name: 'p', pageSize: PS, layout: createLayout('concat', [{ deviceId: 'd', device, offset: 0, length: device.size }]) });
  return { pool, store: new FakePageMapStore() };
}
type Env = ReturnType<typeof env>;

function volume(e: Env, id: string, size: number): LogicalDisk {
  return new LogicalDisk({ id, name: id, size, provisioning: 'thin', pool: e.pool, store: e.store });
}

const snapshot = (e: Env, origin: LogicalDisk, id: string) => snapshotOf(e.pool, e.store, origin, id);

/** Apply runs read from `next` onto a copy of `base`'s bytes: what a replica or an incremental restore does. */
async function apply(baseBytes: Buffer, next: LogicalDisk, runs: ReturnType<typeof changedRuns>): Promise<Buffer> {
  const out = Buffer.alloc(next.size);
  baseBytes.copy(out, 0, 0, Math.min(baseBytes.length, out.length));
  for (const r of runs) {
    if (r.kind === 'zero') out.fill(0, r.offset, r.offset + r.length);
    else (await next.read(r.offset, r.length)).copy(out, r.offset);
  }
  return out;
}

describe('changedRuns', () => {
  it('a full copy lists mapped pages as data and the rest as zeros, merged into runs', async () => {
    const e = env();
    const vol = volume(e, 'v', 8 * PS);
    await vol.write(1 * PS, Buffer.alloc(10, 1));
    await vol.write(2 * PS + 5, Buffer.alloc(10, 2));
    await vol.write(6 * PS, Buffer.alloc(PS, 3));
    const snap = await snapshot(e, vol, 's');
    expect(changedRuns(null, snap)).toEqual([
      { offset: 0, length: PS, kind: 'zero' },
      { offset: PS, length: 2 * PS, kind: 'data' },
      { offset: 3 * PS, length: 3 * PS, kind: 'zero' },
      { offset: 6 * PS, length: PS, kind: 'data' },
      { offset: 7 * PS, length: PS, kind: 'zero' },
    ]);
  });

  it('an incremental lists only pages written, discarded or first written since the base', async () => {
    const e = env();
    const vol = volume(e, 'v', 8 * PS);
    for (let p = 0; p < 6; p++) await vol.write(p * PS, Buffer.alloc(PS, p + 1));
    const base = await snapshot(e, vol, 'a');
    await vol.write(2 * PS + 100, Buffer.from('rewritten')); // redirected: a new pool page
    await vol.discard(4 * PS, PS); // now unmapped
    await vol.write(7 * PS, Buffer.alloc(1, 9)); // first write of a page the base never had
    const next = await snapshot(e, vol, 'b');
    expect(changedRuns(base, next)).toEqual([
      { offset: 2 * PS, length: PS, kind: 'data' },
      { offset: 4 * PS, length: PS, kind: 'zero' },
      { offset: 7 * PS, length: PS, kind: 'data' },
    ]);
    expect(changedRuns(next, next)).toEqual([]);
    expect(runTotals(changedRuns(base, next))).toEqual({ data: 2 * PS, zero: PS });
  });

  it('a grown volume: pages past the base end are listed, and the last run stops at the volume end', async () => {
    const e = env();
    const vol = volume(e, 'v', 2 * PS);
    await vol.write(0, Buffer.alloc(PS, 1));
    const base = await snapshot(e, vol, 'a');
    await vol.grow(3 * PS + 512);
    await vol.write(3 * PS, Buffer.alloc(512, 7));
    const next = await snapshot(e, vol, 'b');
    expect(changedRuns(base, next)).toEqual([
      { offset: 2 * PS, length: PS, kind: 'zero' },
      { offset: 3 * PS, length: 512, kind: 'data' },
    ]);
  });

  it('refuses two copies of different families', async () => {
    const e = env();
    const a = await snapshot(e, volume(e, 'v1', PS), 's1');
    const b = await snapshot(e, volume(e, 'v2', PS), 's2');
    expect(() => changedRuns(a, b)).toThrow(InvalidArgument);
  });

  it('model: base bytes plus the runs equal the next snapshot, over random rewrites, discards and chains', async () => {
    const e = env(1024);
    const size = 40 * PS;
    const vol = volume(e, 'v', size);
    const rng = new Prng(20261123);
    let base: LogicalDisk | null = null;
    let baseBytes: Buffer = Buffer.alloc(0);
    for (let cycle = 0; cycle < 6; cycle++) {
      for (let i = 0; i < 30; i++) {
        const off = rng.int(0, size - 1);
        const len = Math.min(rng.int(1, 3 * PS), size - off);
        if (rng.int(0, 8) === 0) await vol.discard(off - (off % PS), Math.min(PS, size - (off - (off % PS))));
        else await vol.write(off, rng.bytes(len));
      }
      const next = await snapshot(e, vol, `s${cycle}`);
      const runs = changedRuns(base, next);
      const rebuilt = await apply(baseBytes, next, runs);
      expect(rebuilt.equals(await next.read(0, size))).toBe(true);
      // An incremental never lists more than the volume, and never a page both copies share.
      if (base) {
        const shared = new Set(base.mappings().map((m) => `${m.logical}:${m.physical}`));
        for (const r of runs.filter((x) => x.kind === 'data')) {
          for (let p = r.offset / PS; p < (r.offset + r.length) / PS; p++) {
            const m = next.mappings().find((x) => x.logical === p);
            expect(m && shared.has(`${m.logical}:${m.physical}`)).toBeFalsy();
          }
        }
      }
      base = next;
      baseBytes = rebuilt;
    }
  });
});
