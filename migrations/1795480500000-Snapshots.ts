import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Snapshots and clones. A snapshot is a read-only volume (role 'snapshot',
 * named `<volume>@<snapshot>`, origin_id = its volume) whose page map shares
 * pool pages with its origin; a clone is a block volume that started as a
 * snapshot's map. Disks sharing pages carry one family_id (NULL: the
 * volume's own id), so a page mapped by two families is still caught.
 * Sharing means a pool page may appear in several maps: the unique
 * (pool_id, pool_page) index becomes a plain one and the gateway counts
 * references in memory, rebuilt from the maps at every start.
 */
export class Snapshots1795480500000 implements MigrationInterface {
  name = 'Snapshots1795480500000';

  async up(q: QueryRunner): Promise<void> {
    // SQLite cannot alter a CHECK: rebuild volumes from its own stored definition, so columns other migrations added come along.
    // Each step is skipped when already done: down() leaves the widened CHECK and the new columns behind (see there).
    await rebuildVolumes(q, "CHECK (role IN ('block', 'share'))", "CHECK (role IN ('block', 'share', 'snapshot'))");
    const columns = ((await q.query(`PRAGMA table_info(volumes)`)) as Array<{ name: string }>).map((c) => c.name);
    if (!columns.includes('origin_id')) await q.query(`ALTER TABLE volumes ADD COLUMN origin_id TEXT REFERENCES volumes(id)`);
    if (!columns.includes('family_id')) await q.query(`ALTER TABLE volumes ADD COLUMN family_id TEXT`);
    await q.query(`CREATE INDEX IF NOT EXISTS volumes_origin ON volumes(origin_id)`);
    await q.query(`CREATE TABLE consistency_groups (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      created_at TEXT NOT NULL)`);
    await q.query(`CREATE TABLE consistency_group_members (
      group_id TEXT NOT NULL REFERENCES consistency_groups(id) ON DELETE CASCADE,
      volume_id TEXT NOT NULL REFERENCES volumes(id),
      PRIMARY KEY (group_id, volume_id))`);
    await q.query(`CREATE INDEX consistency_group_members_volume ON consistency_group_members(volume_id)`);
    // A schedule snapshots one volume or one consistency group every `every` `unit`s and keeps the last `keep` it took.
    await q.query(`CREATE TABLE snapshot_schedules (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      volume_id TEXT REFERENCES volumes(id),
      group_id TEXT REFERENCES consistency_groups(id),
      every INTEGER NOT NULL CHECK (every > 0),
      unit TEXT NOT NULL CHECK (unit IN ('minutes', 'hours', 'days')),
      keep INTEGER NOT NULL CHECK (keep > 0),
      next_run_at TEXT NOT NULL,
      last_run_at TEXT,
      last_error TEXT,
      created_at TEXT NOT NULL,
      CHECK ((volume_id IS NULL) <> (group_id IS NULL)))`);
    if (!columns.includes('schedule_id')) await q.query(`ALTER TABLE volumes ADD COLUMN schedule_id TEXT REFERENCES snapshot_schedules(id)`);
    await q.query(`DROP INDEX page_maps_pool_page`);
    await q.query(`CREATE INDEX page_maps_pool_page ON page_maps(pool_id, pool_page)`);
  }

  /**
   * Only without snapshots and shared pages. TypeORM undoes a migration with
   * foreign keys on, and SQLite can then neither rebuild volumes (its parent
   * rows would count as deleted) nor drop a column with a REFERENCES clause:
   * so the widened role CHECK and the (then all NULL) origin_id, family_id
   * and schedule_id columns stay, unused, and up() skips them next time.
   */
  async down(q: QueryRunner): Promise<void> {
    const shared = (await q.query(
      `SELECT COUNT(*) AS n FROM (SELECT 1 FROM page_maps GROUP BY pool_id, pool_page HAVING COUNT(*) > 1)`,
    )) as Array<{ n: number }>;
    const snapshots = (await q.query(`SELECT COUNT(*) AS n FROM volumes WHERE role = 'snapshot'`)) as Array<{ n: number }>;
    if (shared[0].n > 0 || snapshots[0].n > 0) {
      throw new Error('cannot undo snapshots while snapshots exist or clones share pages: delete them first');
    }
    await q.query(`DROP INDEX page_maps_pool_page`);
    await q.query(`CREATE UNIQUE INDEX page_maps_pool_page ON page_maps(pool_id, pool_page)`);
    await q.query(`UPDATE volumes SET family_id = NULL, origin_id = NULL, schedule_id = NULL`);
    await q.query(`DROP TABLE snapshot_schedules`);
    await q.query(`DROP TABLE consistency_group_members`);
    await q.query(`DROP TABLE consistency_groups`);
  }
}

/** The documented SQLite table rebuild (TypeORM turns foreign keys off around each migration). */
async function rebuildVolumes(q: QueryRunner, from: string, to: string): Promise<void> {
  const [table] = (await q.query(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'volumes'`)) as Array<{ sql: string }>;
  if (table.sql.includes(to)) return;
  if (!table.sql.includes(from)) throw new Error(`volumes table has no '${from}' to change`);
  const indexes = (await q.query(
    `SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'volumes' AND sql IS NOT NULL`,
  )) as Array<{ sql: string }>;
  const create = table.sql.replace(from, to).replace(/^CREATE TABLE\s+"?volumes"?/, 'CREATE TABLE volumes_rebuilt');
  await q.query(create);
  await q.query(`INSERT INTO volumes_rebuilt SELECT * FROM volumes`);
  await q.query(`DROP TABLE volumes`);
  await q.query(`ALTER TABLE volumes_rebuilt RENAME TO volumes`);
  for (const index of indexes) await q.query(index.sql);
  const broken = (await q.query(`PRAGMA foreign_key_check`)) as unknown[];
  if (broken.length > 0) throw new Error(`rebuilding volumes broke ${broken.length} foreign key(s)`);
}
