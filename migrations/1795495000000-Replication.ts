import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Asynchronous replication (docs/replication.md). On a source gateway a
 * replication copies one volume to a volume on another gateway in cycles;
 * on a target gateway a replica is a volume written only by the source's
 * host, with the last committed cycle kept as a snapshot.
 */
export class Replication1795495000000 implements MigrationInterface {
  name = 'Replication1795495000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE replications (
      id TEXT PRIMARY KEY,
      volume_id TEXT NOT NULL UNIQUE REFERENCES volumes(id),
      target_address TEXT NOT NULL,
      target_volume TEXT NOT NULL,
      host_name TEXT NOT NULL,
      every_seconds INTEGER CHECK (every_seconds IS NULL OR every_seconds > 0),
      rate_limit INTEGER NOT NULL DEFAULT 0 CHECK (rate_limit >= 0),
      last_cycle INTEGER NOT NULL DEFAULT 0,
      last_good_at TEXT,
      last_point_at TEXT,
      bytes_sent INTEGER NOT NULL DEFAULT 0,
      last_error TEXT,
      next_run_at TEXT,
      created_at TEXT NOT NULL)`);
    // A replica: written by one host (the source gateway's key), snapshotted at each cycle it commits.
    // No foreign key to hosts: removing that host leaves a replica that can still be promoted.
    await q.query(`CREATE TABLE replicas (
      volume_id TEXT PRIMARY KEY REFERENCES volumes(id),
      host_id TEXT NOT NULL,
      last_cycle INTEGER NOT NULL DEFAULT 0,
      last_commit_at TEXT,
      created_at TEXT NOT NULL)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE replicas`);
    await q.query(`DROP TABLE replications`);
  }
}
