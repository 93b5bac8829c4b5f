import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCatalog, sqliteHandle } from '../../src/storage/catalog';

describe('Backups migration', () => {
  it('creates the targets and backups tables with their checks; down drops them; up again works', async () => {
    const ds = await openCatalog(join(mkdtempSync(join(tmpdir(), 'strata-backupmig-')), 'catalog.sqlite'));
    const db = sqliteHandle(ds);
    const tables = () => (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('backup_targets', 'backups') ORDER BY name`).all() as Array<{ name: string }>).map((t) => t.name);
    const at = new Date().toISOString();
    try {
      expect(tables()).toEqual(['backup_targets', 'backups']);
      db.prepare(`INSERT INTO backup_targets (id, name, kind, path, pool_id, created_at) VALUES ('t', 't', 'directory', '/srv', NULL, ?)`).run(at);
      // A pool target names a pool and no path; a directory or device the other way round.
      expect(() => db.prepare(`INSERT INTO backup_targets (id, name, kind, path, pool_id, created_at) VALUES ('u', 'u', 'pool', '/x', NULL, ?)`).run(at)).toThrow(/CHECK/);
      expect(() => db.prepare(`INSERT INTO backup_targets (id, name, kind, path, pool_id, created_at) VALUES ('u', 'u', 'tape', '/x', NULL, ?)`).run(at)).toThrow(/CHECK/);
      const insert = db.prepare(`INSERT INTO backups (id, volume_id, volume_name, snapshot_name, kind, parent_id, target_id, state, created_by, created_at) VALUES (?, 'v', 'v', 's', ?, ?, ?, 'pending', 'admin', ?)`);
      insert.run('b1', 'full', null, 't', at);
      insert.run('b2', 'incremental', 'b1', 't', at);
      // An incremental names an existing parent; a full none; a backup an existing target.
      expect(() => insert.run('b3', 'incremental', null, 't', at)).toThrow(/CHECK/);
      expect(() => insert.run('b3', 'full', 'b1', 't', at)).toThrow(/CHECK/);
      expect(() => insert.run('b3', 'incremental', 'nope', 't', at)).toThrow(/FOREIGN/);
      expect(() => insert.run('b3', 'full', null, 'nope', at)).toThrow(/FOREIGN/);

      // Newer migrations come off first, then this one.
      const last = () => (db.prepare(`SELECT name FROM migrations ORDER BY id DESC LIMIT 1`).get() as { name: string }).name;
      while (last() !== 'Backups1795491000000') await ds.undoLastMigration({ transaction: 'each' });
      await ds.undoLastMigration({ transaction: 'each' });
      expect(tables()).toEqual([]);
      await ds.runMigrations({ transaction: 'each' });
      expect(tables()).toEqual(['backup_targets', 'backups']);
      expect(db.pragma('foreign_key_check')).toEqual([]);
    } finally {
      await ds.destroy();
    }
  });

  it('ShareBackups: a backup row says volume or share (a share one names it); down drops the columns, up adds them again', async () => {
    const ds = await openCatalog(join(mkdtempSync(join(tmpdir(), 'strata-sharebackupmig-')), 'catalog.sqlite'));
    const db = sqliteHandle(ds);
    const columns = (table: string) => (db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as Array<{ name: string }>).map((c) => c.name);
    const at = new Date().toISOString();
    try {
      db.prepare(`INSERT INTO backup_targets (id, name, kind, path, pool_id, created_at) VALUES ('t', 't', 'directory', '/srv', NULL, ?)`).run(at);
      const insert = db.prepare(`INSERT INTO backups (id, volume_id, volume_name, snapshot_name, kind, parent_id, target_id, state, created_by, created_at, source_type, share_id) VALUES (?, 'v', 'v', 's', 'full', NULL, 't', 'pending', 'admin', ?, ?, ?)`);
      insert.run('b1', at, 'share', 'sh-1');
      expect(() => insert.run('b2', at, 'share', null)).toThrow(/CHECK/);
      expect(() => insert.run('b2', at, 'volume', 'sh-1')).toThrow(/CHECK/);
      expect(() => insert.run('b2', at, 'tape', null)).toThrow(/CHECK/);
      // Rows from before the migration are volume backups.
      db.prepare(`INSERT INTO backups (id, volume_id, volume_name, snapshot_name, kind, parent_id, target_id, state, created_by, created_at) VALUES ('b3', 'v', 'v', 's', 'full', NULL, 't', 'pending', 'admin', ?)`).run(at);
      expect(db.prepare(`SELECT source_type AS t FROM backups WHERE id = 'b3'`).get()).toEqual({ t: 'volume' });
      expect(columns('shares')).toContain('restoring_from');

      const last = () => (db.prepare(`SELECT name FROM migrations ORDER BY id DESC LIMIT 1`).get() as { name: string }).name;
      while (last() !== 'ShareBackups1795496000000') await ds.undoLastMigration({ transaction: 'each' });
      await ds.undoLastMigration({ transaction: 'each' });
      expect(columns('backups')).not.toContain('source_type');
      expect(columns('backups')).not.toContain('metadata_location');
      expect(columns('shares')).not.toContain('restoring_from');
      await ds.runMigrations({ transaction: 'each' });
      expect(columns('backups')).toEqual(expect.arrayContaining(['source_type', 'share_id', 'metadata_location']));
      expect(db.prepare(`SELECT id, source_type AS t FROM backups ORDER BY id`).all()).toEqual([{ id: 'b1', t: 'volume' }, { id: 'b3', t: 'volume' }]);
    } finally {
      await ds.destroy();
    }
  });
});
