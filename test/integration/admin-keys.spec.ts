import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminSshKeys1795450992296 } from '../../migrations/1795450992296-AdminSshKeys';
import { openCatalog } from '../../src/storage/catalog';
import type { AuditEntry } from '../../src/storage/domain';
import { startTestGateway, type TestGateway } from '../utils/gateway';

/** An OpenSSH Ed25519 public key line, built by hand. */
function keyLine(comment: string): { line: string; blob: Buffer } {
  const raw = Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  const type = Buffer.from('ssh-ed25519');
  const blob = Buffer.concat([Buffer.from([0, 0, 0, type.length]), type, Buffer.from([0, 0, 0, raw.length]), raw]);
  return { line: `ssh-ed25519 ${blob.toString('base64')} ${comment}`, blob };
}

describe('admin SSH keys over REST', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => {
    await gw?.close();
  });

  async function call(method: string, path: string, json?: unknown) {
    const res = await gw.api(path, { method, json });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  it('registers, lists and removes a key, auditing each change with the fingerprint', async () => {
    expect(await call('GET', 'users/admin/keys')).toEqual({ status: 200, body: [] });
    const k = keyLine('alice@laptop');
    const added = await call('POST', 'users/admin/keys', { publicKey: `${k.line}\n` });
    expect(added.status).toBe(201);
    expect(added.body).toEqual({
      id: expect.any(String),
      username: 'admin',
      name: 'alice@laptop',
      type: 'ssh-ed25519',
      publicKey: k.line.split(' ').slice(0, 2).join(' '),
      fingerprint: expect.stringMatching(/^SHA256:[A-Za-z0-9+/]{43}$/),
      createdAt: expect.any(String),
    });
    expect((await call('GET', 'users/admin/keys')).body).toEqual([added.body]);
    const named = await call('POST', 'users/admin/keys', { publicKey: keyLine('').line, name: 'ops laptop' });
    expect(named.body).toMatchObject({ name: 'ops laptop' });

    expect((await call('DELETE', `users/admin/keys/${added.body.id}`)).status).toBe(204);
    expect((await call('GET', 'users/admin/keys')).body.map((x: { id: string }) => x.id)).toEqual([named.body.id]);
    expect(await call('DELETE', `users/admin/keys/${added.body.id}`)).toMatchObject({ status: 404, body: { code: 'KEY_NOT_FOUND' } });

    const audit = (await call('GET', 'audit?action=user.key.*')).body as AuditEntry[];
    expect(audit.map((e) => [e.action, e.actor, e.objectName, e.outcome, e.detail?.fingerprint])).toEqual([
      ['user.key.remove', 'admin', 'admin', 'failure', undefined],
      ['user.key.remove', 'admin', 'admin', 'success', added.body.fingerprint],
      ['user.key.add', 'admin', 'admin', 'success', named.body.fingerprint],
      ['user.key.add', 'admin', 'admin', 'success', added.body.fingerprint],
    ]);
  });

  it('keeps one key to one admin, and frees it with the admin (ON DELETE CASCADE)', async () => {
    expect((await call('POST', 'users', { username: 'bob', password: 'bob-password-1' })).status).toBe(201);
    const k = keyLine('shared');
    const bobs = await call('POST', 'users/bob/keys', { publicKey: k.line });
    expect(bobs.status).toBe(201);
    const again = await call('POST', 'users/admin/keys', { publicKey: k.line });
    expect(again).toMatchObject({ status: 409, body: { code: 'KEY_TAKEN', message: expect.stringMatching(/already registered for admin 'bob'/) } });
    // Another admin's key cannot be removed through your own name.
    expect((await call('DELETE', `users/admin/keys/${bobs.body.id}`)).status).toBe(404);

    expect((await call('DELETE', 'users/bob')).status).toBe(204);
    expect((await call('POST', 'users/admin/keys', { publicKey: k.line })).status).toBe(201);
  });

  it('refuses bad keys, unknown admins, unknown fields and anonymous callers', async () => {
    expect(await call('POST', 'users/admin/keys', { publicKey: 'ssh-dss AAAAB3NzaC1kc3M=' })).toMatchObject({
      status: 400,
      body: { code: 'INVALID_ARGUMENT', details: { field: 'publicKey' } },
    });
    expect(await call('POST', 'users/admin/keys', { publicKey: keyLine('x').line, name: 'tab\there' })).toMatchObject({ status: 400 });
    expect(await call('POST', 'users/nobody/keys', { publicKey: keyLine('x').line })).toMatchObject({ status: 404, body: { code: 'USER_NOT_FOUND' } });
    expect(await call('GET', 'users/nobody/keys')).toMatchObject({ status: 404, body: { code: 'USER_NOT_FOUND' } });
    expect(await call('POST', 'users/admin/keys', { publicKey: keyLine('x').line, admin: true })).toMatchObject({ status: 400 });
    const anonymous = await fetch(`${gw.url}/api/v1/users/admin/keys`);
    expect(anonymous.status).toBe(401);
  });
});

describe('AdminSshKeys migration', () => {
  it('creates admin_ssh_keys and its down step drops it', async () => {
    const ds = await openCatalog(join(mkdtempSync(join(tmpdir(), 'strata-mig-')), 'catalog.sqlite'));
    const tables = async () =>
      ((await ds.query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'admin_ssh_keys'`)) as unknown[]).length;
    const migration = new AdminSshKeys1795450992296();
    const q = ds.createQueryRunner();
    try {
      expect(await tables()).toBe(1);
      await migration.down(q);
      expect(await tables()).toBe(0);
      await migration.up(q);
      expect(await tables()).toBe(1);
    } finally {
      await q.release();
      await ds.destroy();
    }
  });
});
