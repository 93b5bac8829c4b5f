import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Shares1795470000000 } from '../../migrations/1795470000000-Shares';
import { ExportTable } from '../../src/nas/exports/export-table';
import { AssignmentService } from '../../src/storage/assignment.service';
import { CATALOG_MIGRATIONS, openCatalog, sqliteHandle } from '../../src/storage/catalog';
import type { Actor, AuditEntry, ShareExport, ShareInfo } from '../../src/storage/domain';
import { StorageEvents, type StorageEventMap } from '../../src/storage/events';
import { HostService } from '../../src/storage/host.service';
import { ShareService } from '../../src/storage/share.service';
import { StorageRuntime } from '../../src/storage/runtime';
import { VolumeService } from '../../src/storage/volume.service';
import { AuditService } from '../../src/storage/audit.service';
import { InUse } from '../../src/common/errors';
import { startTestGateway, type TestGateway } from '../utils/gateway';

const MiB = 2 ** 20;
const actor: Actor = { name: 'tester', source: 'test' };
const alice = { uid: 1000, gid: 1000, gids: [] };

/** The error a promise rejects with (fails the test if it resolves). */
async function failure(p: Promise<unknown>): Promise<Error & { code: string; details: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { code: string; details: Record<string, unknown> };
  }
  throw new Error('expected a failure');
}

/** Every event of the given names, in order, while the test runs. */
function record(events: StorageEvents, names: Array<keyof StorageEventMap>) {
  const seen: Array<{ name: string; payload: unknown }> = [];
  const handlers = names.map((name) => {
    const fn = (payload: unknown) => seen.push({ name, payload });
    events.on(name, fn as never);
    return () => events.off(name, fn as never);
  });
  return { seen, stop: () => handlers.forEach((h) => h()) };
}

const rawShare = (gw: TestGateway, id: string) =>
  sqliteHandle(gw.app.get(DataSource)).prepare('SELECT * FROM shares WHERE id = ?').all(id)[0] as { export_id: number; secret_key: Buffer; state: string } | undefined;

describe('shares in the storage manager (real SQLite catalog)', () => {
  let gw: TestGateway;
  let shares: ShareService;
  let volumes: VolumeService;
  let events: StorageEvents;
  let table: ExportTable;

  beforeAll(async () => {
    gw = await startTestGateway();
    shares = gw.app.get(ShareService);
    volumes = gw.app.get(VolumeService);
    events = gw.app.get(StorageEvents);
    table = gw.app.get(ExportTable);
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('creates a share with its own thin volume, export id and secret key, announced and audited', async () => {
    const rec = record(events, ['volume.created', 'share.created']);
    const s = await shares.create(actor, { name: 'home', pool: 'default', size: 32 * MiB });
    rec.stop();
    expect(s).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'home',
      path: '/home',
      poolId: expect.any(String),
      poolName: 'default',
      volumeId: expect.any(String),
      volumeName: 'share:home',
      size: 32 * MiB,
      allocatedBytes: 0,
      exportId: expect.any(Number),
      sync: true,
      state: 'online',
      rules: [],
      replica: null,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(JSON.stringify(s)).not.toMatch(/secret/i);

    const v = await volumes.get(s.volumeId);
    expect(v).toMatchObject({ name: 'share:home', role: 'share', share: { id: s.id, name: 'home' }, provisioning: 'thin', size: 32 * MiB, nbdExport: false });
    expect((await volumes.list()).map((x) => x.name)).not.toContain('share:home');
    expect((await volumes.list({ role: 'share' })).map((x) => x.name)).toEqual(['share:home']);
    expect((await volumes.list({ role: 'all' })).map((x) => x.name)).toContain('share:home');
    expect((await failure(volumes.list({ role: 'disk' as never }))).code).toBe('INVALID_ARGUMENT');

    const raw = rawShare(gw, s.id)!;
    expect(raw.export_id).toBe(s.exportId);
    expect(raw.secret_key).toHaveLength(32);
    expect(rec.seen.map((e) => e.name)).toEqual(['volume.created', 'share.created']);
    const created = rec.seen[1].payload as ShareExport;
    expect(created.share).toEqual(s);
    expect(created.secretKey.equals(raw.secret_key)).toBe(true);

    // The data path's table has it, key and all, without asking the catalog.
    const entry = table.byExportId(s.exportId)!;
    expect(entry).toMatchObject({ name: 'home', path: '/home', volumeId: s.volumeId });
    expect(entry.secretKey.equals(raw.secret_key)).toBe(true);
    expect(table.decide(s.exportId, { address: '10.0.0.1', port: 700 }, alice)).toMatchObject({ allowed: false, code: 'NO_RULES' });

    // Its disk is the volume's, and writes to it allocate pages of the pool.
    const disk = await shares.disk('home');
    expect(disk).toBe(gw.app.get(StorageRuntime).disk(s.volumeId));
    await disk.write(0, Buffer.alloc(4096, 7));
    expect((await shares.get('home')).allocatedBytes).toBe(MiB);

    const audit = await gw.app.get(AuditService).query({ action: 'share.create' });
    expect(audit[0]).toMatchObject({ actor: 'tester', source: 'test', objectType: 'share', objectId: s.id, objectName: 'home', outcome: 'success' });
  });

  it('gives each share a distinct export id and key, and refuses bad shares precisely', async () => {
    const a = await shares.create(actor, { name: 'a1', pool: 'default', size: MiB });
    const b = await shares.create(actor, { name: 'b1', pool: 'default', size: MiB });
    expect(b.exportId).toBe(a.exportId + 1);
    expect(rawShare(gw, a.id)!.secret_key.equals(rawShare(gw, b.id)!.secret_key)).toBe(false);

    expect(await failure(shares.create(actor, { name: 'a1', pool: 'default', size: MiB }))).toMatchObject({ code: 'NAME_TAKEN' });
    expect(await failure(shares.create(actor, { name: 'bad name', pool: 'default', size: MiB }))).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'name' } });
    expect(await failure(shares.create(actor, { name: 'x', pool: 'nope', size: MiB }))).toMatchObject({ code: 'POOL_NOT_FOUND' });
    expect((await failure(shares.create(actor, { name: 'x', pool: 'default', size: 1000 }))).message).toMatch(/multiple of 4 KiB/);
    const badRule = await failure(shares.create(actor, { name: 'x', pool: 'default', size: MiB, rules: [{ clients: ['10.0.0.0/8'] }, { clients: ['10.1.2.3/8'] }] }));
    expect(badRule).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'rules[1].clients[0]' } });
    expect(badRule.message).toContain('the network is 10.0.0.0/8');
    // Nothing half-made stays behind a refused create.
    expect((await shares.list()).map((s) => s.name)).not.toContain('x');
    expect((await volumes.list({ role: 'all' })).map((v) => v.name)).not.toContain('share:x');

    const failed = await gw.app.get(AuditService).query({ action: 'share.create', outcome: 'failure' });
    expect(failed.map((e) => e.errorCode)).toEqual(expect.arrayContaining(['NAME_TAKEN', 'POOL_NOT_FOUND', 'INVALID_ARGUMENT']));
    await shares.remove(actor, 'a1');
    await shares.remove(actor, 'b1');
  });

  it('grows and renames a share through its volume; shrinking is refused', async () => {
    const s = await shares.create(actor, { name: 'grow1', pool: 'default', size: 8 * MiB });
    const rec = record(events, ['share.updated', 'volume.updated']);
    const grown = await shares.grow(actor, 'grow1', 16 * MiB);
    expect(grown).toMatchObject({ size: 16 * MiB, exportId: s.exportId });
    expect((await shares.disk('grow1')).size).toBe(16 * MiB);
    expect((await volumes.get(s.volumeId)).size).toBe(16 * MiB);
    expect(table.byShareId(s.id)?.size).toBe(16 * MiB);
    const shrink = await failure(shares.grow(actor, 'grow1', 4 * MiB));
    expect(shrink).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(shrink.message).toContain('shares only grow');

    const renamed = await shares.update(actor, 'grow1', { name: 'grown' });
    expect(renamed).toMatchObject({ name: 'grown', path: '/grown', volumeName: 'share:grown', exportId: s.exportId });
    expect(table.resolve('/grown')?.entry.shareId).toBe(s.id);
    expect(table.resolve('/grow1')).toBeUndefined();
    expect((await failure(shares.get('grow1'))).code).toBe('SHARE_NOT_FOUND');
    expect((await failure(shares.update(actor, 'grown', { name: 'home', size: 32 * MiB }))).code).toBe('NAME_TAKEN');
    // The refused rename did not grow it either.
    expect((await shares.get('grown')).size).toBe(16 * MiB);
    rec.stop();
    expect(rec.seen.map((e) => e.name)).toEqual(['volume.updated', 'share.updated', 'volume.updated', 'share.updated']);
    await shares.remove(actor, 'grown');
  });

  it('keeps the backing volume out of block-volume operations', async () => {
    const s = await shares.get('home');
    const hosts = gw.app.get(HostService);
    const { generateKeyPairSync } = await import('node:crypto');
    const raw = Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x as string, 'base64url');
    const t = Buffer.from('ssh-ed25519');
    const blob = Buffer.concat([Buffer.from([0, 0, 0, t.length]), t, Buffer.from([0, 0, 0, raw.length]), raw]);
    await hosts.create(actor, { name: 'h1', publicKey: `ssh-ed25519 ${blob.toString('base64')}` });
    const refusals = [
      volumes.update(actor, s.volumeId, { nbdExport: true }),
      volumes.update(actor, 'share:home', { size: 64 * MiB }),
      volumes.update(actor, 'share:home', { name: 'stolen' }),
      volumes.remove(actor, 'share:home', { force: true }),
      gw.app.get(AssignmentService).create(actor, { host: 'h1', volume: 'share:home' }),
      volumes.blockDisk('share:home'),
    ];
    for (const p of refusals) {
      const e = await failure(p);
      expect(e.code).toBe('SHARE_VOLUME');
      expect(e.message).toContain("volume 'share:home' backs share 'home'");
      expect(e.details).toEqual({ volume: 'share:home', share: 'home' });
    }
    expect(await volumes.get('share:home')).toMatchObject({ size: 32 * MiB, nbdExport: false, assignments: [] });
    await hosts.remove(actor, 'h1');
  });

  it('manages ordered export rules: add, insert, move, update, remove, replace', async () => {
    const rec = record(events, ['share.rules.changed']);
    const r1 = await shares.addRule(actor, 'home', { clients: ['10.0.0.0/8', '2001:DB8::/32', '::ffff:192.168.0.0/112'] });
    expect(r1).toMatchObject({
      position: 1,
      clients: ['10.0.0.0/8', '2001:db8::/32', '192.168.0.0/16'],
      access: 'ro',
      squash: 'root_squash',
      anonUid: 65534,
      anonGid: 65534,
      requirePrivilegedPort: true,
      comment: null,
    });
    const r2 = await shares.addRule(actor, 'home', { clients: ['*'], access: 'rw', squash: 'all_squash', anonUid: 99, anonGid: 98, requirePrivilegedPort: false, comment: ' lab ' });
    expect(r2).toMatchObject({ position: 2, access: 'rw', squash: 'all_squash', anonUid: 99, anonGid: 98, requirePrivilegedPort: false, comment: 'lab' });
    const r0 = await shares.addRule(actor, 'home', { clients: ['10.1.2.3'], access: 'rw', squash: 'no_root_squash', position: 1 });
    expect((await shares.listRules('home')).map((r) => [r.id, r.position])).toEqual([
      [r0.id, 1],
      [r1.id, 2],
      [r2.id, 3],
    ]);

    // The data path sees each change at once.
    const exportId = (await shares.get('home')).exportId;
    expect(table.decide(exportId, { address: '10.1.2.3', port: 600 }, { uid: 0, gid: 0, gids: [] })).toMatchObject({ allowed: true, access: 'rw', squashed: false });
    expect(table.decide(exportId, { address: '::ffff:10.9.9.9', port: 600 }, alice)).toMatchObject({ allowed: true, access: 'ro', rule: { id: r1.id } });
    expect(table.decide(exportId, { address: '10.9.9.9', port: 40000 }, alice)).toMatchObject({ allowed: false, code: 'PRIVILEGED_PORT_REQUIRED' });
    expect(table.decide(exportId, { address: '203.0.113.1', port: 40000 }, alice)).toMatchObject({ allowed: true, credential: { uid: 99, gid: 98, gids: [] } });

    // Move the catch-all first, by position; then change a field by id.
    const moved = await shares.updateRule(actor, 'home', '3', { position: 1 });
    expect(moved).toMatchObject({ id: r2.id, position: 1 });
    expect((await shares.listRules('home')).map((r) => r.id)).toEqual([r2.id, r0.id, r1.id]);
    expect(table.decide(exportId, { address: '10.1.2.3', port: 600 }, alice)).toMatchObject({ rule: { id: r2.id } });
    const changed = await shares.updateRule(actor, 'home', r1.id, { access: 'rw', comment: null });
    expect(changed).toMatchObject({ id: r1.id, position: 3, access: 'rw', clients: r1.clients, squash: 'root_squash' });
    expect(changed.updatedAt >= r1.updatedAt).toBe(true);

    await shares.removeRule(actor, 'home', '1');
    expect((await shares.listRules('home')).map((r) => [r.id, r.position])).toEqual([
      [r0.id, 1],
      [r1.id, 2],
    ]);
    expect((await shares.getRule('home', '2')).id).toBe(r1.id);

    const replaced = await shares.replaceRules(actor, 'home', [{ clients: ['192.0.2.0/24'], access: 'rw', requirePrivilegedPort: false }]);
    expect(replaced).toHaveLength(1);
    expect(replaced[0]).toMatchObject({ position: 1, clients: ['192.0.2.0/24'] });
    expect(table.decide(exportId, { address: '10.1.2.3', port: 600 }, alice)).toMatchObject({ allowed: false, code: 'NO_MATCH' });
    expect(table.decide(exportId, { address: '192.0.2.9', port: 60000 }, alice)).toMatchObject({ allowed: true, access: 'rw' });
    rec.stop();
    expect(rec.seen).toHaveLength(7);
    const last = rec.seen[6].payload as ShareExport;
    expect(last.share.rules).toEqual(replaced);
    expect(last.secretKey).toHaveLength(32);

    const audit = (await gw.app.get(AuditService).query({ action: 'share.rule*', objectType: 'share' })) as AuditEntry[];
    expect(audit.slice(0, 7).map((e) => e.action)).toEqual([
      'share.rules.replace',
      'share.rule.remove',
      'share.rule.update',
      'share.rule.update',
      'share.rule.add',
      'share.rule.add',
      'share.rule.add',
    ]);
    expect(audit.every((e) => e.objectName === 'home' && e.outcome === 'success' && e.actor === 'tester')).toBe(true);
  });

  it('refuses bad rules with the field and the reason, changing nothing', async () => {
    const before = await shares.listRules('home');
    const cases: Array<[Promise<unknown>, string, string | RegExp]> = [
      [shares.addRule(actor, 'home', { clients: [] }), 'clients', 'must list at least one client'],
      [shares.addRule(actor, 'home', { clients: ['10.0.0.0/33'] }), 'clients[0]', '/33 is too long'],
      [shares.addRule(actor, 'home', { clients: ['*', 'example.com'] }), 'clients[1]', 'host names and wildcards are not supported'],
      [shares.addRule(actor, 'home', { clients: ['*'], access: 'rx' as never }), 'access', "access must be ro or rw, not 'rx'"],
      [shares.addRule(actor, 'home', { clients: ['*'], squash: 'squash' as never }), 'squash', 'root_squash, all_squash or no_root_squash'],
      [shares.addRule(actor, 'home', { clients: ['*'], anonUid: -1 }), 'anonUid', 'from 0 to 4294967295'],
      [shares.addRule(actor, 'home', { clients: ['*'], anonGid: 2 ** 32 }), 'anonGid', 'from 0 to 4294967295'],
      [shares.addRule(actor, 'home', { clients: ['*'], requirePrivilegedPort: 'yes' as never }), 'requirePrivilegedPort', 'true or false'],
      [shares.addRule(actor, 'home', { clients: ['*'], comment: 'a\u0007b' }), 'comment', 'control characters'],
      [shares.addRule(actor, 'home', { clients: ['*'], position: 3 }), 'position', 'from 1 to 2'],
      [shares.updateRule(actor, 'home', '1', { position: 2 }), 'position', 'from 1 to 1'],
      [shares.replaceRules(actor, 'home', [{ clients: ['*'] }, { clients: ['fe80::1%eth0'] }]), 'rules[1].clients[0]', 'zone ids'],
    ];
    for (const [p, field, message] of cases) {
      const e = await failure(p);
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.details).toEqual({ field });
      expect(e.message).toMatch(message);
    }
    expect((await failure(shares.updateRule(actor, 'home', '7', { access: 'ro' }))).code).toBe('RULE_NOT_FOUND');
    expect((await failure(shares.removeRule(actor, 'home', 'not-a-rule'))).code).toBe('RULE_NOT_FOUND');
    expect((await failure(shares.addRule(actor, 'nope', { clients: ['*'] }))).code).toBe('SHARE_NOT_FOUND');
    expect(await shares.listRules('home')).toEqual(before);
  });

  it('deletes a share after its delete hooks, releasing its volume and pages; export ids are never reused', async () => {
    const s = await shares.create(actor, { name: 'gone', pool: 'default', size: 16 * MiB, rules: [{ clients: ['*'], requirePrivilegedPort: false }] });
    await (await shares.disk('gone')).write(0, Buffer.alloc(3 * MiB, 1));
    const poolBefore = gw.app.get(StorageRuntime).pools.get(s.poolId)!.usedPages;
    const order: string[] = [];
    let mounted = true;
    const unhook = shares.registerDeleteHook({
      check: (share, { force }) => {
        order.push(`check:${share.name}:${force}`);
        if (mounted && !force) throw new InUse('share', share.name, 'mounted by 10.0.0.5');
      },
      release: (share) => {
        // The table has dropped it, the volume is still there.
        order.push(`release:${table.byShareId(share.id) ? 'listed' : 'unlisted'}:${gw.app.get(StorageRuntime).disk(share.volumeId) ? 'disk' : 'nodisk'}`);
      },
    });
    const refused = await failure(shares.remove(actor, 'gone'));
    expect(refused).toMatchObject({ code: 'SHARE_IN_USE' });
    expect(refused.message).toBe("share 'gone' is in use by mounted by 10.0.0.5");
    expect((await shares.get('gone')).exportId).toBe(s.exportId);
    expect(table.byShareId(s.id)).toBeDefined();

    mounted = false;
    const rec = record(events, ['share.deleting', 'volume.deleted', 'share.deleted']);
    await shares.remove(actor, 'gone');
    rec.stop();
    unhook();
    expect(order).toEqual(['check:gone:false', 'check:gone:false', 'release:unlisted:disk']);
    expect(rec.seen.map((e) => e.name)).toEqual(['share.deleting', 'volume.deleted', 'share.deleted']);
    expect(rec.seen[2].payload).toEqual({ id: s.id, name: 'gone', exportId: s.exportId, volumeId: s.volumeId });
    expect((await failure(shares.get('gone'))).code).toBe('SHARE_NOT_FOUND');
    expect((await failure(volumes.get(s.volumeId))).code).toBe('VOLUME_NOT_FOUND');
    expect(rawShare(gw, s.id)).toBeUndefined();
    const db = sqliteHandle(gw.app.get(DataSource));
    expect(db.prepare('SELECT COUNT(*) AS n FROM export_rules WHERE share_id = ?').all(s.id)).toEqual([{ n: 0 }]);
    expect(db.prepare('SELECT COUNT(*) AS n FROM page_maps WHERE volume_id = ?').all(s.volumeId)).toEqual([{ n: 0 }]);
    expect(gw.app.get(StorageRuntime).pools.get(s.poolId)!.usedPages).toBe(poolBefore - 3);
    expect(gw.app.get(StorageRuntime).checkConsistency().ok).toBe(true);

    const next = await shares.create(actor, { name: 'gone', pool: 'default', size: MiB });
    expect(next.exportId).toBeGreaterThan(s.exportId);
    const audit = await gw.app.get(AuditService).query({ action: 'share.delete' });
    expect(audit.slice(0, 2).map((e) => [e.outcome, e.errorCode])).toEqual([
      ['success', null],
      ['failure', 'SHARE_IN_USE'],
    ]);
    await shares.remove(actor, 'gone', { force: true });
  });

  it('refuses to delete a pool that holds a share, naming the share', async () => {
    await gw.api('devices', { method: 'POST', json: { name: 'r9', kind: 'ram', size: '8M' } });
    await gw.api('pools', { method: 'POST', json: { name: 'p9', layout: 'concat', members: [{ device: 'r9' }] } });
    await shares.create(actor, { name: 'in-p9', pool: 'p9', size: MiB });
    const pool = await (await gw.api('pools/p9')).json();
    expect(pool).toMatchObject({ volumeCount: 0, shareCount: 1, provisionedBytes: MiB });
    const e = await failure(gw.app.get((await import('../../src/storage/pool.service')).PoolService).remove(actor, 'p9'));
    expect(e.message).toBe("pool 'p9' is in use by share(s) in-p9");
    await shares.remove(actor, 'in-p9');
    expect((await gw.api('pools/p9', { method: 'DELETE' })).status).toBe(204);
  });
});

describe('shares across a restart', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'strata-shares-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('keep their export id, key, rules and data; an interrupted delete is finished at the next start', async () => {
    // Raw bytes on the share's volume, without the NAS front end: its filesystem would discard, at mount,
    // pages it does not own (this checks the storage manager's bookkeeping, not a filesystem).
    const noNas = { STRATA_NAS: 'false' };
    let gw = await startTestGateway(noNas, dir);
    let kept: ShareInfo;
    let key: Buffer;
    let doomed: ShareInfo;
    try {
      const shares = gw.app.get(ShareService);
      kept = await shares.create(actor, { name: 'kept', pool: 'default', size: 4 * MiB, rules: [{ clients: ['10.0.0.0/8'], access: 'rw' }] });
      await (await shares.disk('kept')).write(MiB, Buffer.alloc(4096, 0x5a));
      await (await shares.disk('kept')).flush();
      key = rawShare(gw, kept.id)!.secret_key;
      doomed = await shares.create(actor, { name: 'doomed', pool: 'default', size: MiB });
      await (await shares.disk('doomed')).write(0, Buffer.alloc(4096, 1));
      await gw.app.get(StorageRuntime).store.idle();
      // A crash after the delete was marked: both rows say 'deleting'.
      const db = sqliteHandle(gw.app.get(DataSource));
      db.prepare("UPDATE shares SET state = 'deleting' WHERE id = ?").run(doomed.id);
      db.prepare("UPDATE volumes SET state = 'deleting' WHERE id = ?").run(doomed.volumeId);
    } finally {
      await gw.close({ keepData: true });
    }
    gw = await startTestGateway(noNas, dir);
    try {
      const shares = gw.app.get(ShareService);
      expect(await shares.get('kept')).toEqual({ ...kept, allocatedBytes: MiB });
      expect(rawShare(gw, kept.id)!.secret_key.equals(key)).toBe(true);
      expect(gw.app.get(ExportTable).byExportId(kept.exportId)?.secretKey.equals(key)).toBe(true);
      expect((await (await shares.disk('kept')).read(MiB, 4096)).equals(Buffer.alloc(4096, 0x5a))).toBe(true);
      expect((await shares.list()).map((s) => s.name)).toEqual(['kept']);
      expect(rawShare(gw, doomed.id)).toBeUndefined();
      expect(gw.app.get(ExportTable).byExportId(doomed.exportId)).toBeUndefined();
      expect(gw.app.get(StorageRuntime).checkConsistency().ok).toBe(true);
    } finally {
      await gw.close({ keepData: true });
    }
  });
});

describe('Shares migration', () => {
  it('adds volumes.role, shares and export_rules; down removes them and leaves the volumes as block volumes', async () => {
    const ds = await openCatalog(join(mkdtempSync(join(tmpdir(), 'strata-mig-')), 'catalog.sqlite'));
    const db = sqliteHandle(ds);
    const tables = () => (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('shares', 'export_rules') ORDER BY name`).all() as Array<{ name: string }>).map((t) => t.name);
    const columns = () => (db.prepare(`PRAGMA table_info(volumes)`).all() as Array<{ name: string }>).map((c) => c.name);
    try {
      expect(tables()).toEqual(['export_rules', 'shares']);
      expect(columns()).toContain('role');
      const at = new Date().toISOString();
      db.prepare(`INSERT INTO pools (id, name, layout, page_size, stripe_unit, created_at) VALUES ('p', 'p', 'concat', 1048576, 65536, ?)`).run(at);
      db.prepare(`INSERT INTO volumes (id, name, pool_id, size, provisioning, serial, state, created_at, role) VALUES ('v', 'share:s', 'p', 1048576, 'thin', 'x', 'online', ?, 'share')`).run(at);
      db.prepare(`INSERT INTO shares (id, name, volume_id, export_id, secret_key, state, created_at, updated_at) VALUES ('s', 's', 'v', 1, ?, 'online', ?, ?)`).run(Buffer.alloc(32), at, at);
      db.prepare(
        `INSERT INTO export_rules (id, share_id, position, clients, access, squash, anon_uid, anon_gid, require_privileged_port, comment, created_at, updated_at) VALUES ('r', 's', 0, '["*"]', 'rw', 'root_squash', 65534, 65534, 1, NULL, ?, ?)`,
      ).run(at, at);
      // The schema itself refuses what the service never writes.
      expect(() => db.prepare(`INSERT INTO shares (id, name, volume_id, export_id, secret_key, state, created_at, updated_at) VALUES ('t', 't', 'v', 2, ?, 'online', ?, ?)`).run(Buffer.alloc(32), at, at)).toThrow(/UNIQUE/);
      expect(() => db.prepare(`INSERT INTO shares (id, name, volume_id, export_id, secret_key, state, created_at, updated_at) VALUES ('t', 't', 'w', 2, ?, 'online', ?, ?)`).run(Buffer.alloc(16), at, at)).toThrow(/CHECK|FOREIGN/);
      expect(() => db.prepare(`UPDATE volumes SET role = 'nas' WHERE id = 'v'`).run()).toThrow(/CHECK/);

      // A share made before ShareSync existed is sync, as every share was.
      expect(db.prepare(`SELECT sync FROM shares WHERE id = 's'`).get()).toEqual({ sync: 1 });
      expect(() => db.prepare(`UPDATE shares SET sync = 2 WHERE id = 's'`).run()).toThrow(/CHECK/);

      // Undo through TypeORM, as an operator would: the later migrations first, then this one.
      const last = () => (db.prepare(`SELECT name FROM migrations ORDER BY id DESC LIMIT 1`).get() as { name: string }).name;
      while (last() !== 'Shares1795470000000') await ds.undoLastMigration({ transaction: 'each' });
      await ds.undoLastMigration({ transaction: 'each' });
      expect(tables()).toEqual([]);
      expect(columns()).not.toContain('role');
      expect(db.prepare(`SELECT name FROM volumes`).all()).toEqual([{ name: 'share:s' }]);

      const q = ds.createQueryRunner();
      try {
        await new Shares1795470000000().up(q);
      } finally {
        await q.release();
      }
      expect(tables()).toEqual(['export_rules', 'shares']);
      expect(db.prepare(`SELECT role FROM volumes`).all()).toEqual([{ role: 'block' }]);
    } finally {
      await ds.destroy();
    }
  });
});
