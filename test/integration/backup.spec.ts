import { createHash } from 'node:crypto';
import { mkdirSync, openSync, readdirSync, readSync, rmSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prng } from '../../src/common/prng';
import { StorageRuntime } from '../../src/storage/runtime';
import { startTestGateway, type TestGateway } from '../utils/gateway';
import { finished, json } from '../utils/mirror-fixture';

const MiB = 2 ** 20;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Backups end to end inside one gateway: a full backup and incrementals with
 * random rewrites, discards and a grow between them, restored at every point
 * and compared with what the volume held; each of the three target kinds;
 * damaged images and a vanished directory fail with precise errors.
 */
describe('client-free backup and restore', () => {
  let gw: TestGateway;
  const call = async (method: string, path: string, body?: unknown) => json(gw, path, { method, ...(body === undefined ? {} : { json: body }) });
  const face = async (name: string) => gw.app.get(StorageRuntime).disk((await call('GET', `volumes/${encodeURIComponent(name)}`)).body.id)!;
  const image = async (name: string) => {
    const d = await face(name);
    return sha(await d.read(0, d.size));
  };
  /** Start a backup and wait for it; the job must succeed. */
  const backup = async (volume: string, target: string, incremental = false) => {
    const started = await call('POST', 'backups', { volume, target, incremental });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const job = await finished(gw, started.body.job.id);
    expect(job.state, job.error).toBe('succeeded');
    return (await call('GET', `backups/${started.body.backup.id}`)).body;
  };
  const restoreTo = async (id: string, to: string) => {
    const r = await call('POST', `backups/${id}/restore`, { to });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return finished(gw, r.body.job.id);
  };
  const verify = async (id: string) => finished(gw, (await call('POST', `backups/${id}/verify`)).body.id);
  /** Random writes (not page aligned) and a discard. */
  const churn = async (volume: string, seed: number) => {
    const d = await face(volume);
    const rng = new Prng(seed);
    for (let i = 0; i < 12; i++) {
      const len = rng.int(1, 64) * 4096;
      await d.write(rng.int(0, (d.size - len) / 4096) * 4096, rng.bytes(len));
    }
    await d.discard(rng.int(0, 4) * MiB, 2 * MiB);
  };

  beforeAll(async () => {
    gw = await startTestGateway({ STRATA_DEFAULT_DEVICE_SIZE: '256M' });
    expect((await call('POST', 'devices', { name: 'd2', kind: 'file', path: join(gw.dataDir, 'd2.img'), size: '128M' })).status).toBe(201);
    expect((await call('POST', 'pools', { name: 'vault', layout: 'concat', members: [{ device: 'd2' }] })).status).toBe(201);
    mkdirSync(join(gw.dataDir, 'backups'));
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('refuses targets that cannot work, with the reason', async () => {
    const missing = await call('POST', 'backup-targets', { name: 'nope', kind: 'directory', path: join(gw.dataDir, 'absent') });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toMatch(/backup directory '.*absent' does not exist/);
    expect((await call('POST', 'backup-targets', { name: 'rel', kind: 'directory', path: 'relative/dir' })).body.message).toBe('a directory target needs path: an absolute path');
    const own = await call('POST', 'backup-targets', { name: 'own', kind: 'device', path: join(gw.dataDir, 'd2.img') });
    expect(own.body.message).toMatch(/is a device of this gateway/);
    expect((await call('POST', 'backup-targets', { name: 'p', kind: 'pool', pool: 'nosuch' })).body.code).toBe('POOL_NOT_FOUND');
  });

  it('full and three incrementals to a directory restore exactly at every point; only the base snapshot stays, and it cannot be deleted', async () => {
    expect((await call('POST', 'backup-targets', { name: 'dir', kind: 'directory', path: join(gw.dataDir, 'backups') })).status).toBe(201);
    // Not a whole number of pages: the last page is short, and a grow makes it whole.
    expect((await call('POST', 'volumes', { name: 'db', pool: 'default', size: 20 * MiB + 12 * 1024 })).status).toBe(201);
    await (await face('db')).write(0, new Prng(1).bytes(14 * MiB));
    const points: Array<{ id: string; sha: string; kind: string }> = [];
    let b = await backup('db', 'dir');
    points.push({ id: b.id, sha: await image('db'), kind: b.kind });
    for (let i = 0; i < 3; i++) {
      await churn('db', 10 + i);
      if (i === 1) expect((await call('PATCH', 'volumes/db', { size: 24 * MiB })).status).toBe(200);
      b = await backup('db', 'dir', true);
      expect(b).toMatchObject({ kind: 'incremental', parentId: points[i].id, state: 'complete' });
      points.push({ id: b.id, sha: await image('db'), kind: b.kind });
    }
    // An incremental stores only what changed (plus its manifest): far less than the full image.
    const all = (await call('GET', 'backups?volume=db')).body as Array<{ id: string; bytesStored: number; imageDigest: string }>;
    expect(all.map((x) => x.id)).toEqual(points.map((p) => p.id));
    expect(all[1].bytesStored).toBeLessThan(all[0].bytesStored);
    expect(readdirSync(join(gw.dataDir, 'backups', 'db')).sort()).toEqual(points.flatMap((p) => [`${p.id}.img`, `${p.id}.json`]).sort());

    await churn('db', 99);
    for (const [i, p] of points.entries()) {
      const j = await restoreTo(p.id, `db-r${i}`);
      expect(j.state, j.error).toBe('succeeded');
      expect(await image(`db-r${i}`)).toBe(p.sha);
      expect((await verify(p.id)).state).toBe('succeeded');
    }
    // Every older backup snapshot went once a newer backup succeeded; the latest is the next incremental's base.
    const snaps = ((await call('GET', 'volumes/db/snapshots')).body as Array<{ name: string }>).map((s) => s.name);
    expect(snaps).toEqual([`backup-${points[3].id}`]);
    const refused = await call('DELETE', `volumes/db/snapshots/backup-${points[3].id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('SNAPSHOT_NEEDED');
    expect(refused.body.message).toMatch(/base of the next incremental backup of 'db' to target 'dir'/);

    // A backup others build on goes only with them.
    const rm = await call('DELETE', `backups/${points[2].id}`);
    expect(rm.body.code).toBe('BACKUP_HAS_DEPENDENTS');
    expect((await call('DELETE', `backups/${points[2].id}?withDependents=true`)).status).toBe(204);
    expect(((await call('GET', 'backups?volume=db')).body as unknown[]).length).toBe(2);
    expect(readdirSync(join(gw.dataDir, 'backups', 'db')).length).toBe(4);
    // With its latest backup gone the base snapshot went too: the next incremental needs a full first.
    expect((await call('POST', 'backups', { volume: 'db', target: 'dir', incremental: true })).body.code).toBe('BACKUP_NOT_COMPLETE');
  });

  it('a damaged byte in an image fails verify and restore, naming the backup, the page and the file', async () => {
    expect((await call('POST', 'volumes', { name: 'web', pool: 'default', size: 8 * MiB })).status).toBe(201);
    await (await face('web')).write(0, new Prng(5).bytes(8 * MiB));
    const full = await backup('web', 'dir');
    await (await face('web')).write(3 * MiB, new Prng(6).bytes(MiB));
    const inc = await backup('web', 'dir', true);
    const file = join(gw.dataDir, 'backups', 'web', `${full.id}.img`);
    const fd = openSync(file, 'r+');
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, 5 * MiB + 77);
    writeSync(fd, Buffer.from([byte[0] ^ 0xff]), 0, 1, 5 * MiB + 77);
    closeSync(fd);
    const v = await verify(inc.id);
    expect(v.state).toBe('failed');
    expect(v.error).toBe(`backup ${full.id} (${file}): page 5 (bytes [${5 * MiB}, ${6 * MiB})) does not match its SHA-256: the image is damaged`);
    const r = await restoreTo(inc.id, 'web-r');
    expect(r.state).toBe('failed');
    expect(r.error).toBe(v.error);
    // The incremental's own page 3 is fine on its own: verifying stops only at the damaged page.
    rmSync(join(gw.dataDir, 'backups', 'web', `${inc.id}.json`));
    expect((await verify(inc.id)).error).toBe(`manifest ${join(gw.dataDir, 'backups', 'web', `${inc.id}.json`)} is missing`);
  });

  it('a pool target keeps every backup as a snapshot of one volume there, restorable on its own', async () => {
    expect((await call('POST', 'backup-targets', { name: 'vault', kind: 'pool', pool: 'vault' })).status).toBe(201);
    expect((await call('POST', 'volumes', { name: 'app', pool: 'default', size: 16 * MiB })).status).toBe(201);
    await (await face('app')).write(MiB, new Prng(7).bytes(10 * MiB));
    const points: Array<{ id: string; sha: string }> = [];
    let b = await backup('app', 'vault');
    points.push({ id: b.id, sha: await image('app') });
    for (let i = 0; i < 2; i++) {
      await churn('app', 30 + i);
      b = await backup('app', 'vault', true);
      points.push({ id: b.id, sha: await image('app') });
    }
    const snaps = ((await call('GET', 'volumes/app.backup/snapshots')).body as Array<{ name: string }>).map((s) => s.name);
    expect(snaps).toEqual(points.map((p) => `backup-${p.id}`));
    for (const [i, p] of points.entries()) {
      expect((await restoreTo(p.id, `app-r${i}`)).state).toBe('succeeded');
      expect(await image(`app-r${i}`)).toBe(p.sha);
    }
    // The backups there are not deleted by hand, one by one or with their volume.
    const one = await call('DELETE', `volumes/app.backup/snapshots/backup-${points[0].id}`);
    expect(one.body).toMatchObject({ code: 'SNAPSHOT_NEEDED' });
    expect((await call('DELETE', 'volumes/app.backup?recursive=true')).body.code).toBe('SNAPSHOT_NEEDED');
    // Written by hand, the volume no longer holds the last backup: an incremental is refused, a full goes.
    await (await face('app.backup')).write(0, Buffer.alloc(4096, 1));
    const refusedInc = await call('POST', 'backups', { volume: 'app', target: 'vault', incremental: true });
    expect(refusedInc.status).toBe(201);
    expect((await finished(gw, refusedInc.body.job.id)).error).toMatch(/^volume 'app.backup' was written after backup .*: make a full backup/);
    // Removing every backup there (the failed incremental first: it builds on the last) gives the volume back.
    expect((await call('DELETE', `backups/${refusedInc.body.backup.id}`)).status).toBe(204);
    for (const p of [...points].reverse()) expect((await call('DELETE', `backups/${p.id}`)).status).toBe(204);
    expect((await call('GET', 'volumes/app.backup')).status).toBe(404);
  });

  it('a device target holds one full raw image; a newer one overwrites it', async () => {
    const dev = join(gw.dataDir, 'tape.raw');
    expect((await call('POST', 'backup-targets', { name: 'tape', kind: 'device', path: dev })).status).toBe(201);
    expect((await call('POST', 'volumes', { name: 'logs', pool: 'default', size: 6 * MiB })).status).toBe(201);
    await (await face('logs')).write(0, new Prng(8).bytes(6 * MiB));
    expect((await call('POST', 'backups', { volume: 'logs', target: 'tape', incremental: true })).body.message).toMatch(/is a device: it holds one full raw image/);
    const first = await backup('logs', 'tape');
    const firstSha = await image('logs');
    await churn('logs', 50);
    const second = await backup('logs', 'tape');
    expect((await call('GET', `backups/${first.id}`)).body.state).toBe('overwritten');
    expect((await call('POST', `backups/${first.id}/restore`, { to: 'x' })).body.code).toBe('BACKUP_NOT_COMPLETE');
    expect((await restoreTo(second.id, 'logs-r')).state).toBe('succeeded');
    expect(await image('logs-r')).toBe(await image('logs'));
    expect(await image('logs-r')).not.toBe(firstSha);
    // The raw device holds the image itself.
    const raw = Buffer.alloc(6 * MiB);
    const fd = openSync(dev, 'r');
    readSync(fd, raw, 0, raw.length, 0);
    closeSync(fd);
    expect(sha(raw)).toBe(await image('logs'));
  });

  it('restores over an existing volume only with force and without assignments', async () => {
    const list = (await call('GET', 'backups?volume=logs')).body as Array<{ id: string; state: string }>;
    const latest = list.find((b) => b.state === 'complete')!;
    expect((await call('POST', 'volumes', { name: 'scratch', pool: 'default', size: 4 * MiB })).status).toBe(201);
    expect((await call('POST', `backups/${latest.id}/restore`, { over: 'scratch' })).body.code).toBe('RESTORE_NEEDS_FORCE');
    const r = await call('POST', `backups/${latest.id}/restore`, { over: 'scratch', force: true });
    expect(r.status).toBe(201);
    expect((await finished(gw, r.body.job.id)).state).toBe('succeeded');
    expect(await image('scratch')).toBe(await image('logs'));
  });

  it('a directory that vanished fails the job with a clear error', async () => {
    const dir = join(gw.dataDir, 'usb');
    mkdirSync(dir);
    expect((await call('POST', 'backup-targets', { name: 'usb', kind: 'directory', path: dir })).status).toBe(201);
    rmSync(dir, { recursive: true });
    const started = await call('POST', 'backups', { volume: 'logs', target: 'usb' });
    const job = await finished(gw, started.body.job.id);
    expect(job.state).toBe('failed');
    expect(job.error).toBe(`backup directory '${dir}' does not exist (removed, or its disk not mounted?)`);
    expect((await call('GET', `backups/${started.body.backup.id}`)).body).toMatchObject({ state: 'pending', job: { state: 'failed' } });
    expect((await call('DELETE', 'backup-targets/usb')).body.code).toBe('TARGET_IN_USE');
    expect((await call('DELETE', `backups/${started.body.backup.id}`)).status).toBe(204);
    expect((await call('DELETE', 'backup-targets/usb')).status).toBe(204);
  });

  it('a cancelled backup keeps its snapshot and partial image, and resumed it completes from its checkpoint', async () => {
    expect((await call('POST', 'volumes', { name: 'slow', pool: 'default', size: 16 * MiB })).status).toBe(201);
    await (await face('slow')).write(0, new Prng(77).bytes(16 * MiB));
    const want = await image('slow');
    const started = await call('POST', 'backups', { volume: 'slow', target: 'dir', rateLimit: '4M' });
    expect(started.status).toBe(201);
    const jobId = started.body.job.id as string;
    for (let i = 0; i < 400 && !((await call('GET', `jobs/${jobId}`)).body.checkpoint?.next > 0); i++) await new Promise((r) => setTimeout(r, 25));
    const cancelled = await call('POST', `jobs/${jobId}/cancel`);
    expect(cancelled.body.state).toBe('cancelled');
    const at = cancelled.body.checkpoint.next as number;
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(16 * MiB);
    expect((await call('GET', `backups/${started.body.backup.id}`)).body).toMatchObject({ state: 'pending', job: { state: 'cancelled' } });
    const refused = await call('DELETE', `volumes/slow/snapshots/backup-${started.body.backup.id}`);
    expect(refused.body.message).toMatch(/is being made from it \(job .* is cancelled\)/);
    // The volume changes meanwhile: the backup is of the snapshot, taken before.
    await (await face('slow')).write(0, Buffer.alloc(MiB, 9));
    expect((await call('POST', `jobs/${jobId}/resume`)).status).toBe(200);
    const done = await finished(gw, jobId);
    expect(done.state, done.error).toBe('succeeded');
    expect(done.bytesDone).toBe(16 * MiB);
    expect((await restoreTo(started.body.backup.id, 'slow-r')).state).toBe('succeeded');
    expect(await image('slow-r')).toBe(want);
  });
});
