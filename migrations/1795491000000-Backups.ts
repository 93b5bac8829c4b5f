import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Client-free backups: where they go (backup_targets) and the catalog of
 * backups taken. A backup outlives its volume, so volume_id is no foreign
 * key (volume_name keeps what it was called); a target's pool is checked
 * when used. An incremental names its parent; a row is 'complete' only once
 * its image and manifest are durable on the target.
 */
export class Backups1795491000000 implements MigrationInterface {
  name = 'Backups1795491000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE backup_targets (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      kind TEXT NOT NULL CHECK (kind IN ('directory', 'device', 'pool')),
      path TEXT,
      pool_id TEXT,
      created_at TEXT NOT NULL,
      CHECK ((kind = 'pool') = (pool_id IS NOT NULL) AND (kind = 'pool') = (path IS NULL)))`);
    await q.query(`CREATE TABLE backups (
      id TEXT PRIMARY KEY,
      volume_id TEXT NOT NULL,
      volume_name TEXT NOT NULL,
      snapshot_name TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('full', 'incremental')),
      parent_id TEXT REFERENCES backups(id),
      target_id TEXT NOT NULL REFERENCES backup_targets(id),
      location TEXT,
      size INTEGER NOT NULL DEFAULT 0 CHECK (size >= 0),
      page_size INTEGER NOT NULL DEFAULT 0 CHECK (page_size >= 0),
      bytes_stored INTEGER NOT NULL DEFAULT 0 CHECK (bytes_stored >= 0),
      image_digest TEXT,
      manifest TEXT,
      state TEXT NOT NULL CHECK (state IN ('pending', 'complete', 'overwritten')),
      job_id TEXT,
      created_by TEXT NOT NULL,
      created_at TEXT NOT NULL,
      finished_at TEXT,
      CHECK ((kind = 'full') = (parent_id IS NULL)))`);
    await q.query(`CREATE INDEX backups_volume ON backups(volume_id, target_id)`);
    await q.query(`CREATE INDEX backups_parent ON backups(parent_id)`);
    await q.query(`CREATE INDEX backups_target ON backups(target_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE backups`);
    await q.query(`DROP TABLE backup_targets`);
  }
}
