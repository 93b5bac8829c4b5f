import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NasService } from '../../src/nas/nas.service';
import { nfs_opnum4 as OP, nfsstat4 } from '../../src/protocols/nfs4/constants';
import { FATTR4 } from '../../src/protocols/nfs4/fattr4.codec';
import { SYSTEM_ACTOR } from '../../src/storage/domain';
import { apiJson, startTestGateway, type TestGateway } from '../utils/gateway';
import { strata } from '../utils/in-process-cli';
import { createShare, nasPorts } from '../utils/nas-fixture';
import { Nfs3Client } from '../utils/nfs3-client';
import { Nfs4TestClient, resultOf } from '../utils/nfs4-client';

const text = (s: string) => Buffer.from(s);

/**
 * A share snapshot over the NFS front end of a real gateway: taken through
 * REST, read back as it was under `/.snapshots/<name>/` with our NFSv3 and
 * NFSv4.1 clients while the live share moves on, refused every change,
 * surviving a restart (same handles), and STALE once deleted.
 */
describe('share snapshots under /.snapshots/', () => {
  let gw: TestGateway;
  let c: Nfs3Client;
  let v4: Nfs4TestClient;
  const json = (path: string, init?: Parameters<TestGateway['api']>[1]) => apiJson(gw, path, init);

  async function connect(): Promise<void> {
    c = await Nfs3Client.connect(nasPorts(gw).nfs);
    v4 = await Nfs4TestClient.connect(nasPorts(gw).nfs);
    await v4.mount();
  }

  beforeAll(async () => {
    gw = await startTestGateway({ STRATA_DEFAULT_DEVICE_SIZE: '256M' });
    await createShare(gw, 'docs');
    await connect();
  });
  afterAll(async () => {
    await v4?.destroy().catch(() => undefined);
    await c?.close();
    await gw?.close();
  });

  let root: Buffer;
  let oldA: Buffer;
  let snapA: Buffer;

  it('keeps the files as they were while the share is overwritten, emptied and renamed', async () => {
    root = await c.mount('/docs');
    const a = await c.create(root, 'a.txt');
    await c.write(a, 0, text('first version of a'));
    await c.write(await c.create(root, 'b.txt'), 0, text('bee'));
    const sub = await c.mkdir(root, 'sub');
    await c.write(await c.create(sub, 'c.txt'), 0, text('sea'));
    oldA = a;

    // By share name: the snapshot commands take a share where they take a volume.
    const taken = await json('volumes/docs/snapshots', { method: 'POST', json: { name: 'monday' } });
    expect(taken.status).toBe(201);
    expect(taken.body).toMatchObject({ name: 'monday', volumeName: 'share:docs@monday', originName: 'share:docs', share: { name: 'docs', handleId: 1 } });
    const metaCopy = join(gw.dataDir, 'shares', taken.body.share.id, 'snapshots', `${taken.body.id}.sqlite`);
    expect(existsSync(metaCopy)).toBe(true);

    // The live share moves on.
    await c.ok(2, { object: a, new_attributes: { size: 0 } });
    await c.write(a, 0, text('second'));
    await c.remove(root, 'b.txt');
    await c.ok(14, { from: { dir: sub, name: 'c.txt' }, to: { dir: root, name: 'moved.txt' } });

    const snaps = await c.lookup(root, '.snapshots');
    expect(snaps.attr.type).toBe(2);
    expect(snaps.attr.mode & 0o777).toBe(0o555);
    // Reachable by name, hidden from the root's listing.
    expect((await c.readdirNames(root)).sort()).toEqual(['.', '..', 'a.txt', 'moved.txt', 'sub']);
    expect(await c.readdirNames(snaps.fh)).toEqual(['.', '..', 'monday']);
    const monday = await c.lookup(snaps.fh, 'monday');
    const rootAttr = await c.getattr(root);
    // Each snapshot is a filesystem of its own to clients: same fileids, another fsid.
    expect(monday.attr.fileid).toBe(rootAttr.fileid);
    expect(monday.attr.fsid).not.toBe(rootAttr.fsid);
    expect((await c.readdirNames(monday.fh)).sort()).toEqual(['.', '..', 'a.txt', 'b.txt', 'sub']);
    snapA = (await c.lookup(monday.fh, 'a.txt')).fh;
    expect((await c.readAll(snapA)).toString()).toBe('first version of a');
    expect((await c.readAll((await c.lookup(monday.fh, 'b.txt')).fh)).toString()).toBe('bee');
    const snapSub = await c.lookup(monday.fh, 'sub');
    expect((await c.readAll((await c.lookup(snapSub.fh, 'c.txt')).fh)).toString()).toBe('sea');
    expect((await c.readAll(a)).toString()).toBe('second');

    // READDIRPLUS hands out snapshot handles that work, and '..' goes back up the way it came.
    const plus = await c.readdirplusAll(monday.fh);
    const viaPlus = plus.entries.find((e) => e.name === 'a.txt')!.name_handle!;
    expect((await c.readAll(viaPlus)).toString()).toBe('first version of a');
    expect((await c.lookup(monday.fh, '..')).fh.equals(snaps.fh)).toBe(true);
    expect((await c.lookup(snaps.fh, '..')).fh.equals(root)).toBe(true);
    expect(plus.entries.find((e) => e.name === '..')!.name_handle!.equals(snaps.fh)).toBe(true);
  });

  it('refuses every change under /.snapshots/ with NFS3ERR_ROFS, and the name .snapshots at the root with EXIST', async () => {
    const snaps = (await c.lookup(root, '.snapshots')).fh;
    const monday = (await c.lookup(snaps, 'monday')).fh;
    const expectStatus = async (p: Promise<string>, status: string) => expect(await p).toBe(status);
    await expectStatus(c.status(7, { file: snapA, offset: 0, count: 1, stable: 2, data: text('x') }), 'NFS3ERR_ROFS');
    await expectStatus(c.status(2, { object: snapA, new_attributes: { mode: 0o777 } }), 'NFS3ERR_ROFS');
    await expectStatus(c.status(8, { where: { dir: monday, name: 'new.txt' }, how: { mode: 0, obj_attributes: {} } }), 'NFS3ERR_ROFS');
    await expectStatus(c.status(9, { where: { dir: snaps, name: 'tuesday' }, attributes: {} }), 'NFS3ERR_ROFS');
    await expectStatus(c.status(12, { object: { dir: monday, name: 'a.txt' } }), 'NFS3ERR_ROFS');
    await expectStatus(c.status(13, { object: { dir: snaps, name: 'monday' } }), 'NFS3ERR_ROFS');
    await expectStatus(c.status(14, { from: { dir: monday, name: 'a.txt' }, to: { dir: root, name: 'stolen.txt' } }), 'NFS3ERR_ROFS');
    // A hard link from a snapshot into the live share would make the live share point at a snapshot's inode.
    await expectStatus(c.status(15, { file: snapA, link: { dir: root, name: 'linked' } }), 'NFS3ERR_ROFS');
    await expectStatus(c.status(8, { where: { dir: root, name: '.snapshots' }, how: { mode: 0, obj_attributes: {} } }), 'NFS3ERR_EXIST');
    await expectStatus(c.status(9, { where: { dir: root, name: '.snapshots' }, attributes: {} }), 'NFS3ERR_EXIST');
    await expectStatus(c.status(14, { from: { dir: root, name: 'a.txt' }, to: { dir: root, name: '.snapshots' } }), 'NFS3ERR_EXIST');
    // ACCESS grants no change there, whatever the modes say.
    const access = await c.ok(4, { object: snapA, access: 0x3f });
    expect(access.access & (0x04 | 0x08 | 0x10)).toBe(0);
    // The live file is untouched by all that.
    expect((await c.readAll(oldA)).toString()).toBe('second');
  });

  it('serves the same snapshot to NFSv4.1: reads as it was, NFS4ERR_ROFS for changes, LOOKUPP back up', async () => {
    const dir = await v4.fh('/docs/.snapshots/monday');
    const attrs = await v4.getattr(dir, [FATTR4.TYPE, FATTR4.FSID]);
    expect(attrs.fsid).toEqual({ major: 1, minor: 1 });
    expect((await v4.readdir(dir)).map((e) => e.name).sort()).toEqual(['a.txt', 'b.txt', 'sub']);
    const { fh, stateid } = await v4.open(dir, 'a.txt', { access: 1 });
    expect((await v4.read(fh, stateid, 0, 100)).data.toString()).toBe('first version of a');
    await v4.close(fh, stateid);
    await expect(v4.open(dir, 'a.txt', { access: 2 })).rejects.toMatchObject({ status: nfsstat4.NFS4ERR_ROFS });
    await expect(v4.open(dir, 'new.txt', { create: true })).rejects.toMatchObject({ status: nfsstat4.NFS4ERR_ROFS });
    await expect(v4.call([{ argop: OP.OP_PUTFH, args: dir }, { argop: OP.OP_REMOVE, args: 'b.txt' }])).rejects.toMatchObject({ status: nfsstat4.NFS4ERR_ROFS });
    const up = await v4.call([{ argop: OP.OP_PUTFH, args: dir }, { argop: OP.OP_LOOKUPP, args: undefined }, { argop: OP.OP_LOOKUPP, args: undefined }, { argop: OP.OP_GETFH, args: undefined }]);
    expect(resultOf<Buffer>(up, OP.OP_GETFH).equals(await v4.fh('/docs'))).toBe(true);
    expect((await v4.readdir(await v4.fh('/docs'))).map((e) => e.name)).not.toContain('.snapshots');
    // The live share stays writable through v4 beside it.
    const live = await v4.open(await v4.fh('/docs'), 'v4.txt', { create: true });
    await v4.write(live.fh, live.stateid, 0, text('four'));
    await v4.close(live.fh, live.stateid);
  });

  it('checks a snapshot with share fsck, and takes and lists share snapshots with the CLI', async () => {
    const nas = gw.app.get(NasService);
    const report = await nas.fsck(SYSTEM_ACTOR, 'docs', { snapshot: 'monday' });
    expect(report).toMatchObject({ clean: true, snapshot: 'monday' });
    expect((await nas.fsck(SYSTEM_ACTOR, 'docs')).clean).toBe(true);
    const fsck = await strata(gw, ['share', 'fsck', 'docs', '--snapshot', 'monday']);
    expect(fsck).toMatchObject({ code: 0 });
    expect(fsck.stdout).toMatch(/^Snapshot 'monday' of share 'docs': clean\./);
    expect(await json('shares/docs/fsck?snapshot=nope', { method: 'POST' })).toMatchObject({ status: 404, body: { code: 'SNAPSHOT_NOT_FOUND' } });
    const made = await strata(gw, ['snapshot', 'create', 'docs', 'cli']);
    expect(made).toMatchObject({ code: 0, stdout: "Created snapshot 'cli' of volume 'share:docs' (share:docs@cli).\n" });
    expect((await strata(gw, ['snapshot', 'ls', 'share:docs'])).stdout).toMatch(/monday[\s\S]*cli/);
    expect(await strata(gw, ['snapshot', 'rm', 'docs', 'cli', '--yes'])).toMatchObject({ code: 0 });
    expect((await json('volumes/docs/snapshots')).body.map((s: { name: string }) => s.name)).toEqual(['monday']);
  });

  it('keeps the handles across a restart, and answers STALE once the snapshot is deleted', async () => {
    await v4.destroy().catch(() => undefined);
    await c.close();
    await gw.close({ keepData: true });
    gw = await startTestGateway({ STRATA_DEFAULT_DEVICE_SIZE: '256M' }, gw.dataDir);
    await connect();
    expect((await c.readAll(snapA)).toString()).toBe('first version of a');
    expect((await c.readAll(oldA)).toString()).toBe('second');

    const second = await json('volumes/share:docs/snapshots', { method: 'POST', json: { name: 'tuesday' } });
    expect(second.body.share.handleId).toBe(3);
    const snaps = (await c.lookup(root, '.snapshots')).fh;
    expect(await c.readdirNames(snaps)).toEqual(['.', '..', 'monday', 'tuesday']);
    const tuesdayA = (await c.lookup((await c.lookup(snaps, 'tuesday')).fh, 'a.txt')).fh;
    expect((await c.readAll(tuesdayA)).toString()).toBe('second');

    const list = await json('volumes/docs/snapshots');
    expect(list.body.map((s: { name: string }) => s.name)).toEqual(['monday', 'tuesday']);
    const mondayId = list.body[0].id as string;
    expect((await json('volumes/docs/snapshots/monday', { method: 'DELETE' })).status).toBe(204);
    expect(await c.status(1, { object: snapA })).toBe('NFS3ERR_STALE');
    expect(await c.status(6, { file: snapA, offset: 0, count: 10 })).toBe('NFS3ERR_STALE');
    expect(await c.status(7, { file: snapA, offset: 0, count: 1, stable: 2, data: text('x') })).toBe('NFS3ERR_STALE');
    expect(await c.readdirNames(snaps)).toEqual(['.', '..', 'tuesday']);
    expect(await c.status(3, { what: { dir: snaps, name: 'monday' } })).toBe('NFS3ERR_NOENT');
    expect(existsSync(join(gw.dataDir, 'shares', list.body[0].share.id, 'snapshots', `${mondayId}.sqlite`))).toBe(false);
    // A number is never reused: the next snapshot does not bring the old handles back to life.
    expect((await json('volumes/docs/snapshots', { method: 'POST', json: { name: 'monday' } })).body.share.handleId).toBe(4);
    expect(await c.status(1, { object: snapA })).toBe('NFS3ERR_STALE');
    expect((await c.readAll(tuesdayA)).toString()).toBe('second');
  });

  it('refuses a rollback while clients have the share mounted, and a clone under a name that is not a share name', async () => {
    // MOUNT records the client (the list is kept in memory: MNT again after the restart above).
    await c.mount('/docs');
    const rollback = await json('volumes/docs/rollback', { method: 'POST', json: { snapshot: 'tuesday' } });
    expect(rollback.status).toBe(409);
    expect(rollback.body.code).toMatch(/IN_USE$/);
    expect(rollback.body.message).toMatch(/unmount it there first, or roll back with force/);
    const clone = await json('volumes/docs/snapshots/tuesday/clone', { method: 'POST', json: { name: 'no/slashes' } });
    expect(clone.status).toBe(400);
    expect(((await json('shares')).body as Array<{ name: string }>).map((x) => x.name)).toEqual(['docs']);
  });

  it('deletes the snapshots and their metadata copies with the share; handles into them go STALE', async () => {
    const snaps = (await c.lookup(root, '.snapshots')).fh;
    const tuesday = (await c.lookup(snaps, 'tuesday')).fh;
    const share = (await json('shares/docs')).body;
    expect((await json('shares/docs?force=true', { method: 'DELETE' })).status).toBe(204);
    expect(await c.status(1, { object: tuesday })).toBe('NFS3ERR_STALE');
    expect((await json('volumes?role=snapshot')).body.filter((v: { name: string }) => v.name.startsWith('share:docs@'))).toEqual([]);
    expect(existsSync(join(gw.dataDir, 'shares', share.id))).toBe(false);
  });
});
