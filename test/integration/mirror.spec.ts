import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prng } from '../../src/common/prng';
import { StorageRuntime } from '../../src/storage/runtime';
import { FaultyDevice } from '../utils/faulty-device';
import { checksums, faultyPool, finished, job, json, until, writeRandom } from '../utils/mirror-fixture';
import { startTestGateway, type TestGateway } from '../utils/gateway';
import { has } from '../utils/tools';
import { NbdExportService } from '../../src/nbd/nbd-export.service';

const run = promisify(execFile);
const nbdTools = ['nbdcopy', 'fio'].filter((t) => !has(t));
if (nbdTools.length) console.warn(`mirror over NBD skipped: ${nbdTools.join(', ')} not installed (apt-get install libnbd-bin fio)`);

const MiB = 2 ** 20;

describe('synchronous mirror through the gateway', () => {
  let gw: TestGateway;
  let faulty: FaultyDevice;

  beforeAll(async () => {
    gw = await startTestGateway({ STRATA_MIRROR_PROBE_MS: '50' });
    faulty = (await faultyPool(gw, 'mpool'))!;
    expect((await json(gw, 'volumes', { method: 'POST', json: { name: 'v1', pool: 'default', size: '24M' } })).status).toBe(201);
    await writeRandom(gw, 'v1', 1, 60);
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('adds a mirror on another pool; the initial sync job copies the mapped pages and the volume reports in-sync', async () => {
    const bad = await json(gw, 'volumes/v1/mirror', { method: 'POST', json: { pool: 'default' } });
    expect(bad.status).toBe(400);
    const added = await json(gw, 'volumes/v1/mirror', { method: 'POST', json: { pool: 'mpool' } });
    expect(added.status).toBe(201);
    expect(added.body.job).toMatchObject({ kind: 'mirror-resync', target: { type: 'volume', name: 'v1' } });
    const done = await finished(gw, added.body.job.id);
    expect(done).toMatchObject({ state: 'succeeded', percent: 100 });
    expect(done.bytesDone).toBeGreaterThan(0);
    const v = (await json(gw, 'volumes/v1')).body;
    expect(v.mirror).toMatchObject({ poolName: 'mpool', state: 'in-sync', dirtyRegions: 0, syncPercent: 100 });
    const sums = await checksums(gw, 'v1');
    expect(sums.mirror).toBe(sums.primary);
    // The member is hidden: not listed, not addressable, not assignable.
    const list = (await json(gw, 'volumes?role=all')).body as Array<{ name: string }>;
    expect(list.map((x) => x.name)).toEqual(['v1']);
    expect((await json(gw, `volumes/${encodeURIComponent('v1~mirror')}`)).status).toBe(404);
    expect((await json(gw, 'volumes/v1', { method: 'DELETE' })).status).toBe(409);
  });

  it('mirror failure → degraded writes keep succeeding → device back → automatic resync job → both sides byte-identical', async () => {
    faulty.failReads().failWrites();
    await writeRandom(gw, 'v1', 2, 40);
    const degraded = (await json(gw, 'volumes/v1')).body.mirror;
    expect(degraded.state).toBe('degraded');
    expect(degraded.reason).toMatch(/mirror write failed/);
    expect(degraded.dirtyRegions).toBeGreaterThan(0);
    expect(degraded.dirtyBytes).toBe(degraded.dirtyRegions * MiB);
    const stale = await checksums(gw, 'v1').catch(() => null);
    expect(stale).toBeNull(); // the mirror cannot even be read now

    faulty.heal();
    const v = await until('the automatic resync', async () => {
      const body = (await json(gw, 'volumes/v1')).body;
      return body.mirror.state === 'in-sync' ? body : undefined;
    });
    expect(v.mirror.dirtyRegions).toBe(0);
    const jobs = (await json(gw, `jobs?target=${v.id}`)).body as Array<{ state: string; createdBy: string; bytesDone: number }>;
    expect(jobs[0]).toMatchObject({ state: 'succeeded', createdBy: 'system' });
    // Only the dirty regions were copied, not the whole volume again.
    expect(jobs[0].bytesDone).toBe(degraded.dirtyRegions * MiB);
    const sums = await checksums(gw, 'v1');
    expect(sums.mirror).toBe(sums.primary);
  });

  it('a cancelled resync leaves the mirror degraded, is not restarted by the monitor, and resumes to the end', async () => {
    faulty.failReads().failWrites();
    await writeRandom(gw, 'v1', 3, 40);
    const dirty = (await json(gw, 'volumes/v1')).body.mirror.dirtyRegions as number;
    expect(dirty).toBeGreaterThan(2);
    faulty.heal();
    // Slow enough to be cancelled part way: four regions per second.
    const started = await json(gw, 'volumes/v1/mirror/resync', { method: 'POST', json: { rateLimit: 4 * MiB } });
    if (started.status === 409) {
      // The monitor got there first: cancel that one instead.
      expect(started.body.code).toBe('JOB_ACTIVE');
    }
    const id = started.status === 200 ? started.body.job.id : started.body.details.job;
    const cancelled = await json(gw, `jobs/${id}/cancel`, { method: 'POST' });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.state).toBe('cancelled');
    expect((await json(gw, 'volumes/v1')).body.mirror.state).toBe('degraded');
    await new Promise((r) => setTimeout(r, 300)); // several monitor rounds
    expect((await json(gw, 'jobs?state=running')).body).toEqual([]);
    expect((await json(gw, `jobs/${id}/cancel`, { method: 'POST' })).status).toBe(409);

    const resumed = await json(gw, `jobs/${id}/resume`, { method: 'POST' });
    expect(resumed.status).toBe(200);
    const done = await finished(gw, id);
    expect(done.state).toBe('succeeded');
    expect((await json(gw, 'volumes/v1')).body.mirror.state).toBe('in-sync');
    const sums = await checksums(gw, 'v1');
    expect(sums.mirror).toBe(sums.primary);
    const audit = (await json(gw, 'audit?action=job.cancel')).body;
    expect(JSON.stringify(audit)).toContain(id);
  });

  it('swaps roles: the mirror becomes the primary, data and name unchanged; then the mirror is removed', async () => {
    const before = await checksums(gw, 'v1');
    const swapped = await json(gw, 'volumes/v1/mirror/swap', { method: 'POST' });
    expect(swapped.status).toBe(200);
    expect(swapped.body).toMatchObject({ name: 'v1', poolName: 'mpool', mirror: { poolName: 'default', state: 'in-sync' } });
    const after = await checksums(gw, 'v1');
    expect(after).toEqual(before);
    // Writes after the swap reach both sides, reads come from the new primary.
    await writeRandom(gw, 'v1', 4, 10);
    const again = await checksums(gw, 'v1');
    expect(again.mirror).toBe(again.primary);
    expect(gw.app.get(StorageRuntime).checkConsistency().ok).toBe(true);

    const removed = await json(gw, 'volumes/v1/mirror', { method: 'DELETE' });
    expect(removed.status).toBe(200);
    expect(removed.body).toMatchObject({ name: 'v1', poolName: 'mpool', mirror: null });
    const pools = (await json(gw, 'pools')).body as Array<{ name: string; usedBytes: number }>;
    expect(pools.find((p) => p.name === 'default')!.usedBytes).toBe(0);
    expect(gw.app.get(StorageRuntime).checkConsistency().ok).toBe(true);
    expect((await json(gw, 'volumes/v1/mirror')).status).toBe(409);
  });
});

describe.skipIf(nbdTools.length > 0)('a mirrored volume through the NBD export (a real client, unaware of the mirror)', () => {
  let gw: TestGateway;
  let faulty: FaultyDevice;
  let base = '';

  beforeAll(async () => {
    gw = await startTestGateway({ STRATA_MIRROR_PROBE_MS: '50' });
    faulty = (await faultyPool(gw, 'mpool'))!;
    expect((await json(gw, 'volumes', { method: 'POST', json: { name: 'nv', pool: 'default', size: '16M', nbdExport: true } })).status).toBe(201);
    base = `nbd://127.0.0.1:${gw.app.get(NbdExportService).boundAddress()!.port}`;
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('NBD writes reach both sides in sync, keep succeeding degraded, and the resync makes both equal to what was written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-mirror-nbd-'));
    try {
      const added = await json(gw, 'volumes/nv/mirror', { method: 'POST', json: { pool: 'mpool' } });
      expect((await finished(gw, added.body.job.id)).state).toBe('succeeded');
      const { stdout } = await run(
        'fio',
        ['--name=m', '--ioengine=nbd', `--uri=${base}/nv`, '--rw=randwrite', '--bs=4k', '--iodepth=16', '--size=16M', '--verify=crc32c', '--do_verify=1', '--verify_state_save=0', '--output-format=json'],
        { maxBuffer: 16 * MiB },
      );
      expect(JSON.parse(stdout.slice(stdout.indexOf('{'))).jobs[0].error).toBe(0);
      let sums = await checksums(gw, 'nv');
      expect(sums.mirror).toBe(sums.primary);

      faulty.failReads().failWrites();
      const data = new Prng(21).bytes(16 * MiB);
      writeFileSync(join(dir, 'in.img'), data);
      await run('nbdcopy', [join(dir, 'in.img'), `${base}/nv`]);
      expect((await json(gw, 'volumes/nv')).body.mirror.state).toBe('degraded');
      faulty.heal();
      await until('the automatic resync', async () => (await json(gw, 'volumes/nv')).body.mirror.state === 'in-sync');
      sums = await checksums(gw, 'nv');
      expect(sums.mirror).toBe(sums.primary);
      expect(sums.primary).toBe(createHash('sha256').update(data).digest('hex'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the primary's storage fails", () => {
  let gw: TestGateway;
  afterAll(async () => {
    await gw?.close();
  });

  it('degrades; a forced swap keeps the volume serving from the mirror; the resync back restores both sides', async () => {
    gw = await startTestGateway({ STRATA_MIRROR_PROBE_MS: '50' });
    const faulty = (await faultyPool(gw, 'fp'))!;
    await json(gw, 'volumes', { method: 'POST', json: { name: 'pv', pool: 'fp', size: '16M' } });
    await writeRandom(gw, 'pv', 30, 30);
    const added = await json(gw, 'volumes/pv/mirror', { method: 'POST', json: { pool: 'default' } });
    expect((await finished(gw, added.body.job.id)).state).toBe('succeeded');
    const id = (await json(gw, 'volumes/pv')).body.id as string;
    const face = gw.app.get(StorageRuntime).disk(id)!;
    const before = createHash('sha256').update(await face.read(0, face.size)).digest('hex');

    faulty.failReads().failWrites();
    await expect(face.write(MiB, Buffer.alloc(4096, 7))).rejects.toMatchObject({ code: 'DEVICE_IO_ERROR' });
    const degraded = (await json(gw, 'volumes/pv')).body.mirror;
    expect(degraded).toMatchObject({ state: 'degraded', dirtyRegions: 1 });
    expect(degraded.reason).toMatch(/^primary write failed/);
    const refused = await json(gw, 'volumes/pv/mirror/swap', { method: 'POST' });
    expect(refused).toMatchObject({ status: 409, body: { code: 'MIRROR_NOT_IN_SYNC' } });

    const swapped = await json(gw, 'volumes/pv/mirror/swap?force=true', { method: 'POST' });
    expect(swapped.status).toBe(200);
    expect(swapped.body).toMatchObject({ poolName: 'default', mirror: { poolName: 'fp', state: 'degraded' } });
    // Served from the mirror now: everything but the region of the failed (unacknowledged) write is as before.
    const now = await face.read(0, face.size);
    const expected = Buffer.from(now);
    expect(now.subarray(MiB, MiB + 4096).equals(Buffer.alloc(4096, 7))).toBe(true);
    await face.write(2 * MiB, Buffer.alloc(8192, 9));
    expect((await face.read(2 * MiB, 8192)).equals(Buffer.alloc(8192, 9))).toBe(true);
    expected.fill(9, 2 * MiB, 2 * MiB + 8192);
    expect(before).not.toBe(createHash('sha256').update(expected).digest('hex'));

    faulty.heal();
    await until('the resync back to the old primary', async () => (await json(gw, 'volumes/pv')).body.mirror.state === 'in-sync');
    const sums = await checksums(gw, 'pv');
    expect(sums.mirror).toBe(sums.primary);
    expect(sums.primary).toBe(createHash('sha256').update(expected).digest('hex'));
    expect(gw.app.get(StorageRuntime).checkConsistency().ok).toBe(true);
    const audit = (await json(gw, 'audit?action=mirror.swap')).body as Array<{ outcome: string; detail: { force: boolean } }>;
    expect(audit.map((a) => [a.outcome, a.detail.force])).toEqual([
      ['success', true],
      ['failure', false],
    ]);
  });
});

describe('mirrors and jobs across gateway restarts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-mirror-'));
  let gw: TestGateway | undefined;
  // No monitor: resyncs start only when the test says so.
  const env = { STRATA_MIRROR_PROBE_MS: '0' };

  afterAll(async () => {
    await gw?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a restart while degraded keeps the dirty set; a resync interrupted by a restart resumes from its checkpoint and finishes', async () => {
    gw = await startTestGateway(env, dir);
    const faulty = (await faultyPool(gw, 'mpool'))!;
    await json(gw, 'volumes', { method: 'POST', json: { name: 'v2', pool: 'default', size: '32M' } });
    await writeRandom(gw, 'v2', 10, 40);
    const added = await json(gw, 'volumes/v2/mirror', { method: 'POST', json: { pool: 'mpool' } });
    expect((await finished(gw, added.body.job.id)).state).toBe('succeeded');

    faulty.failWrites();
    await writeRandom(gw, 'v2', 11, 120);
    const before = (await json(gw, 'volumes/v2')).body.mirror;
    expect(before.state).toBe('degraded');
    expect(before.dirtyRegions).toBeGreaterThan(8);
    await gw.close();

    // Restart: the device is healthy again (no fault wrapper), the dirty set is as it was.
    gw = await startTestGateway(env, dir);
    const reopened = (await json(gw, 'volumes/v2')).body.mirror;
    expect(reopened).toMatchObject({ state: 'degraded', dirtyRegions: before.dirtyRegions });

    // A slow resync (4 regions per second), stopped by a restart part way.
    const started = await json(gw, 'volumes/v2/mirror/resync', { method: 'POST', json: { rateLimit: 4 * MiB } });
    expect(started.status).toBe(200);
    const id = started.body.job.id as string;
    await until('some progress', async () => (await job(gw!, id)).bytesDone >= 4 * MiB);
    await gw.close();

    gw = await startTestGateway(env, dir);
    const paused = (await json(gw, 'volumes/v2')).body.mirror;
    // Some regions were copied before the restart and are no longer dirty.
    expect(paused.dirtyRegions).toBeLessThan(before.dirtyRegions);
    const resumed = await job(gw, id);
    expect(resumed.checkpoint.next).toBeGreaterThan(0);
    expect(resumed.bytesDone).toBeGreaterThanOrEqual(4 * MiB);
    const done = await finished(gw, id);
    expect(done).toMatchObject({ state: 'succeeded', percent: 100 });
    // Each dirty region was copied once in all: the run after the restart did not start over.
    expect(done.bytesDone).toBe(before.dirtyRegions * MiB);
    expect((await json(gw, 'volumes/v2')).body.mirror).toMatchObject({ state: 'in-sync', dirtyRegions: 0 });
    const sums = await checksums(gw, 'v2');
    expect(sums.mirror).toBe(sums.primary);
  });
});

describe('JobsAndMirrors migration', () => {
  it('adds jobs, mirrors, mirror_dirty and volumes.mirror_of with their checks; down removes them', async () => {
    const { openCatalog, sqliteHandle } = await import('../../src/storage/catalog');
    const dir = mkdtempSync(join(tmpdir(), 'strata-mig-'));
    const ds = await openCatalog(join(dir, 'catalog.sqlite'));
    const db = sqliteHandle(ds);
    const tables = () => (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('jobs', 'mirrors', 'mirror_dirty') ORDER BY name`).all() as Array<{ name: string }>).map((t) => t.name);
    const columns = () => (db.prepare(`PRAGMA table_info(volumes)`).all() as Array<{ name: string }>).map((c) => c.name);
    try {
      expect(tables()).toEqual(['jobs', 'mirror_dirty', 'mirrors']);
      expect(columns()).toContain('mirror_of');
      const at = new Date().toISOString();
      db.prepare(`INSERT INTO pools (id, name, layout, page_size, stripe_unit, created_at) VALUES ('p', 'p', 'concat', 1048576, 65536, ?)`).run(at);
      db.prepare(`INSERT INTO volumes (id, name, pool_id, size, provisioning, serial, state, created_at) VALUES ('v', 'v', 'p', 1048576, 'thin', 'x', 'online', ?)`).run(at);
      db.prepare(`INSERT INTO volumes (id, name, pool_id, size, provisioning, serial, state, created_at, mirror_of) VALUES ('m', 'v~mirror', 'p', 1048576, 'thin', 'y', 'online', ?, 'v')`).run(at);
      db.prepare(`INSERT INTO mirrors (volume_id, member_id, state, reason, region_size, created_at, updated_at) VALUES ('v', 'm', 'degraded', 'x', 1048576, ?, ?)`).run(at, at);
      db.prepare(`INSERT INTO mirror_dirty (volume_id, region) VALUES ('v', 3)`).run();
      expect(() => db.prepare(`INSERT INTO mirror_dirty (volume_id, region) VALUES ('v', 3)`).run()).toThrow(/UNIQUE|PRIMARY/);
      // The write-intent log (MirrorIntent migration) belongs to a mirror and goes with it.
      expect(() => db.prepare(`INSERT INTO mirror_intent (volume_id, region) VALUES ('m', 1)`).run()).toThrow(/FOREIGN KEY/);
      expect(() => db.prepare(`INSERT INTO mirror_intent (volume_id, region) VALUES ('v', -1)`).run()).toThrow(/CHECK/);
      db.prepare(`INSERT INTO mirror_intent (volume_id, region) VALUES ('v', 1), ('v', 2)`).run();
      db.prepare(`DELETE FROM mirror_dirty`).run();
      db.prepare(`DELETE FROM mirrors`).run();
      expect(db.prepare(`SELECT COUNT(*) AS n FROM mirror_intent`).get()).toEqual({ n: 0 });
      db.prepare(`INSERT INTO mirrors (volume_id, member_id, state, reason, region_size, created_at, updated_at) VALUES ('v', 'm', 'degraded', 'x', 1048576, ?, ?)`).run(at, at);
      expect(() => db.prepare(`UPDATE mirrors SET state = 'broken'`).run()).toThrow(/CHECK/);
      expect(() =>
        db.prepare(`INSERT INTO jobs (id, kind, target_type, target_id, target_name, state, params, created_by, created_at, updated_at) VALUES ('j', 'k', 'volume', 'v', 'v', 'done', '{}', 'a', ?, ?)`).run(at, at),
      ).toThrow(/CHECK/);
      // Newer migrations come off first, then this one.
      const last = () => (db.prepare(`SELECT name FROM migrations ORDER BY id DESC LIMIT 1`).get() as { name: string }).name;
      while (last() !== 'JobsAndMirrors1795480000000') await ds.undoLastMigration({ transaction: 'each' });
      await ds.undoLastMigration({ transaction: 'each' });
      expect(tables()).toEqual([]);
      expect(columns()).not.toContain('mirror_of');
      expect((db.prepare(`SELECT name FROM volumes ORDER BY name`).all() as Array<{ name: string }>).map((v) => v.name)).toEqual(['v', 'v~mirror']);
    } finally {
      await ds.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
