import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createmode3, ftype3 } from '../../src/protocols/nfs3';
import { OPEN_RULE } from '../utils/nas-fixture';
import { Nfs3Client } from '../utils/nfs3-client';
import { freePort, login, spawnGateway, type GatewayProcess } from '../utils/process-gateway';
import { parseExposition, sampleValue } from '../utils/prometheus-text';

const PASSWORD = 'share-sync-password';
const FILES = 20;

/**
 * exports(5) sync/async per share: a sync share (the default) commits every
 * namespace change to disk before the reply; an async one commits it before
 * the reply without waiting for the disk and syncs about once a second, so
 * a kill -9 of the gateway loses nothing it acknowledged (only a crash of the
 * host could). Judged by the share's commit and sync counters and by what a
 * restart after kill -9 shows.
 */
describe('sync and async shares', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-share-sync-'));
  let gw: GatewayProcess | undefined;
  const clients: Nfs3Client[] = [];
  afterAll(async () => {
    for (const c of clients) c.rpc.destroy();
    await gw?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  const ports = { nfs: 0, mount: 0 };
  let token = '';
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${gw!.url}/api/v1/${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> };
  };
  const metric = async (name: string, share: string) => {
    const text = await (await fetch(`${gw!.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
    return sampleValue(parseExposition(text), name, { share }) ?? 0;
  };
  const commits = (share: string) => metric('strata_share_metadata_commits_total', share);
  const syncs = (share: string) => metric('strata_share_metadata_syncs_total', share);
  const start = async () => {
    gw = await spawnGateway(dir, { STRATA_ADMIN_PASSWORD: PASSWORD, STRATA_DEFAULT_DEVICE_SIZE: '256M', STRATA_NFS_PORT: String(ports.nfs), STRATA_MOUNT_PORT: String(ports.mount) });
    token = await login(gw.url, PASSWORD);
  };
  const client = async () => {
    const c = await Nfs3Client.connect(ports.nfs);
    clients.push(c);
    return c;
  };

  it('syncs before each reply on a sync share and about once a second on an async one', async () => {
    ports.nfs = await freePort();
    ports.mount = await freePort();
    await start();
    const safe = await api('POST', 'shares', { name: 'safe', pool: 'default', size: '32M', rules: [OPEN_RULE] });
    expect(safe.status).toBe(201);
    expect(safe.body.sync).toBe(true);
    const quick = await api('POST', 'shares', { name: 'quick', pool: 'default', size: '32M', sync: false, rules: [OPEN_RULE] });
    expect(quick.status).toBe(201);
    expect(quick.body.sync).toBe(false);
    expect((await api('PATCH', 'shares/quick', { sync: 'yes' })).body).toMatchObject({ statusCode: 400 });

    const c = await client();
    for (const share of ['safe', 'quick']) {
      const root = await c.mount(`/${share}`);
      const began = performance.now();
      const [commitsBefore, syncsBefore] = [await commits(share), await syncs(share)];
      for (let i = 0; i < FILES; i++) await c.create(root, `f${i}`, { mode: 0o644 }, createmode3.GUARDED);
      // Both commit each create before answering it; a sync share also waits for the disk each time, an async one on its one-second timer.
      expect((await commits(share)) - commitsBefore).toBeGreaterThanOrEqual(FILES);
      const synced = (await syncs(share)) - syncsBefore;
      const seconds = (performance.now() - began) / 1000;
      if (share === 'safe') expect(synced).toBeGreaterThanOrEqual(FILES);
      // The timer fires at most once per second that passed (plus one at the start): not once per create, however slow the host.
      else expect(synced).toBeLessThanOrEqual(Math.ceil(seconds) + 1);
    }

    // Switched to sync, the async share commits before each reply from then on.
    const switched = await api('PATCH', 'shares/quick', { sync: true });
    expect(switched.body.sync).toBe(true);
    const root = await c.mount('/quick');
    const before = await syncs('quick');
    for (let i = 0; i < 5; i++) await c.create(root, `g${i}`, { mode: 0o644 }, createmode3.GUARDED);
    expect((await syncs('quick')) - before).toBeGreaterThanOrEqual(5);
    expect((await api('PATCH', 'shares/quick', { sync: false })).body.sync).toBe(false);
  });

  it('keeps every change an async share acknowledged across kill -9, with no wait for its background sync', async () => {
    const c = await client();
    const root = await c.mount('/quick');
    await c.create(root, 'late', { mode: 0o644 }, createmode3.GUARDED);
    await c.remove(root, 'f0');
    await c.mkdir(root, 'dir');
    await c.ok(14, { from: { dir: root, name: 'f1' }, to: { dir: root, name: 'renamed' } });
    // Killed right after the replies, well inside the second before the background sync.
    expect(await gw!.kill('SIGKILL')).toBeNull();
    await start();
    const after = await client();
    const again = await after.mount('/quick');
    expect((await after.lookup(again, 'late')).attr.size).toBe(0);
    expect((await after.lookup(again, 'dir')).attr.type).toBe(ftype3.NF3DIR);
    expect((await after.lookup(again, 'renamed')).attr.size).toBe(0);
    for (const gone of ['f0', 'f1']) expect(await after.status(3, { what: { dir: again, name: gone } })).toBe('NFS3ERR_NOENT');
    for (let i = 2; i < FILES; i++) await after.lookup(again, `f${i}`);
    expect((await api('GET', 'shares/quick')).body.sync).toBe(false);
  });
});
