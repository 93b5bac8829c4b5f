import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A mirror member taken out of service stays out across restarts: its copy
 * missed writes, and only a resync may bring it back.
 */
export class ExtentState1763910000000 implements MigrationInterface {
  name = 'ExtentState1763910000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE extents ADD COLUMN state TEXT NOT NULL DEFAULT 'online' CHECK (state IN ('online', 'failed'))`);
    await q.query(`ALTER TABLE extents ADD COLUMN state_reason TEXT`);
    await q.query(`ALTER TABLE extents ADD COLUMN failed_at TEXT`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE extents DROP COLUMN failed_at`);
    await q.query(`ALTER TABLE extents DROP COLUMN state_reason`);
    await q.query(`ALTER TABLE extents DROP COLUMN state`);
  }
}
