import { MigrationInterface, QueryRunner } from 'typeorm';

/** The first catalog: devices, extents, pools, volumes and their page maps, hosts, assignments, admins, tokens, audit. */
export class InitialCatalog1763900000000 implements MigrationInterface {
  name = 'InitialCatalog1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE devices (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      kind TEXT NOT NULL CHECK (kind IN ('file', 'block', 'ram')),
      path TEXT,
      size INTEGER NOT NULL CHECK (size > 0),
      sector_size INTEGER NOT NULL,
      created_at TEXT NOT NULL)`);
    await q.query(`CREATE TABLE pools (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      layout TEXT NOT NULL CHECK (layout IN ('concat', 'raid0', 'raid1', 'raid10')),
      page_size INTEGER NOT NULL,
      stripe_unit INTEGER NOT NULL,
      created_at TEXT NOT NULL)`);
    await q.query(`CREATE TABLE extents (
      id TEXT PRIMARY KEY,
      device_id TEXT NOT NULL REFERENCES devices(id),
      pool_id TEXT NOT NULL REFERENCES pools(id),
      position INTEGER NOT NULL,
      offset INTEGER NOT NULL CHECK (offset >= 0),
      length INTEGER NOT NULL CHECK (length > 0),
      created_at TEXT NOT NULL,
      UNIQUE (pool_id, position))`);
    await q.query(`CREATE INDEX extents_device ON extents(device_id)`);
    await q.query(`CREATE TABLE volumes (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      pool_id TEXT NOT NULL REFERENCES pools(id),
      size INTEGER NOT NULL CHECK (size > 0),
      provisioning TEXT NOT NULL CHECK (provisioning IN ('thin', 'thick')),
      serial TEXT NOT NULL UNIQUE,
      state TEXT NOT NULL CHECK (state IN ('online', 'deleting')),
      created_at TEXT NOT NULL)`);
    // One row per allocated page. The unique (pool_id, pool_page) index makes a
    // double allocation impossible to commit, whatever the allocator believes.
    await q.query(`CREATE TABLE page_maps (
      volume_id TEXT NOT NULL REFERENCES volumes(id),
      logical_page INTEGER NOT NULL,
      pool_id TEXT NOT NULL REFERENCES pools(id),
      pool_page INTEGER NOT NULL,
      PRIMARY KEY (volume_id, logical_page)) WITHOUT ROWID`);
    await q.query(`CREATE UNIQUE INDEX page_maps_pool_page ON page_maps(pool_id, pool_page)`);
    await q.query(`CREATE TABLE hosts (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      public_key TEXT NOT NULL,
      key_fingerprint TEXT NOT NULL UNIQUE,
      description TEXT,
      created_at TEXT NOT NULL)`);
    await q.query(`CREATE TABLE assignments (
      id TEXT PRIMARY KEY,
      host_id TEXT NOT NULL REFERENCES hosts(id),
      volume_id TEXT NOT NULL REFERENCES volumes(id),
      access TEXT NOT NULL CHECK (access IN ('rw', 'ro')),
      sharing TEXT NOT NULL CHECK (sharing IN ('exclusive', 'shared')),
      created_at TEXT NOT NULL)`);
    await q.query(`CREATE UNIQUE INDEX "IDX_assignments_host_volume" ON assignments(host_id, volume_id)`);
    await q.query(`CREATE INDEX assignments_volume ON assignments(volume_id)`);
    await q.query(`CREATE TABLE admin_users (
      id TEXT PRIMARY KEY,
      username TEXT NOT NULL UNIQUE,
      password_hash TEXT NOT NULL,
      created_at TEXT NOT NULL,
      last_login_at TEXT)`);
    await q.query(`CREATE TABLE api_tokens (
      id TEXT PRIMARY KEY,
      token_hash TEXT NOT NULL UNIQUE,
      user_id TEXT NOT NULL REFERENCES admin_users(id) ON DELETE CASCADE,
      created_at TEXT NOT NULL,
      expires_at TEXT NOT NULL,
      source TEXT)`);
    await q.query(`CREATE TABLE audit_log (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      at TEXT NOT NULL,
      actor TEXT NOT NULL,
      source TEXT,
      action TEXT NOT NULL,
      object_type TEXT,
      object_id TEXT,
      object_name TEXT,
      outcome TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
      error_code TEXT,
      detail TEXT)`);
    await q.query(`CREATE INDEX audit_at ON audit_log(at)`);
    await q.query(`CREATE INDEX audit_actor ON audit_log(actor, at)`);
    await q.query(`CREATE INDEX audit_object ON audit_log(object_type, object_id)`);
    // Small facts about the gateway itself, e.g. that first-start set-up is done.
    await q.query(`CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['settings', 'audit_log', 'api_tokens', 'admin_users', 'assignments', 'hosts', 'page_maps', 'volumes', 'extents', 'pools', 'devices']) {
      await q.query(`DROP TABLE ${table}`);
    }
  }
}
