import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsistencyGroupService } from '../../src/storage/consistency-group.service';
import { SYSTEM_ACTOR } from '../../src/storage/domain';
import { StorageRuntime } from '../../src/storage/runtime';
import type { LogicalDisk } from '../../src/virtualization/logical-disk';
import { apiJson, startTestGateway, type TestGateway } from '../utils/gateway';

const MiB = 2 ** 20;
const BLOCK = 4096;
const SIZE = 4 * MiB;

/** The largest counter written to any 4 KiB block of an image (each block holds one counter, repeated). */
function latest(image: Buffer): number {
  let max = 0;
  for (let off = 0; off < image.length; off += BLOCK) {
    const n = image.readUInt32LE(off);
    for (let i = 4; i < BLOCK; i += 4) if (image.readUInt32LE(off + i) !== n) throw new Error(`torn block at ${off}`);
    max = Math.max(max, n);
  }
  return max;
}

describe('consistency groups', () => {
  let gw: TestGateway;
  const json = (path: string, init?: Parameters<TestGateway['api']>[1]) => apiJson(gw, path, init);

  beforeAll(async () => {
    gw = await startTestGateway({ STRATA_DEFAULT_DEVICE_SIZE: '256M' });
    // A file device, not RAM: its writes and flushes complete on the thread pool, so the writer
    // really runs between any two steps of a snapshot (RAM I/O completes in microtasks, and a
    // member-by-member snapshot would then look atomic). Small pages keep redirect-on-write cheap.
    expect((await json('devices', { method: 'POST', json: { name: 'disk', kind: 'file', size: 64 * MiB } })).status).toBe(201);
    expect((await json('pools', { method: 'POST', json: { name: 'fast', layout: 'concat', pageSize: 65536, members: [{ device: 'disk' }] } })).status).toBe(201);
    for (const name of ['a', 'b', 'c']) expect((await json('volumes', { method: 'POST', json: { name, pool: 'fast', size: SIZE } })).status).toBe(201);
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('validates precisely', async () => {
    const cases: Array<[string, Parameters<TestGateway['api']>[1], number, string, string?]> = [
      ['consistency-groups', { method: 'POST', json: { name: 'g', volumes: [] } }, 400, 'INVALID_ARGUMENT', 'volumes must contain at least 1 elements'],
      ['consistency-groups', { method: 'POST', json: { name: 'g', volumes: ['a', 'a'] } }, 400, 'INVALID_ARGUMENT', "volume 'a' is listed twice"],
      ['consistency-groups', { method: 'POST', json: { name: 'g', volumes: ['a', 'zz'] } }, 404, 'VOLUME_NOT_FOUND'],
      ['consistency-groups', { method: 'POST', json: { name: 'g h', volumes: ['a'] } }, 400, 'INVALID_ARGUMENT', 'group name must be'],
      ['consistency-groups/nope/snapshots', { method: 'POST', json: { name: 's' } }, 404, 'GROUP_NOT_FOUND'],
    ];
    for (const [path, init, status, code, message] of cases) {
      const res = await json(path, init);
      expect({ path, status: res.status, code: res.body.code }).toEqual({ path, status, code });
      if (message) expect(JSON.stringify(res.body.message)).toContain(message);
    }
  });

  it('takes every member at one instant while both volumes are written: b <= a <= b + 1 in every snapshot', async () => {
    const created = await json('consistency-groups', { method: 'POST', json: { name: 'pair', volumes: ['a', 'b'] } });
    expect(created.status).toBe(201);
    expect(created.body.volumes.map((v: { name: string }) => v.name)).toEqual(['a', 'b']);
    const runtime = gw.app.get(StorageRuntime);
    const groups = gw.app.get(ConsistencyGroupService);
    const disk = (name: string) => [...runtime.disks.values()].find((d) => d.name === name) as LogicalDisk;
    const [a, b] = [disk('a'), disk('b')];
    // Holds and releases, in order: one instant means every member is held before any is released.
    const holds: string[] = [];
    for (const d of [a, b]) {
      const hold = d.hold.bind(d);
      d.hold = async () => {
        const release = await hold();
        holds.push(`hold ${d.name}`);
        return () => {
          holds.push(`release ${d.name}`);
          release();
        };
      };
    }

    // The writer: counter n into a block of A, then n into a block of B, each acknowledged before the next.
    let stop = false;
    let n = 0;
    const blocks = 65536 / BLOCK;
    const writer = (async () => {
      while (!stop) {
        n++;
        const block = Buffer.alloc(BLOCK);
        for (let i = 0; i < BLOCK; i += 4) block.writeUInt32LE(n, i);
        // Within one page: after its one redirect per snapshot, writes go in place and fast.
        const at = (n % blocks) * BLOCK;
        await a.write(at, block);
        await b.write(at, block);
      }
    })();
    const taken: string[] = [];
    for (let i = 0; i < 12; i++) {
      // Writes go on between snapshots however busy the machine is: wait for two more, not a fixed time.
      const before = n;
      while (n < before + 2) await new Promise((r) => setTimeout(r, 1));
      await groups.snapshot(SYSTEM_ACTOR, 'pair', { name: `g${i}` });
      taken.push(`g${i}`);
    }
    stop = true;
    await writer;
    for (let i = 0; i < taken.length; i++) {
      expect(holds.slice(4 * i, 4 * i + 2).sort()).toEqual(['hold a', 'hold b']);
      expect(holds.slice(4 * i + 2, 4 * i + 4).sort()).toEqual(['release a', 'release b']);
    }
    expect(holds).toHaveLength(4 * taken.length);

    const seen: Array<[number, number]> = [];
    for (const name of taken) {
      const va = latest(await disk(`a@${name}`).read(0, SIZE));
      const vb = latest(await disk(`b@${name}`).read(0, SIZE));
      seen.push([va, vb]);
      expect({ name, ok: vb <= va && va <= vb + 1, va, vb }).toMatchObject({ name, ok: true });
    }
    // The writes really ran between the snapshots: they do not all show the same counters.
    expect(new Set(seen.map(([x]) => x)).size).toBeGreaterThan(1);
    const listed = (await json('volumes/a/snapshots')).body.map((s: { name: string }) => s.name);
    expect(listed).toEqual(taken);
    const check = (await json('pools/fast/check')).body;
    expect(check).toMatchObject({ ok: true });
  });

  it('snapshots a group over REST under one name per member, audited', async () => {
    const res = await json('consistency-groups/pair/snapshots', { method: 'POST', json: { name: 'rest' } });
    expect(res.status).toBe(201);
    expect(res.body.map((s: { volumeName: string }) => s.volumeName)).toEqual(['a@rest', 'b@rest']);
    const again = await json('consistency-groups/pair/snapshots', { method: 'POST', json: { name: 'rest' } });
    expect(again).toMatchObject({ status: 409, body: { code: 'NAME_TAKEN' } });
    // Nothing half-taken: neither member got a second snapshot.
    expect((await json('volumes?role=snapshot')).body.filter((v: { name: string }) => v.name.endsWith('@rest'))).toHaveLength(2);
    const audit = (await json('audit?action=group.snapshot')).body;
    expect(audit[0]).toMatchObject({ outcome: 'failure', errorCode: 'NAME_TAKEN' });
    expect(audit[1]).toMatchObject({ outcome: 'success' });
  });

  it('changes members, and a deleted volume leaves its groups', async () => {
    expect((await json('consistency-groups/pair', { method: 'PATCH', json: { volumes: ['a', 'b', 'c'] } })).body.volumes).toHaveLength(3);
    expect((await json('volumes/c', { method: 'DELETE' })).status).toBe(204);
    expect((await json('consistency-groups/pair')).body.volumes.map((v: { name: string }) => v.name)).toEqual(['a', 'b']);
    expect((await json('consistency-groups/pair', { method: 'DELETE' })).status).toBe(204);
    expect((await json('consistency-groups')).body).toEqual([]);
    // The snapshots it took stay.
    expect((await json('volumes/a/snapshots')).body.length).toBeGreaterThan(0);
  });
});
