import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A share's metadata durability, as in Linux's exports(5) sync/async:
 * 1 (the default) commits namespace and attribute changes before the reply;
 * 0 acknowledges them first and commits within a second.
 */
export class ShareSync1795475000000 implements MigrationInterface {
  name = 'ShareSync1795475000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE shares ADD COLUMN sync INTEGER NOT NULL DEFAULT 1 CHECK (sync IN (0, 1))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE shares DROP COLUMN sync`);
  }
}
