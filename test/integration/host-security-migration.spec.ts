import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCatalog, sqliteHandle } from '../../src/storage/catalog';

describe('HostSecurity migration', () => {
  it('hosts registered before it must encrypt; only encrypt or integrity is stored; down drops the column, up adds it again', async () => {
    const ds = await openCatalog(join(mkdtempSync(join(tmpdir(), 'strata-hostsecmig-')), 'catalog.sqlite'));
    const db = sqliteHandle(ds);
    const columns = () => (db.prepare(`SELECT name FROM pragma_table_info('hosts')`).all() as Array<{ name: string }>).map((c) => c.name);
    const at = new Date().toISOString();
    const last = () => (db.prepare(`SELECT name FROM migrations ORDER BY id DESC LIMIT 1`).get() as { name: string }).name;
    try {
      while (last() !== 'HostSecurity1795500000000') await ds.undoLastMigration({ transaction: 'each' });
      await ds.undoLastMigration({ transaction: 'each' });
      expect(columns()).not.toContain('security');
      db.prepare(`INSERT INTO hosts (id, name, public_key, key_fingerprint, description, created_at) VALUES ('h', 'old', 'ssh-ed25519 AAAA', 'SHA256:x', NULL, ?)`).run(at);

      await ds.runMigrations({ transaction: 'each' });
      expect(db.prepare(`SELECT security FROM hosts WHERE id = 'h'`).get()).toEqual({ security: 'encrypt' });
      db.prepare(`UPDATE hosts SET security = 'integrity' WHERE id = 'h'`).run();
      expect(() => db.prepare(`UPDATE hosts SET security = 'none' WHERE id = 'h'`).run()).toThrow(/CHECK/);
    } finally {
      await ds.destroy();
    }
  });
});
