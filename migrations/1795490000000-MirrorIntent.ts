import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A mirror's write-intent log: regions with mirrored writes in flight (or
 * written and not yet flushed on both sides). After a crash these are the
 * regions where the two copies may differ; a clean stop leaves it empty.
 */
export class MirrorIntent1795490000000 implements MigrationInterface {
  name = 'MirrorIntent1795490000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE mirror_intent (
      volume_id TEXT NOT NULL REFERENCES mirrors(volume_id) ON DELETE CASCADE,
      region INTEGER NOT NULL CHECK (region >= 0),
      PRIMARY KEY (volume_id, region)) WITHOUT ROWID`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE mirror_intent`);
  }
}
