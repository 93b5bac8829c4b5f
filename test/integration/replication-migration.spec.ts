import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCatalog, sqliteHandle } from '../../src/storage/catalog';

describe('Replication migration', () => {
  it('adds replications (one per volume) and replicas; down drops them; up again works', async () => {
    const ds = await openCatalog(join(mkdtempSync(join(tmpdir(), 'strata-replmig-')), 'catalog.sqlite'));
    const db = sqliteHandle(ds);
    const tables = () => (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('replications', 'replicas') ORDER BY name`).all() as Array<{ name: string }>).map((t) => t.name);
    try {
      const at = new Date().toISOString();
      db.prepare(`INSERT INTO pools (id, name, layout, page_size, stripe_unit, created_at) VALUES ('p', 'p', 'concat', 1048576, 65536, ?)`).run(at);
      db.prepare(`INSERT INTO volumes (id, name, pool_id, size, provisioning, serial, state, created_at, role) VALUES ('v', 'v', 'p', 1048576, 'thin', 'x', 'online', ?, 'block')`).run(at);
      const insert = db.prepare(`INSERT INTO replications (id, volume_id, target_address, target_volume, host_name, every_seconds, created_at) VALUES (?, ?, '10.0.0.2:7700', 'v-r', 'site-a', ?, ?)`);
      insert.run('r1', 'v', 900, at);
      expect(() => insert.run('r2', 'v', null, at)).toThrow(/UNIQUE/);
      expect(() => insert.run('r3', 'nope', null, at)).toThrow(/FOREIGN/);
      expect(() => insert.run('r4', 'v', 0, at)).toThrow(/CHECK|UNIQUE/);
      db.prepare(`INSERT INTO replicas (volume_id, host_id, created_at) VALUES ('v', 'h', ?)`).run(at);
      expect(db.prepare(`SELECT last_cycle, bytes_sent, rate_limit FROM replications`).all()).toEqual([{ last_cycle: 0, bytes_sent: 0, rate_limit: 0 }]);
      expect(tables()).toEqual(['replicas', 'replications']);

      // Newer migrations go first.
      const last = () => (db.prepare(`SELECT name FROM migrations ORDER BY id DESC LIMIT 1`).all() as Array<{ name: string }>)[0].name;
      while (last() !== 'Replication1795495000000') await ds.undoLastMigration({ transaction: 'each' });
      await ds.undoLastMigration({ transaction: 'each' });
      expect(tables()).toEqual([]);
      await ds.runMigrations({ transaction: 'each' });
      expect(tables()).toEqual(['replicas', 'replications']);
      expect(db.pragma('foreign_key_check')).toEqual([]);
    } finally {
      await ds.destroy();
    }
  });
});
