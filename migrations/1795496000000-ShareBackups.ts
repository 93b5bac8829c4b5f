import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Backups of shares: a backup row says whether its source is a block volume
 * or a share (then share_id, and metadata_location: the file holding its
 * copy of the share's metadata database). A share being filled by a restore
 * job carries the backup's id in restoring_from and is not served until the
 * job clears it.
 */
export class ShareBackups1795496000000 implements MigrationInterface {
  name = 'ShareBackups1795496000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE backups ADD COLUMN source_type TEXT NOT NULL DEFAULT 'volume' CHECK (source_type IN ('volume', 'share'))`);
    await q.query(`ALTER TABLE backups ADD COLUMN share_id TEXT CHECK ((source_type = 'share') = (share_id IS NOT NULL))`);
    await q.query(`ALTER TABLE backups ADD COLUMN metadata_location TEXT`);
    await q.query(`ALTER TABLE shares ADD COLUMN restoring_from TEXT`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE shares DROP COLUMN restoring_from`);
    await q.query(`ALTER TABLE backups DROP COLUMN metadata_location`);
    await q.query(`ALTER TABLE backups DROP COLUMN share_id`);
    await q.query(`ALTER TABLE backups DROP COLUMN source_type`);
  }
}
