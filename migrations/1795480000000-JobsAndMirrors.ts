import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Long operations as resumable jobs, and synchronous volume mirrors.
 * A mirror's member is a hidden volume (volumes.mirror_of names its origin);
 * its dirty regions are the ones where the two copies may differ.
 */
export class JobsAndMirrors1795480000000 implements MigrationInterface {
  name = 'JobsAndMirrors1795480000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE jobs (
      id TEXT PRIMARY KEY,
      kind TEXT NOT NULL,
      target_type TEXT NOT NULL,
      target_id TEXT NOT NULL,
      target_name TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'paused', 'succeeded', 'failed', 'cancelled')),
      params TEXT NOT NULL,
      checkpoint TEXT,
      bytes_done INTEGER NOT NULL DEFAULT 0 CHECK (bytes_done >= 0),
      bytes_total INTEGER NOT NULL DEFAULT 0 CHECK (bytes_total >= 0),
      error TEXT,
      created_by TEXT NOT NULL,
      created_at TEXT NOT NULL,
      started_at TEXT,
      finished_at TEXT,
      updated_at TEXT NOT NULL)`);
    await q.query(`CREATE INDEX jobs_state ON jobs(state)`);
    await q.query(`CREATE INDEX jobs_target ON jobs(target_id)`);
    await q.query(`ALTER TABLE volumes ADD COLUMN mirror_of TEXT REFERENCES volumes(id)`);
    await q.query(`CREATE TABLE mirrors (
      volume_id TEXT PRIMARY KEY REFERENCES volumes(id),
      member_id TEXT NOT NULL UNIQUE REFERENCES volumes(id),
      state TEXT NOT NULL CHECK (state IN ('in-sync', 'syncing', 'degraded')),
      reason TEXT,
      region_size INTEGER NOT NULL CHECK (region_size > 0),
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL)`);
    await q.query(`CREATE TABLE mirror_dirty (
      volume_id TEXT NOT NULL REFERENCES volumes(id),
      region INTEGER NOT NULL CHECK (region >= 0),
      PRIMARY KEY (volume_id, region)) WITHOUT ROWID`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE mirror_dirty`);
    await q.query(`DROP TABLE mirrors`);
    await q.query(`ALTER TABLE volumes DROP COLUMN mirror_of`);
    await q.query(`DROP TABLE jobs`);
  }
}
