import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stable_how } from '../../src/protocols/nfs3';
import { ConsistencyGroupService } from '../../src/storage/consistency-group.service';
import { SYSTEM_ACTOR } from '../../src/storage/domain';
import { StorageRuntime } from '../../src/storage/runtime';
import { SnapshotScheduleService } from '../../src/storage/snapshot-schedule.service';
import type { LogicalDisk } from '../../src/virtualization/logical-disk';
import { apiJson, startTestGateway, type TestGateway } from '../utils/gateway';
import { createShare, nasPorts } from '../utils/nas-fixture';
import { Nfs3Client } from '../utils/nfs3-client';

const MiB = 2 ** 20;
const BLOCK = 4096;
const SIZE = 4 * MiB;

/** The largest counter in any 4 KiB block of a volume image (each block holds one counter, repeated). */
function latest(image: Buffer): number {
  let max = 0;
  for (let off = 0; off < image.length; off += BLOCK) {
    const n = image.readUInt32LE(off);
    for (let i = 4; i < BLOCK; i += 4) if (image.readUInt32LE(off + i) !== n) throw new Error(`torn block at ${off}`);
    max = Math.max(max, n);
  }
  return max;
}

/**
 * A consistency group of a block volume and a share, and a schedule on a
 * share: the share is frozen and the volume held together, so a group
 * snapshot never shows a write on one without the acknowledged writes
 * before it on the other.
 */
describe('share snapshots in consistency groups and schedules', () => {
  let gw: TestGateway;
  let c: Nfs3Client;
  const json = (path: string, init?: Parameters<TestGateway['api']>[1]) => apiJson(gw, path, init);

  beforeAll(async () => {
    gw = await startTestGateway({ STRATA_DEFAULT_DEVICE_SIZE: '256M' });
    expect((await json('volumes', { method: 'POST', json: { name: 'vol', pool: 'default', size: SIZE } })).status).toBe(201);
    await createShare(gw, 'logs');
    c = await Nfs3Client.connect(nasPorts(gw).nfs);
  });
  afterAll(async () => {
    await c?.close();
    await gw?.close();
  });

  it('takes a volume and a share at one instant under concurrent writes: share count <= volume counter <= share count + 1', async () => {
    const created = await json('consistency-groups', { method: 'POST', json: { name: 'mix', volumes: ['vol', 'logs'] } });
    expect(created.status).toBe(201);
    expect(created.body.volumes.map((v: { name: string }) => v.name).sort()).toEqual(['share:logs', 'vol']);
    const runtime = gw.app.get(StorageRuntime);
    const groups = gw.app.get(ConsistencyGroupService);
    const disk = (name: string) => [...runtime.disks.values()].find((d) => d.name === name) as LogicalDisk;
    const vol = disk('vol');
    const root = await c.mount('/logs');
    const log = await c.create(root, 'log');

    // The writer: counter n into a block of the volume, then record n in the share's log (unstable), each acknowledged before the next.
    let stop = false;
    let n = 0;
    const writer = (async () => {
      while (!stop) {
        n++;
        const block = Buffer.alloc(BLOCK);
        for (let i = 0; i < BLOCK; i += 4) block.writeUInt32LE(n, i);
        await vol.write((n % 16) * BLOCK, block);
        const entry = Buffer.alloc(4);
        entry.writeUInt32LE(n);
        await c.write(log, (n - 1) * 4, entry, stable_how.UNSTABLE);
      }
    })();
    const taken: string[] = [];
    for (let i = 0; i < 6; i++) {
      // Writes go on between snapshots however busy the machine is: wait for two more, not a fixed time.
      const before = n;
      while (n < before + 2) await new Promise((r) => setTimeout(r, 1));
      const snaps = await groups.snapshot(SYSTEM_ACTOR, 'mix', { name: `g${i}` });
      expect(snaps.map((s) => s.volumeName).sort()).toEqual([`share:logs@g${i}`, `vol@g${i}`]);
      taken.push(`g${i}`);
    }
    stop = true;
    await writer;

    const snapDir = (await c.lookup(root, '.snapshots')).fh;
    const seen = new Set<number>();
    for (const name of taken) {
      const v = latest(await disk(`vol@${name}`).read(0, SIZE));
      const data = await c.readAll((await c.lookup((await c.lookup(snapDir, name)).fh, 'log')).fh);
      const s = data.length / 4;
      // Every logged counter is there, in order: no metadata without its data.
      for (let i = 0; i < s; i++) expect(data.readUInt32LE(i * 4), `${name} entry ${i}`).toBe(i + 1);
      expect({ name, ok: s <= v && v <= s + 1, v, s }).toMatchObject({ name, ok: true });
      seen.add(v);
    }
    // The writes ran between the snapshots.
    expect(seen.size).toBeGreaterThan(1);
    expect((await json('pools/default/check')).body).toMatchObject({ ok: true });
  });

  it('takes and prunes a share snapshot on a schedule, named by share', async () => {
    const t0 = Date.parse('2031-01-01T00:00:00Z');
    const created = await json('snapshot-schedules', { method: 'POST', json: { name: 'hourly', volume: 'logs', every: 1, unit: 'hours', keep: 1, startAt: new Date(t0).toISOString() } });
    expect(created.status).toBe(201);
    expect(created.body.volume.name).toBe('share:logs');
    const schedules = gw.app.get(SnapshotScheduleService);
    await schedules.runDue(new Date(t0 + 1000));
    await schedules.runDue(new Date(t0 + 3600_000 + 1000));
    const snaps = (await json('volumes/logs/snapshots')).body.filter((s: { scheduleId: string }) => s.scheduleId === created.body.id);
    expect(snaps.map((s: { name: string }) => s.name)).toEqual(['hourly-20310101-010001']);
    expect((await json('snapshot-schedules/hourly')).body.lastError).toBeNull();
    const root = await c.mount('/logs');
    expect(await c.readdirNames((await c.lookup(root, '.snapshots')).fh)).toContain('hourly-20310101-010001');
    expect(await c.readdirNames((await c.lookup(root, '.snapshots')).fh)).not.toContain('hourly-20310101-000001');
  });
});
