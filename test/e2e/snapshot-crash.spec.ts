import Database from 'better-sqlite3';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { login, spawnGateway, type GatewayProcess } from '../utils/process-gateway';

const MiB = 2 ** 20;
const PASSWORD = 'snapshot-crash-password';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * kill -9 of the gateway process while writes redirect shared pages and
 * snapshots and clones come and go: after a restart the first snapshot reads
 * exactly as taken, every acknowledged write and snapshot is there, the
 * allocator and reference counts match the maps, and deleting everything
 * gives back every page.
 */
describe('kill -9 during redirect-on-write, snapshot creation and deletion', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-snapcrash-'));
  let gw: GatewayProcess | undefined;
  afterAll(async () => {
    await gw?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('never frees a referenced page nor loses an acknowledged change', async () => {
    const env = { STRATA_ADMIN_PASSWORD: PASSWORD, STRATA_DEFAULT_DEVICE_SIZE: '256M' };
    gw = await spawnGateway(dir, env);
    let token = await login(gw.url, PASSWORD);
    let url = gw.url;
    const call = (path: string, init: RequestInit & { json?: unknown } = {}) =>
      fetch(`${url}/api/v1/${path}`, {
        ...init,
        headers: { authorization: `Bearer ${token}`, 'content-type': init.json !== undefined ? 'application/json' : 'application/octet-stream' },
        body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
      });
    const freeAtStart = ((await (await call('pools/default')).json()) as { freeBytes: number }).freeBytes;
    expect((await call('volumes', { method: 'POST', json: { name: 'vol', pool: 'default', size: 48 * MiB } })).status).toBe(201);
    const base = randomBytes(48 * MiB);
    expect((await call('volumes/vol/image', { method: 'PUT', body: base })).status).toBe(200);
    expect((await call('volumes/vol/snapshots', { method: 'POST', json: { name: 's0' } })).status).toBe(201);
    const s0 = sha(base);

    // Writers into distinct 300 KiB slots (not page aligned: every first touch merges a shared page), one snapshot churner.
    const CHUNK = 300 * 1024;
    const slots = Array.from({ length: Math.floor((48 * MiB) / CHUNK) }, (_, i) => i).sort(() => Math.random() - 0.5);
    const acked = new Map<number, string>();
    /** 'deleting': the kill may have come before or after the delete committed. */
    const snapshots = new Map<string, 'created' | 'deleting' | 'deleted'>();
    let stop = false;
    const writer = async () => {
      while (!stop && slots.length > 0) {
        const slot = slots.pop()!;
        const data = randomBytes(CHUNK);
        try {
          const res = await call(`volumes/vol/image?offset=${slot * CHUNK}`, { method: 'PUT', body: data });
          if (res.status === 200) acked.set(slot, sha(data));
        } catch {
          return;
        }
      }
    };
    const churner = async () => {
      for (let i = 1; !stop; i++) {
        try {
          if ((await call('volumes/vol/snapshots', { method: 'POST', json: { name: `s${i}` } })).status === 201) snapshots.set(`s${i}`, 'created');
          if (i % 3 === 0 && (await call(`volumes/vol/snapshots/s${i - 1}/clone`, { method: 'POST', json: { name: `c${i}` } })).status !== 201) return;
          if (i % 2 === 0 && snapshots.get(`s${i - 1}`) === 'created') {
            snapshots.set(`s${i - 1}`, 'deleting');
            if ((await call(`volumes/vol/snapshots/s${i - 1}`, { method: 'DELETE' })).status === 204) snapshots.set(`s${i - 1}`, 'deleted');
          }
        } catch {
          return;
        }
      }
    };
    let finished = 0;
    const runs = [writer(), writer(), writer(), churner()].map((p) => p.finally(() => finished++));
    while ((acked.size < 30 || snapshots.size < 4) && finished === 0) await new Promise((r) => setTimeout(r, 5));
    expect(finished).toBe(0);
    stop = true;
    await gw.kill('SIGKILL');
    await Promise.all(runs);

    const db = new Database(join(dir, 'catalog.sqlite'));
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
    db.close();

    gw = await spawnGateway(dir, env);
    url = gw.url;
    token = await login(url, PASSWORD);
    const check = (await (await call('pools/default/check')).json()) as { ok: boolean; leaked: number[]; doubleAllocated: number[] };
    expect(check).toMatchObject({ ok: true, leaked: [], doubleAllocated: [] });
    expect(sha(Buffer.from(await (await call('volumes/vol@s0/image')).arrayBuffer()))).toBe(s0);
    const image = Buffer.from(await (await call('volumes/vol/image')).arrayBuffer());
    const bad = [...acked].filter(([slot, hash]) => sha(image.subarray(slot * CHUNK, (slot + 1) * CHUNK)) !== hash);
    expect(bad.map(([slot]) => slot)).toEqual([]);
    const listed = ((await (await call('volumes/vol/snapshots')).json()) as Array<{ name: string }>).map((s) => s.name);
    for (const [name, state] of snapshots) {
      if (state !== 'deleting') expect({ name, listed: listed.includes(name) }).toEqual({ name, listed: state === 'created' });
    }

    // Everything goes; not one page stays behind.
    const clones = ((await (await call('volumes')).json()) as Array<{ name: string }>).map((v) => v.name).filter((n) => n.startsWith('c'));
    for (const c of clones) expect((await call(`volumes/${c}`, { method: 'DELETE' })).status).toBe(204);
    expect((await call('volumes/vol?recursive=true', { method: 'DELETE' })).status).toBe(204);
    expect(((await (await call('pools/default')).json()) as { freeBytes: number }).freeBytes).toBe(freeAtStart);
  }, 120_000);
});
