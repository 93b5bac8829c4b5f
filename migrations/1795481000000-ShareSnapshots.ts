import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Share snapshots. A snapshot of a share is a snapshot volume of the
 * share's volume (role 'snapshot', origin_id = the share's volume) plus a
 * copy of the share's metadata database; this row ties the two to the share
 * and gives the snapshot the small number NFS file handles carry under
 * `/.snapshots/`. Numbers count up per share and are never reused, so a
 * handle into a deleted snapshot is STALE rather than another snapshot's.
 */
export class ShareSnapshots1795481000000 implements MigrationInterface {
  name = 'ShareSnapshots1795481000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE share_snapshots (
      volume_id TEXT PRIMARY KEY REFERENCES volumes(id),
      share_id TEXT NOT NULL REFERENCES shares(id),
      handle_id INTEGER NOT NULL CHECK (handle_id > 0),
      UNIQUE (share_id, handle_id))`);
    await q.query(`ALTER TABLE shares ADD COLUMN last_snapshot_handle INTEGER NOT NULL DEFAULT 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    const [n] = (await q.query(`SELECT COUNT(*) AS n FROM share_snapshots`)) as Array<{ n: number }>;
    if (n.n > 0) throw new Error('cannot undo share snapshots while share snapshots exist: delete them first');
    await q.query(`DROP TABLE share_snapshots`);
    await q.query(`ALTER TABLE shares DROP COLUMN last_snapshot_handle`);
  }
}
