import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SanClient, SanError } from '../../src/client';
import { JobService } from '../../src/jobs/job.service';
import type { JobInfo } from '../../src/jobs/job-kind';
import { apiJson, startTestGateway, type TestGateway } from '../utils/gateway';
import { pairGateways, REPLICATION_ENV, replicate, runCycle, SOURCE_HOST, volumeHash, writeVolume } from '../utils/replication-fixture';
import { admin, hostKeyPair, sanAddress } from '../utils/san-fixture';

const MiB = 2 ** 20;

/** Two gateways in this process on loopback: A replicates its volumes to B. */
describe('replication between two gateways', () => {
  let a: TestGateway;
  let b: TestGateway;

  beforeAll(async () => {
    [a, b] = await Promise.all([startTestGateway(REPLICATION_ENV), startTestGateway(REPLICATION_ENV)]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('a full copy, then incremental cycles of random rewrites, converge: each cycle snapshot on B equals its source snapshot on A', async () => {
    await admin(a, 'POST', 'volumes', { name: 'db', pool: 'default', size: '16M' });
    await pairGateways(a, b, 'db-r', '16M');
    // Sparse: pages 0-2 and 9 hold data, the rest was never written.
    await writeVolume(a, 'db', 0, randomBytes(3 * MiB));
    await writeVolume(a, 'db', 9 * MiB + 4096, randomBytes(8192));
    await replicate(a, b, 'db', 'db-r');

    const first = await runCycle(a, 'db');
    expect(first.state, first.error ?? '').toBe('succeeded');
    expect(first.bytesDone).toBe(4 * MiB);
    expect(await volumeHash(b, 'db-r@cycle-1')).toBe(await volumeHash(a, 'db@repl-1'));
    expect(await volumeHash(b, 'db-r')).toBe(await volumeHash(a, 'db@repl-1'));

    for (let cycle = 2; cycle <= 4; cycle++) {
      const pages = [1 + (cycle % 3), 6 + cycle, 15];
      for (const p of pages) await writeVolume(a, 'db', p * MiB + 4096 * cycle, randomBytes(4096 * (1 + cycle)));
      // Zeroes too: a page that had data reads as zeros on both sides.
      if (cycle === 3) await writeZeroesOn(a, 'db', 0, MiB);
      const job = await runCycle(a, 'db');
      expect(job.state, job.error ?? '').toBe('succeeded');
      // Only the pages that changed went: an incremental cycle sends far less than the volume.
      expect(job.bytesTotal).toBe(pages.length * MiB);
      expect(await volumeHash(b, `db-r@cycle-${cycle}`)).toBe(await volumeHash(a, `db@repl-${cycle}`));
    }
    // Writes to A after the last cycle are not on B until the next one.
    const snaps = (await apiJson(a, 'volumes/db/snapshots')).body as Array<{ name: string }>;
    expect(snaps.map((s) => s.name)).toEqual(['repl-4']);
    const kept = (await apiJson(b, 'volumes/db-r/snapshots')).body as Array<{ name: string }>;
    expect(kept.map((s) => s.name)).toEqual(['cycle-3', 'cycle-4']);

    const shown = await apiJson(a, 'replications/db');
    expect(shown.body.replication).toMatchObject({ lastCycle: 4, lastError: null, targetVolume: 'db-r', hostName: SOURCE_HOST, activeJobId: null });
    expect(shown.body.replication.bytesSent).toBe(4 * MiB + 3 * 3 * MiB);
    expect(shown.body.replication.lagSeconds).toBeGreaterThanOrEqual(0);
    const replica = await apiJson(b, 'volumes/db-r/replica');
    expect(replica.body.replica).toMatchObject({ hostName: SOURCE_HOST, lastCycle: 4, snapshot: 'db-r@cycle-4' });
  });

  it('protects what replication needs: its snapshots, its volume, and the replica from other writers', async () => {
    const del = await apiJson(a, 'volumes/db/snapshots/repl-4', { method: 'DELETE' });
    expect(del.status, JSON.stringify(del.body)).toBe(409);
    expect(del.body.code).toBe('REPLICATION_SNAPSHOT');
    const reserved = await apiJson(a, 'volumes/db/snapshots', { method: 'POST', json: { name: 'repl-9' } });
    expect(reserved.status).toBe(400);
    // Only repl-<number> is replication's: another snapshot whose name starts so is the user's, kept by cycles.
    await admin(a, 'POST', 'volumes/db/snapshots', { name: 'repl-notes' });
    expect((await runCycle(a, 'db')).state).toBe('succeeded');
    expect(((await apiJson(a, 'volumes/db/snapshots')).body as Array<{ name: string }>).map((x) => x.name)).toEqual(['repl-notes', 'repl-5']);
    expect((await apiJson(a, 'volumes/db/snapshots/repl-notes', { method: 'DELETE' })).status).toBe(204);
    const vol = await apiJson(a, 'volumes/db?recursive=true', { method: 'DELETE' });
    expect(vol.status).toBe(409);
    expect(vol.body.code).toBe('REPLICATED');
    const twice = await apiJson(a, 'replications', { method: 'POST', json: { volume: 'db', target: sanAddress(b), targetVolume: 'x' } });
    expect(twice.body.code).toBe('ALREADY_REPLICATED');

    await admin(b, 'POST', 'hosts', { name: 'reader', publicKey: hostKeyPair().publicPem });
    const rw = await apiJson(b, 'assignments', { method: 'POST', json: { host: 'reader', volume: 'db-r', access: 'rw' } });
    expect(rw.status).toBe(400);
    expect(rw.body.message).toMatch(/replica/);
    const ro = await admin(b, 'POST', 'assignments', { host: 'reader', volume: 'db-r' });
    expect(ro).toMatchObject({ access: 'ro', sharing: 'shared' });

    // On the target, the last consistent point stays (promote needs it); the one before may go.
    const point = await apiJson(b, 'volumes/db-r/snapshots/cycle-5', { method: 'DELETE' });
    expect(point).toMatchObject({ status: 409, body: { code: 'SNAPSHOT_NEEDED' } });
    expect(point.body.message).toMatch(/last consistent point \(cycle 5\)/);
    expect((await apiJson(b, 'volumes/db-r/snapshots/cycle-4', { method: 'DELETE' })).status).toBe(204);
  });

  it('REPLICA_COMMIT on an ordinary volume is refused with NOT_REPLICA, and nothing is snapshotted', async () => {
    const h = hostKeyPair();
    await admin(b, 'POST', 'hosts', { name: 'plain', publicKey: h.publicPem });
    await admin(b, 'POST', 'volumes', { name: 'plainvol', pool: 'default', size: '4M' });
    await admin(b, 'POST', 'assignments', { host: 'plain', volume: 'plainvol' });
    const client = await SanClient.connect({ gateways: [sanAddress(b)], host: 'plain', key: h.privateKey, connectTimeoutMs: 3000 });
    try {
      const v = await client.open('plainvol');
      await v.write(0, randomBytes(4096));
      await v.flush();
      const err = await v.replicaCommit(1).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(SanError);
      expect((err as SanError).code).toBe('NOT_REPLICA');
      expect((err as SanError).message).toMatch(/'plainvol' is not a replica received from host 'plain'/);
      expect((await apiJson(b, 'volumes/plainvol/snapshots')).body).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it('a cycle that cannot log in or find its volume fails with a clear job error', async () => {
    await admin(a, 'POST', 'volumes', { name: 'lonely', pool: 'default', size: '4M' });
    await writeVolume(a, 'lonely', 0, randomBytes(MiB));
    // The target knows no host by this name: the login is refused.
    await replicate(a, b, 'lonely', 'lonely-r', { hostName: 'nobody' });
    const refused = await runCycle(a, 'lonely');
    expect(refused.state).toBe('failed');
    expect(refused.error).toMatch(/cannot reach the replica 'lonely-r' on 127\.0\.0\.1:\d+ as host 'nobody': .*refused the login of host 'nobody'.*not the one registered/);
    expect((await apiJson(a, 'replications/lonely')).body.replication.lastError).toBe(refused.error);
    await admin(a, 'DELETE', 'replications/lonely');

    // A host of that name exists, with another key: refused the same way.
    await admin(b, 'POST', 'hosts', { name: 'impostor', publicKey: hostKeyPair().publicPem });
    await replicate(a, b, 'lonely', 'lonely-r', { hostName: 'impostor' });
    const wrongKey = await runCycle(a, 'lonely');
    expect(wrongKey.state).toBe('failed');
    expect(wrongKey.error).toMatch(/as host 'impostor': .*refused the login of host 'impostor'.*not the one registered/);
    await admin(a, 'DELETE', 'replications/lonely');

    // The right key, but no such volume assigned on the target.
    await pairGateways(a, b, 'lonely-r', '4M');
    await replicate(a, b, 'lonely', 'not-there');
    const unassigned = await runCycle(a, 'lonely');
    expect(unassigned.state).toBe('failed');
    expect(unassigned.error).toMatch(/'not-there' is not assigned to host 'site-a'/);
    await admin(a, 'DELETE', 'replications/lonely');
    // Removing the replication took its snapshots with it.
    expect((await apiJson(a, 'volumes/lonely/snapshots')).body).toEqual([]);
  });

  it('a cancelled cycle resumes from its checkpoint; a replica interrupted mid-cycle promotes to its last committed cycle', async () => {
    await admin(a, 'POST', 'volumes', { name: 'app', pool: 'default', size: '24M' });
    await pairGateways(a, b, 'app-r', '24M');
    await writeVolume(a, 'app', 0, randomBytes(4 * MiB));
    await replicate(a, b, 'app', 'app-r');
    expect((await runCycle(a, 'app')).state).toBe('succeeded');
    const committed = await volumeHash(a, 'app@repl-1');

    // Cycle 2 rewrites 20 MiB at 8 MiB/s: cancelled after it has copied part of it.
    await writeVolume(a, 'app', 0, randomBytes(20 * MiB));
    await setRate(a, 'app', 8 * MiB);
    const started = await admin(a, 'POST', 'replications/app/run');
    const jobs = a.app.get(JobService);
    const id = (started.job as JobInfo).id;
    await waitUntil(async () => (await jobs.get(id)).bytesDone >= 3 * MiB);
    const cancelled = await jobs.cancel({ name: 'test' }, id);
    expect(cancelled.state).toBe('cancelled');
    expect(cancelled.bytesDone).toBeLessThan(20 * MiB);
    expect(cancelled.checkpoint).toMatchObject({ cycle: 2 });
    // The replica now holds part of cycle 2 over cycle 1: not a consistent image, but cycle-1 is kept.
    expect(await volumeHash(b, 'app-r')).not.toBe(committed);

    // Resuming (run again) goes on from the checkpoint and converges.
    await setRate(a, 'app', 0);
    const again = await admin(a, 'POST', 'replications/app/run');
    expect((again.job as JobInfo).id).toBe(id);
    const done = await jobs.wait(id);
    expect(done.state, done.error ?? '').toBe('succeeded');
    expect(done.bytesDone).toBe(20 * MiB);
    expect(await volumeHash(b, 'app-r@cycle-2')).toBe(await volumeHash(a, 'app@repl-2'));

    // Interrupt cycle 3 the same way, then promote the replica on B: it reads back as cycle 2.
    const atCycle2 = await volumeHash(a, 'app@repl-2');
    await writeVolume(a, 'app', 2 * MiB, randomBytes(16 * MiB));
    await setRate(a, 'app', 8 * MiB);
    const third = (await admin(a, 'POST', 'replications/app/run')).job as JobInfo;
    await waitUntil(async () => (await jobs.get(third.id)).bytesDone >= 2 * MiB);
    await jobs.cancel({ name: 'test' }, third.id);
    expect(await volumeHash(b, 'app-r')).not.toBe(atCycle2);
    expect(await volumeHash(b, 'app-r@cycle-2')).toBe(atCycle2);
    const promoted = await admin(b, 'POST', 'volumes/app-r/replica/promote');
    expect(promoted.replica).toBeNull();
    expect(promoted.assignments).toEqual([]);
    expect(await volumeHash(b, 'app-r')).toBe(atCycle2);
    // An ordinary volume now: a cycle of the source can no longer write it.
    await setRate(a, 'app', 0);
    const refused = await runCycle(a, 'app');
    expect(refused.state).toBe('failed');
    expect(refused.error).toMatch(/not assigned|REVOKED|revoked/);
  });

  it('a schedule runs cycles by itself', async () => {
    await admin(a, 'POST', 'volumes', { name: 'logs', pool: 'default', size: '4M' });
    await pairGateways(a, b, 'logs-r', '4M');
    await writeVolume(a, 'logs', 0, randomBytes(MiB));
    await replicate(a, b, 'logs', 'logs-r', { every: '1s' });
    await waitUntil(async () => (await apiJson(a, 'replications/logs')).body.replication.lastCycle >= 2, 20_000);
    const r = (await apiJson(a, 'replications/logs')).body.replication;
    expect(r.everySeconds).toBe(1);
    expect(r.lastError).toBeNull();
    await admin(a, 'DELETE', 'replications/logs');
  });
});

async function writeZeroesOn(gw: TestGateway, name: string, offset: number, length: number): Promise<void> {
  const { VolumeService } = await import('../../src/storage/volume.service');
  const { StorageRuntime } = await import('../../src/storage/runtime');
  const info = await gw.app.get(VolumeService).get(name);
  await gw.app.get(StorageRuntime).disk(info.id)!.writeZeroes(offset, length);
}

async function setRate(gw: TestGateway, volume: string, rate: number): Promise<void> {
  const { ReplicationStore } = await import('../../src/storage/replication-store');
  const store = gw.app.get(ReplicationStore);
  await store.update((await store.get(volume)).id, { rateLimit: rate });
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}
