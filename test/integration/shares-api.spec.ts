import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../utils/gateway';

const MiB = 2 ** 20;

describe('REST: /shares and /shares/:share/rules', () => {
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

  it('refuses callers without a valid token', async () => {
    for (const [method, path] of [
      ['GET', 'shares'],
      ['POST', 'shares'],
      ['GET', 'shares/x/rules'],
      ['PUT', 'shares/x/rules'],
      ['DELETE', 'shares/x'],
    ]) {
      const res = await fetch(`${gw.url}/api/v1/${path}`, { method, headers: { authorization: 'Bearer nope' } });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect((await res.json()).code).toBe('UNAUTHENTICATED');
    }
  });

  it('creates, lists, shows, grows, renames and deletes a share; the key never leaves', async () => {
    const created = await json('shares', {
      method: 'POST',
      json: { name: 'projects', pool: 'default', size: '8M', rules: [{ clients: ['10.0.0.0/8'], access: 'rw' }] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'projects', path: '/projects', poolName: 'default', size: 8 * MiB, volumeName: 'share:projects', state: 'online' });
    expect(created.body.rules).toEqual([expect.objectContaining({ position: 1, clients: ['10.0.0.0/8'], access: 'rw', requirePrivilegedPort: true })]);
    expect(Object.keys(created.body).sort()).toEqual(
      ['allocatedBytes', 'createdAt', 'exportId', 'id', 'name', 'path', 'poolId', 'poolName', 'replica', 'rules', 'size', 'state', 'sync', 'updatedAt', 'volumeId', 'volumeName'].sort(),
    );

    expect((await json('shares')).body.map((s: { name: string }) => s.name)).toEqual(['projects']);
    expect((await json(`shares/${created.body.id}`)).body).toEqual(created.body);
    expect(await json('shares/nope')).toMatchObject({ status: 404, body: { code: 'SHARE_NOT_FOUND', message: "share 'nope' does not exist" } });

    const grown = await json('shares/projects', { method: 'PATCH', json: { size: '16M' } });
    expect(grown).toMatchObject({ status: 200, body: { size: 16 * MiB } });
    expect(await json('shares/projects', { method: 'PATCH', json: { size: 4 * MiB } })).toMatchObject({ status: 400, body: { code: 'INVALID_ARGUMENT' } });
    const renamed = await json('shares/projects', { method: 'PATCH', json: { name: 'work' } });
    expect(renamed.body).toMatchObject({ name: 'work', path: '/work', exportId: created.body.exportId, volumeName: 'share:work' });

    // The volume exists, listed only when asked for.
    expect((await json('volumes')).body.map((v: { name: string }) => v.name)).not.toContain('share:work');
    expect((await json('volumes?role=share')).body).toEqual([expect.objectContaining({ name: 'share:work', role: 'share', share: { id: created.body.id, name: 'work' } })]);
    expect((await json('volumes?role=bogus')).status).toBe(400);
    expect((await json('pools/default')).body).toMatchObject({ shareCount: 1 });

    expect((await json('shares/work', { method: 'DELETE' })).status).toBe(204);
    expect((await json('shares/work', { method: 'DELETE' })).body.code).toBe('SHARE_NOT_FOUND');
    expect((await json(`volumes/${created.body.volumeId}`)).status).toBe(404);
    expect((await json('shares/x?force=perhaps', { method: 'DELETE' })).status).toBe(400);
  });

  it('guards the backing volume on the volume, image and assignment routes', async () => {
    await json('shares', { method: 'POST', json: { name: 'guarded', pool: 'default', size: '1M' } });
    const attempts: Array<[string, string, unknown?]> = [
      ['PATCH', 'volumes/share:guarded', { nbdExport: true }],
      ['PATCH', 'volumes/share:guarded', { size: '2M' }],
      ['DELETE', 'volumes/share:guarded?force=true'],
      ['POST', 'assignments', { host: 'h', volume: 'share:guarded' }],
    ];
    const hostKey = (await import('node:crypto')).generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x as string;
    const raw = Buffer.from(hostKey, 'base64url');
    const t = Buffer.from('ssh-ed25519');
    const blob = Buffer.concat([Buffer.from([0, 0, 0, t.length]), t, Buffer.from([0, 0, 0, raw.length]), raw]);
    await json('hosts', { method: 'POST', json: { name: 'h', publicKey: `ssh-ed25519 ${blob.toString('base64')}` } });
    for (const [method, path, body] of attempts) {
      const r = await json(path, { method, json: body });
      expect(r, `${method} ${path}`).toMatchObject({ status: 409, body: { code: 'SHARE_VOLUME', details: { volume: 'share:guarded', share: 'guarded' } } });
    }
    const put = await gw.api('volumes/share:guarded/image', { method: 'PUT', body: Buffer.alloc(4096), headers: { 'content-type': 'application/octet-stream' } });
    expect(put.status).toBe(409);
    expect((await put.json()).code).toBe('SHARE_VOLUME');
    // Reading the raw image stays possible (a copy for support), writing never.
    expect((await gw.api('volumes/share:guarded/image?length=4096')).status).toBe(200);
    await json('hosts/h', { method: 'DELETE' });
    await json('shares/guarded', { method: 'DELETE' });
  });

  it('lists, adds, shows, moves, updates, removes and replaces rules', async () => {
    await json('shares', { method: 'POST', json: { name: 'ruled', pool: 'default', size: '1M' } });
    expect(await json('shares/ruled/rules')).toEqual({ status: 200, body: [] });
    const a = await json('shares/ruled/rules', { method: 'POST', json: { clients: ['192.168.1.0/24'], access: 'rw', comment: 'office' } });
    expect(a).toMatchObject({ status: 201, body: { position: 1, clients: ['192.168.1.0/24'], access: 'rw', squash: 'root_squash', comment: 'office' } });
    const b = await json('shares/ruled/rules', { method: 'POST', json: { clients: ['*'], squash: 'all_squash', requirePrivilegedPort: false, position: 1 } });
    expect(b.body).toMatchObject({ position: 1, access: 'ro', squash: 'all_squash', requirePrivilegedPort: false });
    expect((await json('shares/ruled/rules')).body.map((r: { id: string }) => r.id)).toEqual([b.body.id, a.body.id]);
    expect((await json('shares/ruled/rules/2')).body.id).toBe(a.body.id);
    expect((await json(`shares/ruled/rules/${a.body.id}`)).body.position).toBe(2);
    expect(await json('shares/ruled/rules/3')).toMatchObject({ status: 404, body: { code: 'RULE_NOT_FOUND' } });
    expect((await json('shares/nope/rules')).body.code).toBe('SHARE_NOT_FOUND');

    const moved = await json(`shares/ruled/rules/${a.body.id}`, { method: 'PATCH', json: { position: 1, anonUid: 1001, comment: null } });
    expect(moved.body).toMatchObject({ id: a.body.id, position: 1, anonUid: 1001, comment: null, clients: ['192.168.1.0/24'] });
    expect((await json('shares/ruled/rules/2', { method: 'DELETE' })).status).toBe(204);
    expect((await json('shares/ruled')).body.rules.map((r: { id: string }) => r.id)).toEqual([a.body.id]);

    const replaced = await json('shares/ruled/rules', { method: 'PUT', json: { rules: [{ clients: ['2001:db8::/32'] }, { clients: ['10.0.0.1'], access: 'rw', squash: 'no_root_squash' }] } });
    expect(replaced.status).toBe(200);
    expect(replaced.body.map((r: { position: number; clients: string[] }) => [r.position, r.clients])).toEqual([
      [1, ['2001:db8::/32']],
      [2, ['10.0.0.1']],
    ]);
    expect((await json('shares/ruled/rules', { method: 'PUT', json: { rules: [] } })).body).toEqual([]);

    const audit = (await json('audit?object=ruled&action=share.*')).body.map((e: { action: string }) => e.action);
    expect(audit).toEqual(['share.rules.replace', 'share.rules.replace', 'share.rule.remove', 'share.rule.update', 'share.rule.add', 'share.rule.add', 'share.create']);
    await json('shares/ruled', { method: 'DELETE' });
  });

  it('answers bad rules and bad shares with 400 and the field', async () => {
    await json('shares', { method: 'POST', json: { name: 'strict', pool: 'default', size: '1M' } });
    const cidr = await json('shares/strict/rules', { method: 'POST', json: { clients: ['10.0.0.0/8', '192.168.1.1/24'] } });
    expect(cidr).toMatchObject({ status: 400, body: { code: 'INVALID_ARGUMENT', details: { field: 'clients[1]' } } });
    expect(cidr.body.message).toBe("clients[1]: '192.168.1.1/24' has bits set beyond the /24 prefix: the network is 192.168.1.0/24 (or write 192.168.1.1 for that one host)");
    const nested = await json('shares/strict/rules', { method: 'PUT', json: { rules: [{ clients: ['*'] }, { clients: ['::1/200'] }] } });
    expect(nested).toMatchObject({ status: 400, body: { details: { field: 'rules[1].clients[0]' } } });
    const bodies: unknown[] = [
      {},
      { clients: '10.0.0.0/8' },
      { clients: [] },
      { clients: [1] },
      { clients: ['*'], access: 'write' },
      { clients: ['*'], squash: 'some' },
      { clients: ['*'], anonUid: -1 },
      { clients: ['*'], anonUid: 1.5 },
      { clients: ['*'], anonGid: 2 ** 32 },
      { clients: ['*'], requirePrivilegedPort: 'no' },
      { clients: ['*'], comment: 'x'.repeat(201) },
      { clients: ['*'], position: 0 },
      { clients: ['*'], secure: true },
      { clients: ['x'.repeat(65)] },
    ];
    for (const body of bodies) {
      const r = await json('shares/strict/rules', { method: 'POST', json: body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.code).toBe('INVALID_ARGUMENT');
    }
    expect((await json('shares/strict/rules', { method: 'PUT', json: [{ clients: ['*'] }] })).status).toBe(400);
    expect((await json('shares/strict/rules/1', { method: 'PATCH', json: { access: 'ro' } })).body.code).toBe('RULE_NOT_FOUND');
    expect((await json('shares/strict')).body.rules).toEqual([]);

    for (const body of [{ name: 'strict', pool: 'default', size: '1M' }, { name: 'a b', pool: 'default', size: '1M' }, { name: 'ok', pool: 'default', size: '1K' }, { name: 'ok', pool: 'default' }]) {
      const r = await json('shares', { method: 'POST', json: body });
      expect(r.status, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
    }
    await json('shares/strict', { method: 'DELETE' });
  });

  it('never answers malformed input with a 500 (seeded random bodies)', async () => {
    await json('shares', { method: 'POST', json: { name: 'fuzz', pool: 'default', size: '1M' } });
    let seed = 99;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const value = (): unknown => {
      const r = rand();
      if (r < 0.2) return Math.floor(rand() * 2 ** 34) - 2 ** 33;
      if (r < 0.4) return ['', '*', '10.0.0.0/8', '::1', 'rw', 'ro', 'all_squash', '1M', 'default', '\u0000', 'fuzz'][Math.floor(rand() * 11)];
      if (r < 0.5) return null;
      if (r < 0.6) return rand() < 0.5;
      if (r < 0.8) return [value(), value()];
      return { clients: [value()] };
    };
    const keys = ['name', 'pool', 'size', 'rules', 'clients', 'access', 'squash', 'anonUid', 'anonGid', 'requirePrivilegedPort', 'comment', 'position'];
    const routes: Array<[string, string]> = [
      ['POST', 'shares'],
      ['PATCH', 'shares/fuzz'],
      ['POST', 'shares/fuzz/rules'],
      ['PUT', 'shares/fuzz/rules'],
      ['PATCH', 'shares/fuzz/rules/1'],
    ];
    for (let i = 0; i < 200; i++) {
      const body: Record<string, unknown> = {};
      for (const k of keys) if (rand() < 0.35) body[k] = value();
      const [method, path] = routes[i % routes.length];
      const res = await gw.api(path, { method, json: body });
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).toBeLessThan(500);
      if (method === 'POST' && path === 'shares' && res.status === 201) await gw.api(`shares/${(await res.json()).id}`, { method: 'DELETE' });
      if (method === 'PATCH' && path === 'shares/fuzz' && res.status === 200 && (await res.clone().json()).name !== 'fuzz') {
        await gw.api(`shares/${(await res.json()).id}`, { method: 'PATCH', json: { name: 'fuzz' } });
      }
    }
    const raw = await gw.api('shares/fuzz/rules', { method: 'POST', body: '{"clients": [', headers: { 'content-type': 'application/json' } });
    expect(raw.status).toBe(400);
  });

  it('documents the routes in OpenAPI', async () => {
    const doc = (await (await fetch(`${gw.url}/api/docs-json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/shares', '/api/v1/shares/{share}', '/api/v1/shares/{share}/rules', '/api/v1/shares/{share}/rules/{rule}']));
  });
});
