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
      const last = () => (db.prepare(`SELECT name FROM migrations ORDER BY id DESC LIMIT 1`).get() as { name: string }).name;
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
});
