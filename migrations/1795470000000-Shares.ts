import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * NAS shares and their export rules. A share owns one thin volume (role
 * 'share'); its export id goes into NFS file handles and is never reused,
 * so a handle of a deleted share can never name a new one.
 */
export class Shares1795470000000 implements MigrationInterface {
  name = 'Shares1795470000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE volumes ADD COLUMN role TEXT NOT NULL DEFAULT 'block' CHECK (role IN ('block', 'share'))`);
    await q.query(`CREATE TABLE shares (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      volume_id TEXT NOT NULL UNIQUE REFERENCES volumes(id),
      export_id INTEGER NOT NULL UNIQUE CHECK (export_id BETWEEN 1 AND 4294967295),
      secret_key BLOB NOT NULL CHECK (length(secret_key) = 32),
      state TEXT NOT NULL CHECK (state IN ('online', 'deleting')),
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL)`);
    // Positions are renumbered inside one transaction on every reorder, so they carry no unique index.
    await q.query(`CREATE TABLE export_rules (
      id TEXT PRIMARY KEY,
      share_id TEXT NOT NULL REFERENCES shares(id) ON DELETE CASCADE,
      position INTEGER NOT NULL CHECK (position >= 0),
      clients TEXT NOT NULL,
      access TEXT NOT NULL CHECK (access IN ('ro', 'rw')),
      squash TEXT NOT NULL CHECK (squash IN ('root_squash', 'all_squash', 'no_root_squash')),
      anon_uid INTEGER NOT NULL CHECK (anon_uid BETWEEN 0 AND 4294967295),
      anon_gid INTEGER NOT NULL CHECK (anon_gid BETWEEN 0 AND 4294967295),
      require_privileged_port INTEGER NOT NULL CHECK (require_privileged_port IN (0, 1)),
      comment TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL)`);
    await q.query(`CREATE INDEX export_rules_share ON export_rules(share_id, position)`);
  }

  async down(q: QueryRunner): Promise<void> {
    // The volumes stay (as block volumes) with their data; only the NAS layer's view of them goes.
    await q.query(`DROP TABLE export_rules`);
    await q.query(`DROP TABLE shares`);
    await q.query(`DELETE FROM settings WHERE key = 'shares.lastExportId'`);
    await q.query(`ALTER TABLE volumes DROP COLUMN role`);
  }
}
