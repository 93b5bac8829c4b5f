import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../utils/gateway';

function hostKey(): string {
  const raw = Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  const type = Buffer.from('ssh-ed25519');
  const blob = Buffer.concat([Buffer.alloc(4), type, Buffer.alloc(4), raw]);
  blob.writeUInt32BE(type.length, 0);
  blob.writeUInt32BE(raw.length, 4 + type.length);
  return `ssh-ed25519 ${blob.toString('base64')} test@host`;
}

const MiB = 2 ** 20;

describe('REST API', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => {
    await gw?.close();
  });

  async function json(path: string, init?: Parameters<TestGateway['api']>[1]) {
    const res = await gw.api(path, init);
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  describe('first start', () => {
    it('creates the catalog and a sparse default device and pool under the data directory', async () => {
      expect(existsSync(join(gw.dataDir, 'catalog.sqlite'))).toBe(true);
      const img = join(gw.dataDir, 'devices', 'default.img');
      expect(statSync(img).size).toBe(64 * MiB);
      expect(statSync(img).blocks * 512).toBeLessThan(MiB);
      const pools = await json('pools');
      expect(pools.body).toHaveLength(1);
      expect(pools.body[0]).toMatchObject({ name: 'default', layout: 'concat', pageSize: MiB, capacity: 64 * MiB, state: 'online' });
    });

    it('answers health and readiness without a token', async () => {
      expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${gw.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ ready: true, reasons: [] });
    });

    it('serves the OpenAPI document', async () => {
      const res = await fetch(`${gw.url}/api/docs-json`);
      expect(res.status).toBe(200);
      const doc = (await res.json()) as { paths: Record<string, unknown> };
      expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/volumes', '/api/v1/volumes/{key}/image', '/api/v1/audit']));
    });
  });

  describe('authentication', () => {
    it('refuses every call without a valid token, with a JSON error', async () => {
      const attempts: Array<Record<string, string>> = [{}, { authorization: 'Bearer nope' }, { authorization: 'Basic x' }];
      for (const headers of attempts) {
        const res = await fetch(`${gw.url}/api/v1/volumes`, { headers });
        expect(res.status).toBe(401);
        expect(await res.json()).toMatchObject({ statusCode: 401, code: 'UNAUTHENTICATED' });
      }
    });

    it('rejects a wrong password and audits the attempt', async () => {
      const res = await fetch(`${gw.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: 'wrong-password' }),
      });
      expect(res.status).toBe(401);
      expect((await res.json()).message).toBe('wrong username or password');
      const audit = await json('audit?action=auth.login&outcome=failure');
      expect(audit.body[0]).toMatchObject({ actor: 'admin', outcome: 'failure', errorCode: 'UNAUTHENTICATED' });
      expect(audit.body[0].source).toMatch(/^rest:/);
    });

    it('logout revokes the token', async () => {
      const login = await fetch(`${gw.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
      });
      const { token } = await login.json();
      const headers = { authorization: `Bearer ${token}` };
      expect((await fetch(`${gw.url}/api/v1/auth/me`, { headers })).status).toBe(200);
      expect((await fetch(`${gw.url}/api/v1/auth/logout`, { method: 'POST', headers })).status).toBe(204);
      expect((await fetch(`${gw.url}/api/v1/auth/me`, { headers })).status).toBe(401);
    });
  });

  describe('allocation', () => {
    it('devices, pools, volumes, hosts and assignments: create, show, update, delete', async () => {
      const d1 = await json('devices', { method: 'POST', json: { name: 'r1', kind: 'ram', size: '32M' } });
      expect(d1.status).toBe(201);
      expect(d1.body).toMatchObject({ name: 'r1', kind: 'ram', size: 32 * MiB, freeBytes: 32 * MiB, state: 'online' });
      await json('devices', { method: 'POST', json: { name: 'r2', kind: 'ram', size: 32 * MiB } });

      const pool = await json('pools', { method: 'POST', json: { name: 'mirror', layout: 'raid1', pageSize: '256K', members: [{ device: 'r1' }, { device: 'r2' }] } });
      expect(pool.status).toBe(201);
      expect(pool.body).toMatchObject({ name: 'mirror', layout: 'raid1', pageSize: 256 * 1024, capacity: 32 * MiB, usedBytes: 0, state: 'online' });
      expect(pool.body.members).toHaveLength(2);
      expect((await json('devices/r1')).body.freeBytes).toBe(0);

      const thin = await json('volumes', { method: 'POST', json: { name: 'thin1', pool: 'mirror', size: '100M' } });
      expect(thin.status).toBe(201);
      expect(thin.body).toMatchObject({ size: 100 * MiB, provisioning: 'thin', allocatedBytes: 0 });
      const thick = await json('volumes', { method: 'POST', json: { name: 'thick1', pool: 'mirror', size: '8M', provisioning: 'thick' } });
      expect(thick.body).toMatchObject({ allocatedBytes: 8 * MiB });
      expect((await json('pools/mirror')).body).toMatchObject({ usedBytes: 8 * MiB, provisionedBytes: 108 * MiB, volumeCount: 2 });

      const grown = await json('volumes/thick1', { method: 'PATCH', json: { size: '12M' } });
      expect(grown.body).toMatchObject({ size: 12 * MiB, allocatedBytes: 12 * MiB });
      const shrink = await json('volumes/thick1', { method: 'PATCH', json: { size: '4M' } });
      expect(shrink).toMatchObject({ status: 400, body: { code: 'INVALID_ARGUMENT' } });

      const host = await json('hosts', { method: 'POST', json: { name: 'h1', publicKey: hostKey() } });
      expect(host.status).toBe(201);
      expect(host.body.keyFingerprint).toMatch(/^SHA256:/);
      const host2 = await json('hosts', { method: 'POST', json: { name: 'h2', publicKey: hostKey() } });
      expect(host2.status).toBe(201);

      const a1 = await json('assignments', { method: 'POST', json: { host: 'h1', volume: 'thick1' } });
      expect(a1.body).toMatchObject({ hostName: 'h1', volumeName: 'thick1', access: 'rw', sharing: 'exclusive' });
      const again = await json('assignments', { method: 'POST', json: { host: 'h2', volume: 'thick1', sharing: 'shared' } });
      expect(again).toMatchObject({ status: 409, body: { code: 'VOLUME_EXCLUSIVE' } });
      expect(again.body.message).toContain("'h1'");
      const s1 = await json('assignments', { method: 'POST', json: { host: 'h1', volume: 'thin1', sharing: 'shared', access: 'ro' } });
      const s2 = await json('assignments', { method: 'POST', json: { host: 'h2', volume: 'thin1', sharing: 'shared' } });
      expect([s1.status, s2.status]).toEqual([201, 201]);
      expect((await json('assignments?volume=thin1')).body).toHaveLength(2);
      expect((await json(`assignments/${s2.body.id}`, { method: 'PATCH', json: { sharing: 'exclusive' } })).body.code).toBe('VOLUME_EXCLUSIVE');

      const inUse = await json('volumes/thick1', { method: 'DELETE' });
      expect(inUse).toMatchObject({ status: 409, body: { code: 'VOLUME_IN_USE' } });
      expect(inUse.body.message).toContain('h1');
      expect((await json('hosts/h2', { method: 'DELETE' })).body.code).toBe('HOST_IN_USE');
      expect((await json('pools/mirror', { method: 'DELETE' })).body.code).toBe('POOL_IN_USE');
      expect((await json('devices/r1', { method: 'DELETE' })).body.code).toBe('DEVICE_IN_USE');

      expect((await json(`assignments/${a1.body.id}`, { method: 'DELETE' })).status).toBe(204);
      expect((await json('volumes/thick1', { method: 'DELETE' })).status).toBe(204);
      expect((await json('volumes/thin1?force=true', { method: 'DELETE' })).status).toBe(204);
      expect((await json('assignments?host=h2')).body).toHaveLength(0);
      expect((await json('pools/mirror')).body).toMatchObject({ usedBytes: 0, volumeCount: 0 });
      expect((await json('pools/mirror/check')).body).toMatchObject({ ok: true, leaked: [], doubleAllocated: [] });
      for (const p of ['hosts/h1', 'hosts/h2', 'pools/mirror', 'devices/r1', 'devices/r2']) {
        expect((await json(p, { method: 'DELETE' })).status).toBe(204);
      }
    });

    it('gives precise allocation errors', async () => {
      const tooBig = await json('volumes', { method: 'POST', json: { name: 'huge', pool: 'default', size: '1G', provisioning: 'thick' } });
      expect(tooBig.status).toBe(409);
      expect(tooBig.body).toMatchObject({ code: 'NO_SPACE', details: { freeBytes: 64 * MiB, askedBytes: 2 ** 30 } });
      expect(tooBig.body.message).toMatch(/pool 'default'/);
      await json('volumes', { method: 'POST', json: { name: 'v1', pool: 'default', size: '1M' } });
      expect((await json('volumes', { method: 'POST', json: { name: 'v1', pool: 'default', size: '1M' } })).body.code).toBe('NAME_TAKEN');
      expect((await json('volumes', { method: 'POST', json: { name: 'v2', pool: 'nope', size: '1M' } })).body.code).toBe('POOL_NOT_FOUND');
      expect((await json('volumes', { method: 'POST', json: { name: 'v3', pool: 'default', size: 1000 } })).body.message).toMatch(/multiple of 4 KiB/);
      expect((await json('volumes/nope')).status).toBe(404);
      const key = hostKey();
      await json('hosts', { method: 'POST', json: { name: 'k1', publicKey: key } });
      expect((await json('hosts', { method: 'POST', json: { name: 'k2', publicKey: key } })).body.code).toBe('KEY_TAKEN');
      expect((await json('pools', { method: 'POST', json: { name: 'p', layout: 'raid1', members: [{ device: 'default' }] } })).body.code).toBe('INVALID_ARGUMENT');
      expect((await json('devices', { method: 'POST', json: { name: 'f', kind: 'file', path: join(gw.dataDir, 'devices', 'default.img') } })).body.code).toBe(
        'DEVICE_PATH_TAKEN',
      );
      await json('volumes/v1', { method: 'DELETE' });
      await json('hosts/k1', { method: 'DELETE' });
    });
  });

  describe('raw images', () => {
    it('uploads and downloads a volume image, streamed, and keeps zero ranges thin', async () => {
      await json('volumes', { method: 'POST', json: { name: 'img', pool: 'default', size: '24M' } });
      const data = Buffer.concat([randomBytes(5 * MiB + 123), Buffer.alloc(12 * MiB), randomBytes(3 * MiB)]);
      const put = await gw.api('volumes/img/image', { method: 'PUT', body: data, headers: { 'content-type': 'application/octet-stream' } });
      expect(put.status).toBe(200);
      expect(await put.json()).toMatchObject({ volume: 'img', offset: 0, length: data.length });
      const vol = (await json('volumes/img')).body;
      // 5 MiB + 123 bytes of data touch 6 pages, 3 MiB more touch 3 or 4: the 12 MiB of zeros allocate nothing.
      expect(vol.allocatedBytes).toBeLessThanOrEqual(10 * MiB);
      const get = await gw.api('volumes/img/image');
      expect(get.headers.get('content-length')).toBe(String(24 * MiB));
      const back = Buffer.from(await get.arrayBuffer());
      expect(createHash('sha256').update(back.subarray(0, data.length)).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
      expect(back.subarray(data.length).equals(Buffer.alloc(24 * MiB - data.length))).toBe(true);

      const part = await gw.api(`volumes/img/image?offset=${MiB}&length=4096`);
      expect(Buffer.from(await part.arrayBuffer()).equals(data.subarray(MiB, MiB + 4096))).toBe(true);
      const over = await gw.api('volumes/img/image?offset=1', { method: 'PUT', body: Buffer.alloc(24 * MiB) });
      expect(over.status).toBe(400);
      expect((await over.json()).code).toBe('OUT_OF_RANGE');
      await json('volumes/img', { method: 'DELETE' });
    });
  });

  describe('malformed input never yields a 500', () => {
    const bodies: unknown[] = [
      null,
      [],
      'text',
      42,
      {},
      { name: '' },
      { name: 'x'.repeat(500) },
      { name: '../../etc' },
      { name: { $gt: '' } },
      { name: 'ok', size: -1 },
      { name: 'ok', size: 1e300 },
      { name: 'ok', size: '12Q' },
      { name: 'ok', size: [] },
      { name: 'ok', kind: 'tape' },
      { name: 'ok', kind: 'ram', size: '1M', extra: 1 },
      { name: 'ok', layout: 'raid5', members: [] },
      { name: 'ok', layout: 'concat', members: [null] },
      { name: 'ok', layout: 'concat', members: [{ device: 'default', offset: -4096 }] },
      { name: 'ok', layout: 'concat', members: 'default' },
      { name: 'ok', pool: 'default', size: '1M', provisioning: 'fat' },
      { name: 'ok', publicKey: 'AAAA' },
      { host: 'x', volume: 'y', access: 'rx' },
      { username: ['admin'], password: { a: 1 } },
    ];
    const routes: Array<[string, string]> = [
      ['POST', 'devices'],
      ['POST', 'pools'],
      ['POST', 'volumes'],
      ['POST', 'hosts'],
      ['POST', 'assignments'],
      ['POST', 'users'],
      ['POST', 'auth/login'],
      ['PATCH', 'devices/default'],
      ['PATCH', 'pools/default'],
      ['PATCH', 'volumes/nope'],
      ['PATCH', 'hosts/nope'],
      ['PATCH', 'assignments/nope'],
    ];

    it('answers every malformed body on every route with a 4xx JSON error', async () => {
      for (const [method, path] of routes) {
        for (const body of bodies) {
          // An empty PATCH is a valid no-op.
          if (method === 'PATCH' && JSON.stringify(body) === '{}') continue;
          const res = await gw.api(path, { method, json: body });
          const text = await res.text();
          expect(res.status, `${method} ${path} ${JSON.stringify(body)} -> ${text}`).toBeGreaterThanOrEqual(400);
          expect(res.status, `${method} ${path} ${JSON.stringify(body)} -> ${text}`).toBeLessThan(500);
          expect(JSON.parse(text).code).toMatch(/^[A-Z_]+$/);
        }
        const raw = await gw.api(path, { method, body: '{"name": ', headers: { 'content-type': 'application/json' } });
        expect(raw.status).toBe(400);
        expect((await raw.json()).message).toMatch(/not valid JSON/);
      }
    });

    it('answers bad query parameters and unknown routes with 4xx', async () => {
      for (const q of ['volumes/default/image?offset=-1', 'volumes/default/image?length=abc', 'audit?limit=x', 'audit?since=yesterday', 'audit?outcome=maybe', 'volumes/x?force=perhaps', 'nothing-here']) {
        const res = await gw.api(q);
        expect(res.status, q).toBeGreaterThanOrEqual(400);
        expect(res.status, q).toBeLessThan(500);
      }
      expect((await gw.api('devices/default?purge=perhaps', { method: 'DELETE' })).status).toBe(400);
    });

    it('survives random JSON (seeded) on every route', async () => {
      let seed = 1234567;
      const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
      const values = (): unknown => {
        const r = rand();
        if (r < 0.15) return Math.floor(rand() * 2 ** 40) - 2 ** 39;
        if (r < 0.3) return ['', 'default', '10G', 'raid1', 'ram', '-', 'null', '\u0000', 'ssh-ed25519 AAAA'][Math.floor(rand() * 9)];
        if (r < 0.4) return null;
        if (r < 0.5) return rand() < 0.5;
        if (r < 0.6) return [values()];
        if (r < 0.7) return { device: values(), offset: values() };
        return rand() * 1e6;
      };
      const keys = ['name', 'kind', 'size', 'path', 'layout', 'members', 'pageSize', 'pool', 'provisioning', 'publicKey', 'host', 'volume', 'access', 'sharing'];
      for (let i = 0; i < 150; i++) {
        const body: Record<string, unknown> = {};
        for (const k of keys) if (rand() < 0.4) body[k] = values();
        const [method, path] = routes[i % 5];
        const res = await gw.api(path, { method, json: body });
        expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).toBeLessThan(500);
        // Whatever got created by chance is removed so later cases see the same state.
        if (res.status === 201) {
          const created = await res.json();
          await gw.api(`${path}/${created.id}?force=true`, { method: 'DELETE' });
        }
      }
    });
  });

  describe('audit log', () => {
    it('records who changed what, and filters by actor, action, object and time', async () => {
      const since = new Date().toISOString();
      await json('volumes', { method: 'POST', json: { name: 'audited', pool: 'default', size: '1M' } });
      await json('volumes', { method: 'POST', json: { name: 'audited', pool: 'default', size: '1M' } });
      await json('volumes/audited', { method: 'DELETE' });
      const all = (await json(`audit?since=${since}`)).body;
      expect(all.map((e: { action: string; outcome: string }) => `${e.action}:${e.outcome}`)).toEqual([
        'volume.delete:success',
        'volume.create:failure',
        'volume.create:success',
      ]);
      expect(all[1]).toMatchObject({ actor: 'admin', errorCode: 'NAME_TAKEN', objectName: 'audited' });
      expect(all[2].objectId).toMatch(/^[0-9a-f-]{36}$/);
      expect((await json(`audit?since=${since}&action=volume.*&outcome=success`)).body).toHaveLength(2);
      expect((await json(`audit?since=${since}&object=audited`)).body).toHaveLength(3);
      expect((await json(`audit?since=${since}&actor=someone-else`)).body).toHaveLength(0);
      expect((await json(`audit?limit=1`)).body).toHaveLength(1);
    });
  });
});
