import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCatalog, sqliteHandle } from '../../src/storage/catalog';

describe('Snapshots migration', () => {
  it('lets pages be shared and volumes be snapshots; down restores the unique page index and keeps the data; up again works', async () => {
    const ds = await openCatalog(join(mkdtempSync(join(tmpdir(), 'strata-snapmig-')), 'catalog.sqlite'));
    const db = sqliteHandle(ds);
    const tables = () => (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('consistency_groups', 'consistency_group_members', 'snapshot_schedules') ORDER BY name`).all() as Array<{ name: string }>).map((t) => t.name);
    try {
      const at = new Date().toISOString();
      db.prepare(`INSERT INTO pools (id, name, layout, page_size, stripe_unit, created_at) VALUES ('p', 'p', 'concat', 1048576, 65536, ?)`).run(at);
      db.prepare(`INSERT INTO volumes (id, name, pool_id, size, provisioning, serial, state, created_at, role) VALUES ('v', 'v', 'p', 1048576, 'thin', 'x', 'online', ?, 'block')`).run(at);
      db.prepare(`INSERT INTO page_maps (volume_id, logical_page, pool_id, pool_page) VALUES ('v', 0, 'p', 7)`).run();
      db.prepare(`INSERT INTO volumes (id, name, pool_id, size, provisioning, serial, state, created_at, role, origin_id, family_id) VALUES ('s', 'v@s', 'p', 1048576, 'thin', 'y', 'online', ?, 'snapshot', 'v', 'v')`).run(at);
      // Shared pages are committable now; a snapshot must name an existing origin.
      db.prepare(`INSERT INTO page_maps (volume_id, logical_page, pool_id, pool_page) VALUES ('s', 0, 'p', 7)`).run();
      expect(() => db.prepare(`INSERT INTO volumes (id, name, pool_id, size, provisioning, serial, state, created_at, role, origin_id) VALUES ('t', 'x@t', 'p', 1, 'thin', 'z', 'online', ?, 'snapshot', 'nope')`).run(at)).toThrow(/FOREIGN/);
      expect(() => db.prepare(`UPDATE volumes SET role = 'clone' WHERE id = 'v'`).run()).toThrow(/CHECK/);
      expect(tables()).toEqual(['consistency_group_members', 'consistency_groups', 'snapshot_schedules']);

      // Newer migrations come off first, then this one.
      const last = () => (db.prepare(`SELECT name FROM migrations ORDER BY id DESC LIMIT 1`).all() as Array<{ name: string }>)[0].name;
      while (last() !== 'Snapshots1795480500000') await ds.undoLastMigration({ transaction: 'each' });
      await expect(ds.undoLastMigration({ transaction: 'each' })).rejects.toThrow('cannot undo snapshots while snapshots exist');
      db.prepare(`DELETE FROM page_maps WHERE volume_id = 's'`).run();
      db.prepare(`DELETE FROM volumes WHERE id = 's'`).run();
      await ds.undoLastMigration({ transaction: 'each' });
      expect(tables()).toEqual([]);
      expect(() => db.prepare(`INSERT INTO page_maps (volume_id, logical_page, pool_id, pool_page) VALUES ('v', 1, 'p', 7)`).run()).toThrow(/UNIQUE/);
      expect(db.prepare(`SELECT volume_id, pool_page FROM page_maps`).all()).toEqual([{ volume_id: 'v', pool_page: 7 }]);

      await ds.runMigrations({ transaction: 'each' });
      expect(tables()).toEqual(['consistency_group_members', 'consistency_groups', 'snapshot_schedules']);
      db.prepare(`INSERT INTO page_maps (volume_id, logical_page, pool_id, pool_page) VALUES ('v', 1, 'p', 7)`).run();
      expect(db.pragma('foreign_key_check')).toEqual([]);
    } finally {
      await ds.destroy();
    }
  });

  it('ties share snapshots to their share with a number that never repeats; down only without them', async () => {
    const ds = await openCatalog(join(mkdtempSync(join(tmpdir(), 'strata-sharesnapmig-')), 'catalog.sqlite'));
    const db = sqliteHandle(ds);
    const last = () => (db.prepare(`SELECT name FROM migrations ORDER BY id DESC LIMIT 1`).all() as Array<{ name: string }>)[0].name;
    try {
      const at = new Date().toISOString();
      db.prepare(`INSERT INTO pools (id, name, layout, page_size, stripe_unit, created_at) VALUES ('p', 'p', 'concat', 1048576, 65536, ?)`).run(at);
      db.prepare(`INSERT INTO volumes (id, name, pool_id, size, provisioning, serial, state, created_at, role) VALUES ('v', 'share:h', 'p', 1048576, 'thin', 'x', 'online', ?, 'share')`).run(at);
      db.prepare(`INSERT INTO shares (id, name, volume_id, export_id, secret_key, state, created_at, updated_at) VALUES ('h', 'h', 'v', 1, ?, 'online', ?, ?)`).run(Buffer.alloc(32), at, at);
      db.prepare(`INSERT INTO volumes (id, name, pool_id, size, provisioning, serial, state, created_at, role, origin_id, family_id) VALUES ('s', 'share:h@a', 'p', 1048576, 'thin', 'y', 'online', ?, 'snapshot', 'v', 'v')`).run(at);
      expect(db.prepare(`SELECT last_snapshot_handle AS n FROM shares`).all()).toEqual([{ n: 0 }]);
      db.prepare(`INSERT INTO share_snapshots (volume_id, share_id, handle_id) VALUES ('s', 'h', 1)`).run();
      expect(() => db.prepare(`INSERT INTO share_snapshots (volume_id, share_id, handle_id) VALUES ('v', 'h', 1)`).run()).toThrow(/UNIQUE/);
      expect(() => db.prepare(`INSERT INTO share_snapshots (volume_id, share_id, handle_id) VALUES ('v', 'nope', 2)`).run()).toThrow(/FOREIGN/);
      expect(() => db.prepare(`INSERT INTO share_snapshots (volume_id, share_id, handle_id) VALUES ('v', 'h', 0)`).run()).toThrow(/CHECK/);
      while (last() !== 'ShareSnapshots1795481000000') await ds.undoLastMigration({ transaction: 'each' });
      await expect(ds.undoLastMigration({ transaction: 'each' })).rejects.toThrow('cannot undo share snapshots while share snapshots exist');
      db.prepare(`DELETE FROM share_snapshots`).run();
      await ds.undoLastMigration({ transaction: 'each' });
      expect(db.prepare(`SELECT name FROM sqlite_master WHERE name = 'share_snapshots'`).all()).toEqual([]);
      await ds.runMigrations({ transaction: 'each' });
      expect(db.prepare(`SELECT last_snapshot_handle AS n FROM shares`).all()).toEqual([{ n: 0 }]);
      expect(db.pragma('foreign_key_check')).toEqual([]);
    } finally {
      await ds.destroy();
    }
  });
});
