import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ExportRuleInfo, ShareExport } from '../../storage/domain';
import { StorageEvents } from '../../storage/events';
import { ExportTable, type ExportChange } from './export-table';

const alice = { uid: 1000, gid: 1000, gids: [] };

function ruleInfo(shareId: string, position: number, clients: string[], more: Partial<ExportRuleInfo> = {}): ExportRuleInfo {
  return {
    id: `${shareId}-r${position}`,
    shareId,
    position,
    clients,
    access: 'rw',
    squash: 'root_squash',
    anonUid: 65534,
    anonGid: 65534,
    requirePrivilegedPort: false,
    comment: null,
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
    ...more,
  };
}

function share(name: string, exportId: number, rules: ExportRuleInfo[] = []): ShareExport {
  const id = `id-${name}`;
  return {
    secretKey: randomBytes(32),
    share: {
      id,
      name,
      path: `/${name}`,
      poolId: 'p',
      poolName: 'default',
      volumeId: `vol-${name}`,
      volumeName: `share:${name}`,
      size: 2 ** 30,
      allocatedBytes: 0,
      exportId,
      sync: true,
      state: 'online',
      rules: rules.map((r) => ({ ...r, shareId: id })),
      createdAt: '2025-01-01T00:00:00.000Z',
      updatedAt: '2025-01-01T00:00:00.000Z',
    },
    snapshots: [],
  };
}

describe('ExportTable', () => {
  it('loads shares and finds them by export id, share id, name and MOUNT path', () => {
    const home = share('home', 1, [ruleInfo('home', 1, ['10.0.0.0/8'])]);
    const table = new ExportTable([home, share('media', 7)]);
    expect(table.size).toBe(2);
    expect(table.list().map((e) => e.name)).toEqual(['home', 'media']);
    const e = table.byExportId(1)!;
    expect(e).toMatchObject({ shareId: 'id-home', name: 'home', path: '/home', exportId: 1, volumeId: 'vol-home', size: 2 ** 30 });
    expect(e.secretKey.equals(home.secretKey)).toBe(true);
    expect(table.byShareId('id-media')?.exportId).toBe(7);
    expect(table.byShareName('media')?.exportId).toBe(7);
    expect(table.resolve('/home')).toEqual({ entry: e, subpath: [] });
    expect(table.resolve('//home/alice/docs/')).toEqual({ entry: e, subpath: ['alice', 'docs'] });
    for (const bad of ['home', '/', '', '/nope', '/home/../media', '/./home']) expect(table.resolve(bad)).toBeUndefined();
  });

  it('decides per export id with the share rules', () => {
    const table = new ExportTable([share('home', 1, [ruleInfo('home', 1, ['10.0.0.0/8'])]), share('closed', 2)]);
    expect(table.decide(1, { address: '10.1.1.1', port: 700 }, alice)).toMatchObject({ allowed: true, access: 'rw' });
    expect(table.decide(1, { address: '192.0.2.1', port: 700 }, alice)).toMatchObject({ allowed: false, code: 'NO_MATCH' });
    expect(table.decide(2, { address: '10.1.1.1', port: 700 }, alice)).toMatchObject({ allowed: false, code: 'NO_RULES' });
    expect(table.decide(3, { address: '10.1.1.1', port: 700 }, alice)).toEqual({ allowed: false, code: 'NO_MATCH', rule: null, reason: 'no share has export id 3' });
  });

  it('follows the storage events: created, rules changed, renamed, deleting, deleted', () => {
    const events = new StorageEvents();
    const table = new ExportTable();
    const seen: string[] = [];
    const stop = table.watch((c: ExportChange) => seen.push(`${c.kind}:${c.entry.name}`));
    table.attach(events);

    events.emit('share.created', share('home', 4));
    expect(table.decide(4, { address: '10.0.0.1', port: 2000 }, alice)).toMatchObject({ allowed: false, code: 'NO_RULES' });

    events.emit('share.rules.changed', share('home', 4, [ruleInfo('home', 1, ['10.0.0.0/8'], { access: 'ro' })]));
    expect(table.decide(4, { address: '10.0.0.1', port: 2000 }, alice)).toMatchObject({ allowed: true, access: 'ro' });

    // A rename moves the name and the MOUNT path; the export id stays.
    const renamed = share('house', 4, [ruleInfo('house', 1, ['10.0.0.0/8'])]);
    renamed.share.id = 'id-home';
    events.emit('share.updated', renamed);
    expect(table.byShareName('home')).toBeUndefined();
    expect(table.resolve('/home')).toBeUndefined();
    expect(table.resolve('/house')?.entry.exportId).toBe(4);
    expect(table.size).toBe(1);

    events.emit('share.deleting', renamed.share);
    expect(table.byExportId(4)).toBeUndefined();
    expect(table.decide(4, { address: '10.0.0.1', port: 2000 }, alice)).toMatchObject({ allowed: false });
    // The final event after the volume is gone is harmless.
    events.emit('share.deleted', { id: 'id-home', name: 'house', exportId: 4, volumeId: 'vol-home' });
    expect(seen).toEqual(['added:home', 'updated:home', 'updated:house', 'removed:house']);

    stop();
    table.detach(events);
    events.emit('share.created', share('later', 5));
    expect(table.size).toBe(0);
    expect(seen).toHaveLength(4);
  });

  it('an unreadable stored rule closes that share instead of throwing', () => {
    const broken = share('home', 1, [ruleInfo('home', 1, ['10.0.0.300'])]);
    const table = new ExportTable([broken]);
    const d = table.decide(1, { address: '10.0.0.1', port: 700 }, alice);
    expect(d).toMatchObject({ allowed: false, code: 'NO_RULES' });
    expect(d.reason).toContain("the export rules of share 'home' are unreadable");
  });
});
