import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prng } from '../../src/common/prng';
import { apiJson, startTestGateway, type TestGateway } from '../utils/gateway';
import { hostKeyPair } from '../utils/san-fixture';

const MiB = 2 ** 20;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Snapshots, rollback and clones through the REST API of a real gateway (real catalog, migrations, devices). */
describe('snapshots REST API', () => {
  let gw: TestGateway;
  let dataDir: string;

  beforeAll(async () => {
    gw = await startTestGateway({ STRATA_DEFAULT_DEVICE_SIZE: '128M' });
    dataDir = gw.dataDir;
  });
  afterAll(async () => {
    await gw?.close();
  });

  const json = (path: string, init?: Parameters<TestGateway['api']>[1]) => apiJson(gw, path, init);
  async function put(volume: string, offset: number, data: Buffer<ArrayBuffer>) {
    const res = await gw.api(`volumes/${volume}/image?offset=${offset}`, { method: 'PUT', body: data, headers: { 'content-type': 'application/octet-stream' } });
    expect(res.status).toBe(200);
  }
  async function image(volume: string): Promise<Buffer> {
    const res = await gw.api(`volumes/${encodeURIComponent(volume)}/image`);
    expect(res.status).toBe(200);
    return Buffer.from(await res.arrayBuffer());
  }
  async function poolFree(): Promise<number> {
    return (await json('pools/default')).body.freeBytes;
  }
  async function check() {
    return (await json('pools/default/check')).body;
  }

  let startFree = 0;
  const model = Buffer.alloc(8 * MiB);
  let snapSum = '';

  it('takes a snapshot of a volume, instantly and without using pages', async () => {
    startFree = await poolFree();
    expect((await json('volumes', { method: 'POST', json: { name: 'db', pool: 'default', size: 8 * MiB } })).status).toBe(201);
    const data = new Prng(1).bytes(8 * MiB);
    data.copy(model);
    await put('db', 0, data);
    const used = startFree - (await poolFree());
    expect(used).toBe(8 * MiB);
    const res = await json('volumes/db/snapshots', { method: 'POST', json: { name: 'monday' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'monday', volumeName: 'db@monday', originName: 'db', size: 8 * MiB, allocatedBytes: 8 * MiB, uniqueBytes: 0, scheduleId: null });
    expect(startFree - (await poolFree())).toBe(8 * MiB);
    snapSum = sha(model);
    expect(sha(await image('db@monday'))).toBe(snapSum);
  });

  it('keeps the snapshot exactly as it was while the volume is rewritten at random', async () => {
    const rng = new Prng(2);
    for (let i = 0; i < 40; i++) {
      const length = rng.int(1, 300_000);
      const offset = rng.int(0, 8 * MiB - length);
      const data = rng.bytes(length);
      data.copy(model, offset);
      await put('db', offset, data);
    }
    expect((await image('db')).equals(model)).toBe(true);
    expect(sha(await image('db@monday'))).toBe(snapSum);
    const list = (await json('volumes/db/snapshots')).body;
    expect(list).toHaveLength(1);
    // Every page of the volume was written after the snapshot: it owns all of its pages alone now.
    expect(list[0].uniqueBytes).toBe(8 * MiB);
    expect(await check()).toMatchObject({ ok: true, leaked: [], doubleAllocated: [] });
  });

  it('lists snapshots under role=snapshot, not among block volumes', async () => {
    const block = (await json('volumes')).body.map((v: { name: string }) => v.name);
    expect(block).toContain('db');
    expect(block).not.toContain('db@monday');
    const snaps = (await json('volumes?role=snapshot')).body;
    expect(snaps.map((v: { name: string }) => v.name)).toEqual(['db@monday']);
    expect(snaps[0]).toMatchObject({ role: 'snapshot', origin: { name: 'db' } });
  });

  it('refuses precisely what a snapshot cannot do', async () => {
    const cases: Array<[string, Parameters<TestGateway['api']>[1], number, string, string?]> = [
      ['volumes/db/snapshots', { method: 'POST', json: { name: 'monday' } }, 409, 'NAME_TAKEN'],
      ['volumes/db/snapshots', { method: 'POST', json: { name: 'bad name' } }, 400, 'INVALID_ARGUMENT', 'snapshot name must be'],
      ['volumes/db/snapshots', { method: 'POST', json: {} }, 400, 'INVALID_ARGUMENT', 'name must be a string'],
      ['volumes/db/snapshots', { method: 'POST', json: { name: 'x', extra: 1 } }, 400, 'INVALID_ARGUMENT', 'property extra should not exist'],
      ['volumes/nope/snapshots', { method: 'POST', json: { name: 'x' } }, 404, 'VOLUME_NOT_FOUND'],
      ['volumes/db@monday/snapshots', { method: 'POST', json: { name: 'x' } }, 400, 'INVALID_ARGUMENT', 'is itself a snapshot'],
      ['volumes/db/snapshots/tuesday', { method: 'DELETE' }, 404, 'SNAPSHOT_NOT_FOUND', "snapshot 'db@tuesday' does not exist"],
      ['volumes/db/rollback', { method: 'POST', json: {} }, 400, 'INVALID_ARGUMENT', 'snapshot must be a string'],
      ['volumes/db/rollback', { method: 'POST', json: { snapshot: 'tuesday' } }, 404, 'SNAPSHOT_NOT_FOUND'],
      ['volumes/db/rollback', { method: 'POST', json: { snapshot: 'monday', force: 'yes' } }, 400, 'INVALID_ARGUMENT', 'force must be a boolean'],
      ['volumes/db/snapshots/monday/clone', { method: 'POST', json: { name: 'db' } }, 409, 'NAME_TAKEN'],
      ['volumes/db/snapshots/monday/clone', { method: 'POST', json: { name: 'a@b' } }, 400, 'INVALID_ARGUMENT', 'volume name must be'],
      ['volumes/db@monday/image', { method: 'PUT', body: Buffer.alloc(10), headers: { 'content-type': 'application/octet-stream' } }, 409, 'SNAPSHOT_VOLUME', 'is a snapshot'],
      ['volumes/db@monday', { method: 'PATCH', json: { name: 'x' } }, 409, 'SNAPSHOT_VOLUME'],
      ['volumes/db@monday', { method: 'DELETE' }, 409, 'SNAPSHOT_VOLUME'],
      ['volumes/db', { method: 'DELETE' }, 409, 'HAS_SNAPSHOTS', 'delete them, or delete recursively'],
    ];
    for (const [path, init, status, code, message] of cases) {
      const res = await json(path, init);
      expect({ path, status: res.status, code: res.body.code }).toEqual({ path, status, code });
      if (message) expect(JSON.stringify(res.body.message)).toContain(message);
    }
  });

  it('clones a snapshot into a writable volume that reads back as the snapshot', async () => {
    const res = await json('volumes/db/snapshots/monday/clone', { method: 'POST', json: { name: 'db-test' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'db-test', role: 'block', provisioning: 'thin', size: 8 * MiB });
    expect(sha(await image('db-test'))).toBe(snapSum);
    await put('db-test', 5, Buffer.from('clone was here'));
    const clone = await image('db-test');
    expect(clone.subarray(5, 19).toString()).toBe('clone was here');
    expect(sha(await image('db@monday'))).toBe(snapSum);
    expect((await image('db')).equals(model)).toBe(true);
  });

  it('assigns a snapshot to a host read-only only', async () => {
    expect((await json('hosts', { method: 'POST', json: { name: 'h1', publicKey: hostKeyPair().publicPem } })).status).toBe(201);
    const rw = await json('assignments', { method: 'POST', json: { host: 'h1', volume: 'db@monday', access: 'rw' } });
    expect(rw).toMatchObject({ status: 400, body: { code: 'INVALID_ARGUMENT', details: { field: 'access' } } });
    const ro = await json('assignments', { method: 'POST', json: { host: 'h1', volume: 'db@monday' } });
    expect(ro.status).toBe(201);
    expect(ro.body).toMatchObject({ volumeName: 'db@monday', access: 'ro' });
    const upgrade = await json(`assignments/${ro.body.id}`, { method: 'PATCH', json: { access: 'rw' } });
    expect(upgrade.status).toBe(400);
    const del = await json('volumes/db/snapshots/monday', { method: 'DELETE' });
    expect(del).toMatchObject({ status: 409, body: { code: 'SNAPSHOT_IN_USE' } });
    expect((await json(`assignments/${ro.body.id}`, { method: 'DELETE' })).status).toBe(204);
  });

  it('rolls the volume back to the snapshot, refusing while a host may write it', async () => {
    const a = await json('assignments', { method: 'POST', json: { host: 'h1', volume: 'db' } });
    expect(a.status).toBe(201);
    const refused = await json('volumes/db/rollback', { method: 'POST', json: { snapshot: 'monday' } });
    expect(refused).toMatchObject({ status: 409, body: { code: 'VOLUME_IN_USE' } });
    expect(refused.body.message).toContain('h1');
    expect((await json(`assignments/${a.body.id}`, { method: 'DELETE' })).status).toBe(204);
    const res = await json('volumes/db/rollback', { method: 'POST', json: { snapshot: 'monday' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'db', size: 8 * MiB });
    expect(sha(await image('db'))).toBe(snapSum);
    expect(await check()).toMatchObject({ ok: true });
    const audit = (await json('audit?action=volume.rollback')).body;
    expect(audit[0]).toMatchObject({ outcome: 'success', objectName: 'db' });
  });

  it('keeps snapshots, clones and reference counts across a restart', async () => {
    await put('db', 3 * MiB, Buffer.alloc(MiB, 9)); // shared again after the rollback: redirected
    const before = { db: sha(await image('db')), snap: sha(await image('db@monday')), clone: sha(await image('db-test')), free: await poolFree() };
    await gw.close({ keepData: true });
    gw = await startTestGateway({ STRATA_DEFAULT_DEVICE_SIZE: '128M' }, dataDir);
    expect(await check()).toMatchObject({ ok: true, leaked: [], doubleAllocated: [] });
    expect({ db: sha(await image('db')), snap: sha(await image('db@monday')), clone: sha(await image('db-test')), free: await poolFree() }).toEqual(before);
    // Still shared after the restart: a write to the volume redirects and the snapshot stays.
    await put('db', 0, Buffer.alloc(10, 1));
    expect(sha(await image('db@monday'))).toBe(before.snap);
  });

  it('renames snapshots with their volume', async () => {
    expect((await json('volumes/db', { method: 'PATCH', json: { name: 'db2' } })).status).toBe(200);
    expect((await json('volumes/db2/snapshots')).body.map((s: { volumeName: string }) => s.volumeName)).toEqual(['db2@monday']);
    expect((await json('volumes/db2', { method: 'PATCH', json: { name: 'db' } })).status).toBe(200);
  });

  it('deletes recursively and gives back exactly the pages nobody uses', async () => {
    expect((await json('volumes/db/snapshots', { method: 'POST', json: { name: 'tuesday' } })).status).toBe(201);
    expect((await json('volumes/db?recursive=true', { method: 'DELETE' })).status).toBe(204);
    expect((await json('volumes?role=snapshot')).body).toEqual([]);
    // The clone holds its own references: still intact.
    expect((await image('db-test')).subarray(5, 19).toString()).toBe('clone was here');
    expect(await check()).toMatchObject({ ok: true });
    expect((await json('volumes/db-test', { method: 'DELETE' })).status).toBe(204);
    expect(await poolFree()).toBe(startFree);
    const audit = (await json('audit?action=snapshot.create')).body;
    expect(audit.map((e: { objectName: string }) => e.objectName)).toEqual(expect.arrayContaining(['db@monday', 'db@tuesday']));
  });
});
