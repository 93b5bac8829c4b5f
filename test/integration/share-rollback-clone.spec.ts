import { createHash } from 'node:crypto';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prng } from '../../src/common/prng';
import { snapshotMetaPath } from '../../src/nas/share-paths';
import { VolumeEntity } from '../../src/storage/entities';
import { SnapshotService } from '../../src/storage/snapshot.service';
import { apiJson, startTestGateway, type TestGateway } from '../utils/gateway';
import { strata } from '../utils/in-process-cli';
import { createShare, fileHashes, nasPorts } from '../utils/nas-fixture';
import { Nfs3Client, Nfs3Error } from '../utils/nfs3-client';

const text = (s: string) => Buffer.from(s);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Rollback of a share to one of its snapshots, over a real gateway's NFS
 * front end: refused while a client has it mounted unless forced; then the
 * files are as they were (volume and metadata together), every handle given
 * out before is STALE, the share takes writes again, passes fsck, and stays
 * rolled back across a restart.
 */
describe('rollback of a share', () => {
  let gw: TestGateway;
  let c: Nfs3Client;
  const json = (path: string, init?: Parameters<TestGateway['api']>[1]) => apiJson(gw, path, init);

  const files = (root: Buffer) => fileHashes(c, root);
  const writeFile = async (dir: Buffer, name: string, data: Buffer) => {
    const fh = await c.create(dir, name);
    for (let at = 0; at < data.length; at += 256 * 1024) await c.write(fh, at, data.subarray(at, at + 256 * 1024));
    return fh;
  };

  /** Stop the gateway (its data kept), run `whileDown`, start it again on the same data. */
  const restart = async (whileDown: () => void = () => undefined) => {
    await c.close();
    const dir = gw.dataDir;
    await gw.close({ keepData: true });
    whileDown();
    gw = await startTestGateway({ STRATA_DEFAULT_DEVICE_SIZE: '256M' }, dir);
    c = await Nfs3Client.connect(nasPorts(gw).nfs);
  };

  beforeAll(async () => {
    gw = await startTestGateway({ STRATA_DEFAULT_DEVICE_SIZE: '256M' });
    await createShare(gw, 'proj');
    c = await Nfs3Client.connect(nasPorts(gw).nfs);
  });
  afterAll(async () => {
    await c?.close();
    await gw?.close();
  });

  it('goes back to the snapshot, volume and metadata together, with stale handles after', async () => {
    let root = await c.mount('/proj');
    await writeFile(root, 'keep.txt', text('as it was'));
    await writeFile(root, 'big.bin', new Prng(5).bytes(2 * 2 ** 20 + 11));
    const sub = await c.mkdir(root, 'sub');
    for (let i = 0; i < 10; i++) await writeFile(sub, `f${i}`, text(`file ${i}`));
    const before = await files(root);
    expect((await json('volumes/proj/snapshots', { method: 'POST', json: { name: 'good' } })).status).toBe(201);
    // A restart between the snapshot and the changes: the filesystem hands out generations from a new range after it.
    await restart();
    root = await c.mount('/proj');
    const sub2 = (await c.lookup(root, 'sub')).fh;

    // Everything changes: a file overwritten, one removed, new ones, a big one rewritten.
    await c.write((await c.lookup(root, 'keep.txt')).fh, 0, text('OVERWRITTEN'));
    const made = await writeFile(root, 'made-after.txt', text('not in the snapshot'));
    await c.remove(sub2, 'f3');
    await writeFile(root, 'big.bin', new Prng(6).bytes(3 * 2 ** 20));
    expect((await json('volumes/proj/snapshots', { method: 'POST', json: { name: 'later' } })).status).toBe(201);
    expect(await files(root)).not.toEqual(before);

    // A client has it mounted: refused without force, and nothing changed.
    const refused = await json('volumes/proj/rollback', { method: 'POST', json: { snapshot: 'good' } });
    expect(refused.status, JSON.stringify(refused.body)).toBe(409);
    expect(refused.body.message).toMatch(/127\.0\.0\.1.*unmount it there first, or roll back with force/);
    expect((await c.getattr(made)).size).toBe(19);

    const done = await strata(gw, ['--yes', 'snapshot', 'rollback', 'proj', 'good', '--force']);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/Rolled share 'proj' back to snapshot 'good': NFS clients should mount it again/);
    // A handle to a file made after the snapshot is STALE; the root's still works.
    const stale = await c.getattr(made).then(() => null, (e: unknown) => e);
    expect(stale).toBeInstanceOf(Nfs3Error);
    expect((stale as Nfs3Error).message).toMatch(/STALE/);
    expect(await files(root)).toEqual(before);
    // A file made now never takes the identity of one made after the snapshot: that handle stays STALE.
    for (let i = 0; i < 5; i++) await writeFile(root, `fresh${i}.txt`, text('fresh'));
    expect(await c.getattr(made).then(() => 'resolved', (e: Error) => e.message)).toMatch(/STALE/);
    for (let i = 0; i < 5; i++) await c.remove(root, `fresh${i}.txt`);

    root = await c.mount('/proj');
    expect(await files(root)).toEqual(before);
    await expect(c.lookup(root, 'made-after.txt')).rejects.toThrow(/NOENT/);
    // Both snapshots are still there; the later one still reads as it was.
    const snaps = (await json('volumes/proj/snapshots')).body as Array<{ name: string }>;
    expect(snaps.map((s) => s.name)).toEqual(['good', 'later']);
    const later = (await c.lookup((await c.lookup(root, '.snapshots')).fh, 'later')).fh;
    expect(sha(await c.readAll((await c.lookup(later, 'made-after.txt')).fh))).toBe(sha(text('not in the snapshot')));

    // It takes writes, passes fsck, and stays so across a restart.
    await writeFile(root, 'after-rollback.txt', text('new life'));
    expect((await json('shares/proj/fsck', { method: 'POST' })).body).toMatchObject({ clean: true });
    const now = await files(root);
    await restart();
    expect(await files(await c.mount('/proj'))).toEqual(now);

    const audit = (await json('audit?limit=50')).body as Array<{ action: string; outcome: string }>;
    expect(audit.filter((e) => e.action === 'volume.rollback').map((e) => e.outcome)).toEqual(expect.arrayContaining(['success', 'failure']));
  });

  /**
   * A rollback cut off by a crash: the snapshot's database waits beside the
   * live one as meta.sqlite.rollback-<snapshot>. At boot it goes in place if
   * the volume was already rolled back, and away if it was not.
   */
  it('a rollback cut off by a crash is finished or dropped at boot, by whether the volume was swapped', async () => {
    let root = await c.mount('/proj');
    await writeFile(root, 'crash-base.txt', text('in snapshot pre-crash'));
    const snap = (await json('volumes/proj/snapshots', { method: 'POST', json: { name: 'pre-crash' } })).body as { id: string };
    // Bigger than inline data: it takes a page of the volume, so the volume no longer reads as the snapshot.
    await writeFile(root, 'after-pre-crash.txt', new Prng(8).bytes(64 * 1024));
    const changed = await files(root);
    const share = (await json('shares/proj')).body as { id: string; volumeId: string };
    const live = join(gw.dataDir, 'shares', share.id, 'meta.sqlite');
    const pending = `${live}.rollback-${snap.id}`;
    const snapshotCopy = snapshotMetaPath(join(gw.dataDir, 'shares'), share.id, snap.id);

    // Cut off before the volume was rolled back: dropped, the share stays as it was.
    await restart(() => copyFileSync(snapshotCopy, pending));
    expect(existsSync(pending)).toBe(false);
    root = await c.mount('/proj');
    expect(await files(root)).toEqual(changed);

    // Cut off after the volume was rolled back (its map is the snapshot's), before the database went in place: finished.
    const volumes = gw.app.get(DataSource).getRepository(VolumeEntity);
    const volume = await volumes.findOneByOrFail({ id: share.volumeId });
    const snapRow = await volumes.findOneByOrFail({ id: snap.id });
    await gw.app.get(SnapshotService).rollbackUnservedShare(volume, snapRow);
    await restart(() => copyFileSync(snapshotCopy, pending));
    expect(existsSync(pending)).toBe(false);
    root = await c.mount('/proj');
    const back = await files(root);
    expect(back['crash-base.txt']).toBe(sha(text('in snapshot pre-crash')));
    expect(back['after-pre-crash.txt']).toBeUndefined();
    expect((await json('shares/proj/fsck', { method: 'POST' })).body).toMatchObject({ clean: true });
  });

  it("a share's snapshot clones into a new share: same files and rules, independent afterwards, pages shared until rewritten", async () => {
    const root = await c.mount('/proj');
    await writeFile(root, 'cloned.txt', text('in the clone'));
    expect((await json('volumes/proj/snapshots', { method: 'POST', json: { name: 'for-clone' } })).status).toBe(201);
    const atSnapshot = await files(root);
    await writeFile(root, 'only-in-origin.txt', text('after the snapshot'));

    const made = await strata(gw, ['snapshot', 'clone', 'proj', 'for-clone', 'proj-copy']);
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toMatch(/Created share 'proj-copy' \(.*\) from snapshot 'for-clone' of share 'proj', with its export rules/);
    const copy = (await json('shares/proj-copy')).body;
    const origin = (await json('shares/proj')).body;
    expect(copy).toMatchObject({ size: origin.size, sync: origin.sync, replica: null });
    expect(copy.restoringFrom).toBeUndefined();
    expect(copy.rules.map((r: { clients: string[]; access: string }) => [r.clients, r.access])).toEqual(origin.rules.map((r: { clients: string[]; access: string }) => [r.clients, r.access]));
    expect(copy.exportId).not.toBe(origin.exportId);
    // Instant: it maps the snapshot's pages, none of its own yet.
    const volumes = gw.app.get(DataSource).getRepository(VolumeEntity);
    const [copyVol, snapVol] = await Promise.all([volumes.findOneByOrFail({ name: 'share:proj-copy' }), volumes.findOneByOrFail({ name: 'share:proj@for-clone' })]);
    expect(copyVol.familyId ?? copyVol.id).toBe(snapVol.familyId ?? snapVol.id);

    let copyRoot: Buffer | null = null;
    await expect.poll(async () => (copyRoot = await c.mount('/proj-copy').catch(() => null)) !== null, { timeout: 10_000 }).toBe(true);
    expect(await files(copyRoot!)).toEqual(atSnapshot);
    // Independent: a change on either side is not on the other.
    await c.write((await c.lookup(copyRoot!, 'cloned.txt')).fh, 0, text('CHANGED'));
    await c.remove(copyRoot!, 'keep.txt');
    expect(sha(await c.readAll((await c.lookup(root, 'cloned.txt')).fh))).toBe(sha(text('in the clone')));
    await c.lookup(root, 'keep.txt');
    await expect(c.lookup(copyRoot!, 'only-in-origin.txt')).rejects.toThrow(/NOENT/);
    expect((await json('shares/proj-copy/fsck', { method: 'POST' })).body).toMatchObject({ clean: true });
    expect((await json('shares/proj/fsck', { method: 'POST' })).body).toMatchObject({ clean: true });

    // The snapshot can go: the clone keeps the pages it still maps.
    expect((await json('volumes/proj/snapshots/for-clone', { method: 'DELETE' })).status).toBe(204);
    expect(sha(await c.readAll((await c.lookup(copyRoot!, 'big.bin')).fh))).toBe(atSnapshot['big.bin']);
    // A name taken by a share is refused, and nothing is left behind.
    expect((await json('volumes/proj/snapshots', { method: 'POST', json: { name: 'again' } })).status).toBe(201);
    const taken = await json('volumes/proj/snapshots/again/clone', { method: 'POST', json: { name: 'proj-copy' } });
    expect(taken.status).toBe(409);
    expect(((await json('shares')).body as unknown[]).length).toBe(2);
  });
});

