import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prng } from '../../src/common/prng';
import { StorageRuntime } from '../../src/storage/runtime';
import { startTestGateway, type TestGateway } from '../utils/gateway';
import { checksums, finished, json } from '../utils/mirror-fixture';

const MiB = 2 ** 20;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Snapshots of a mirrored volume: the snapshot shares the primary's pages,
 * writes after it are redirected on the primary and still reach the mirror;
 * what would break either side is refused with a precise status (a rollback
 * while mirrored, a swap while the primary shares pages with snapshots).
 */
describe('snapshots and mirrors together', () => {
  let gw: TestGateway;
  const call = async (method: string, path: string, body?: unknown) => json(gw, path, { method, ...(body === undefined ? {} : { json: body }) });
  const volumeId = async (name: string) => (await call('GET', `volumes/${encodeURIComponent(name)}`)).body.id as string;

  beforeAll(async () => {
    gw = await startTestGateway({ STRATA_DEFAULT_DEVICE_SIZE: '128M' });
    expect((await call('POST', 'devices', { name: 'd2', kind: 'file', path: join(gw.dataDir, 'd2.img'), size: '64M' })).status).toBe(201);
    expect((await call('POST', 'pools', { name: 'p2', layout: 'concat', members: [{ device: 'd2' }] })).status).toBe(201);
    expect((await call('POST', 'volumes', { name: 'db', pool: 'default', size: '16M' })).status).toBe(201);
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('a snapshot of a mirrored volume reads as taken while writes keep both sides equal; rollback and swap are refused while they would break a side', async () => {
    const runtime = gw.app.get(StorageRuntime);
    const face = runtime.disk(await volumeId('db'))!;
    const rng = new Prng(9);
    await face.write(0, rng.bytes(16 * MiB));
    const added = await call('POST', 'volumes/db/mirror', { pool: 'p2' });
    expect(added.status).toBe(201);
    expect((await finished(gw, added.body.job.id)).state).toBe('succeeded');

    const taken = await face.read(0, 16 * MiB);
    expect((await call('POST', 'volumes/db/snapshots', { name: 'before' })).status).toBe(201);
    // Only the first 4 MiB: the other pages stay shared with the snapshot.
    for (let i = 0; i < 40; i++) await face.write(rng.int(0, 1023) * 4096, rng.bytes(4096));
    const snap = runtime.disk(await volumeId('db@before'))!;
    expect(sha(await snap.read(0, 16 * MiB))).toBe(sha(taken));
    const now = await checksums(gw, 'db');
    expect(now.mirror).toBe(now.primary);
    expect(now.primary).not.toBe(sha(taken));

    const rollback = await call('POST', 'volumes/db/rollback', { snapshot: 'before' });
    expect(rollback.status).toBe(409);
    expect(rollback.body.code).toBe('MIRRORED');
    const swap = await call('POST', 'volumes/db/mirror/swap');
    expect(swap.status).toBe(409);
    expect(swap.body.code).toBe('HAS_SNAPSHOTS');
    expect(runtime.checkConsistency().ok).toBe(true);

    // Without the mirror the rollback goes through; without snapshots a swap does.
    const unmirrored = await call('DELETE', 'volumes/db/mirror');
    expect(unmirrored.body).toMatchObject({ mirror: null });
    expect((await call('POST', 'volumes/db/rollback', { snapshot: 'before' })).status).toBe(200);
    expect(sha(await runtime.disk(await volumeId('db'))!.read(0, 16 * MiB))).toBe(sha(taken));
    expect((await call('DELETE', 'volumes/db/snapshots/before')).status).toBeLessThan(300);
    const again = await call('POST', 'volumes/db/mirror', { pool: 'p2' });
    expect((await finished(gw, again.body.job.id)).state).toBe('succeeded');
    const swapped = await call('POST', 'volumes/db/mirror/swap');
    expect(swapped.status).toBe(200);
    expect(swapped.body.poolName).toBe('p2');
    expect(sha(await runtime.disk(await volumeId('db'))!.read(0, 16 * MiB))).toBe(sha(taken));
    expect(runtime.checkConsistency().ok).toBe(true);
  });
});
