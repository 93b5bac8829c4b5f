import Database from 'better-sqlite3';
import { closeSync, fsyncSync, openSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fsError } from './fs-error';

type Db = Database.Database;

/**
 * Forward migrations, applied in order inside one transaction at open. A
 * database newer than the code is refused rather than misread.
 */
const MIGRATIONS: Array<{ version: number; up: (db: Db) => void; readerCompatible?: boolean }> = [
  {
    version: 1,
    up(db) {
      db.exec(`
        CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
        CREATE TABLE inodes (
          ino INTEGER PRIMARY KEY,
          gen INTEGER NOT NULL,
          type INTEGER NOT NULL,
          mode INTEGER NOT NULL,
          nlink INTEGER NOT NULL,
          uid INTEGER NOT NULL,
          gid INTEGER NOT NULL,
          size INTEGER NOT NULL,
          blocks INTEGER NOT NULL,
          rdev_major INTEGER NOT NULL,
          rdev_minor INTEGER NOT NULL,
          atime_s INTEGER NOT NULL, atime_ns INTEGER NOT NULL,
          mtime_s INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
          ctime_s INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,
          change INTEGER NOT NULL,
          parent INTEGER,
          next_cookie INTEGER,
          verifier BLOB,
          target BLOB
        );
        CREATE TABLE dirents (
          dir INTEGER NOT NULL,
          name TEXT NOT NULL,
          ino INTEGER NOT NULL,
          cookie INTEGER NOT NULL,
          PRIMARY KEY (dir, name)
        ) WITHOUT ROWID;
        CREATE INDEX dirents_by_cookie ON dirents (dir, cookie);
        CREATE TABLE extents (
          ino INTEGER NOT NULL,
          fblock INTEGER NOT NULL,
          dblock INTEGER NOT NULL,
          count INTEGER NOT NULL,
          PRIMARY KEY (ino, fblock)
        ) WITHOUT ROWID;
        CREATE TABLE orphans (ino INTEGER PRIMARY KEY);
      `);
    },
  },
  {
    // Runs freed by a committed batch whose whole free pages may still await their discard: redone at mount.
    version: 2,
    up(db) {
      db.exec('CREATE TABLE pending_discards (seq INTEGER NOT NULL, start INTEGER NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (seq, start)) WITHOUT ROWID');
    },
  },
  {
    // Inline data: a small regular file may keep its bytes in its row's `target` column instead of blocks.
    // No table changes: the version only keeps older code from reading such a file as zeros. A database from
    // before it has no inline files, so it still opens read-only (a snapshot's copy) without migrating.
    version: 3,
    up() {},
    readerCompatible: true,
  },
];

/**
 * Indexes version 1 made that nothing needs, dropped at every read-write open. Not a migration: the
 * schema does not change for older code, which reads the same without them (a release can still be
 * rolled back). dirents_by_cookie: nothing reads entries in cookie order from the database (a
 * Directory sorts its rows when it loads them; fsck sorts within each directory), and it cost every
 * create and remove one more page in its metadata commit (a synced create 249-259 against 311-323 µs
 * mean, measured alone).
 */
const UNUSED_INDEXES = ['dirents_by_cookie'];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** The columns of an inode row, in table order. */
export interface InodeRow {
  ino: number;
  gen: number;
  type: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  size: number;
  blocks: number;
  rdev_major: number;
  rdev_minor: number;
  atime_s: number;
  atime_ns: number;
  mtime_s: number;
  mtime_ns: number;
  ctime_s: number;
  ctime_ns: number;
  change: number;
  parent: number | null;
  next_cookie: number | null;
  verifier: Buffer | null;
  /** Symlinks: the target; regular files: their inline data, if any (schema version 3). */
  target: Buffer | null;
}

export interface DirentRow {
  name: string;
  ino: number;
  cookie: number;
}

export interface ExtentRow {
  fblock: number;
  dblock: number;
  count: number;
}

export function openDatabase(path: string, opts: { readOnly: boolean; create: boolean }): Db {
  let db: Db;
  try {
    db = new Database(path, { readonly: opts.readOnly, fileMustExist: !opts.create });
  } catch (err) {
    throw fsError('IO', `cannot open filesystem metadata '${path}': ${(err as Error).message}`, err);
  }
  try {
    if (!opts.readOnly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
    }
    db.pragma('foreign_keys = OFF');
    migrate(db, opts.readOnly);
    if (!opts.readOnly) for (const index of UNUSED_INDEXES) db.exec(`DROP INDEX IF EXISTS ${index}`);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/**
 * A snapshot's copy of the metadata: `VACUUM INTO` a file of its own (one
 * consistent read of the committed state), then in the copy drop what only
 * a mounted filesystem needs (orphans: removed files still open, which no
 * name reaches; discards still to do), leave WAL mode so a read-only open
 * needs no -shm file, and fsync the file and its directory.
 */
export function copySnapshotDatabase(db: Db, dest: string): void {
  // VACUUM INTO refuses a file that exists: a leftover of a failed attempt goes.
  rmSync(dest, { force: true });
  db.prepare('VACUUM INTO ?').run(dest);
  const copy = new Database(dest, { fileMustExist: true });
  try {
    copy.pragma('journal_mode = DELETE');
    copy.pragma('synchronous = FULL');
    copy.transaction(() =>
      copy.exec(`
        DELETE FROM extents WHERE ino IN (SELECT ino FROM orphans);
        DELETE FROM dirents WHERE dir IN (SELECT ino FROM orphans);
        DELETE FROM inodes WHERE ino IN (SELECT ino FROM orphans);
        DELETE FROM orphans;
        DELETE FROM pending_discards;
      `),
    )();
  } finally {
    copy.close();
  }
  fsyncPath(dest);
  fsyncPath(dirname(dest));
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function migrate(db: Db, readOnly: boolean): void {
  const hasTable = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'`).get();
  let version = 0;
  if (hasTable) {
    const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
    version = row?.version ?? 0;
  }
  if (version > SCHEMA_VERSION) {
    throw fsError('INVAL', `filesystem metadata has schema version ${version}, this code knows up to ${SCHEMA_VERSION}`);
  }
  if (version === SCHEMA_VERSION) return;
  if (readOnly && MIGRATIONS.every((m) => m.version <= version || m.readerCompatible)) return;
  if (readOnly) throw fsError('ROFS', `filesystem metadata needs migration to version ${SCHEMA_VERSION} but is opened read-only`);
  db.transaction(() => {
    if (!hasTable) db.exec('CREATE TABLE schema_version (version INTEGER NOT NULL)');
    for (const m of MIGRATIONS) if (m.version > version) m.up(db);
    db.prepare('DELETE FROM schema_version').run();
    db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(SCHEMA_VERSION);
  })();
}

/** Prepared statements, made once per open. */
export class MetaStatements {
  readonly getInode: Database.Statement<[number], InodeRow>;
  readonly putInode: Database.Statement<unknown[]>;
  readonly deleteInode: Database.Statement<[number]>;
  readonly listDir: Database.Statement<[number], DirentRow>;
  readonly putDirent: Database.Statement<[number, string, number, number]>;
  readonly deleteDirent: Database.Statement<[number, string]>;
  readonly listExtents: Database.Statement<[number], ExtentRow>;
  readonly putExtent: Database.Statement<[number, number, number, number]>;
  readonly deleteExtentsFrom: Database.Statement<[number, number]>;
  readonly putOrphan: Database.Statement<[number]>;
  readonly deleteOrphan: Database.Statement<[number]>;
  readonly putPendingDiscard: Database.Statement<[number, number, number]>;
  readonly deletePendingDiscards: Database.Statement<[number]>;
  readonly getMeta: Database.Statement<[string], { value: unknown }>;
  readonly putMeta: Database.Statement<[string, unknown]>;

  constructor(readonly db: Db) {
    this.getInode = db.prepare('SELECT * FROM inodes WHERE ino = ?');
    this.putInode = db.prepare(`INSERT OR REPLACE INTO inodes VALUES (${new Array(22).fill('?').join(', ')})`);
    this.deleteInode = db.prepare('DELETE FROM inodes WHERE ino = ?');
    // In key order (dir, name): Directory puts them in cookie order itself.
    this.listDir = db.prepare('SELECT name, ino, cookie FROM dirents WHERE dir = ?');
    this.putDirent = db.prepare('INSERT OR REPLACE INTO dirents (dir, name, ino, cookie) VALUES (?, ?, ?, ?)');
    this.deleteDirent = db.prepare('DELETE FROM dirents WHERE dir = ? AND name = ?');
    this.listExtents = db.prepare('SELECT fblock, dblock, count FROM extents WHERE ino = ? ORDER BY fblock');
    this.putExtent = db.prepare('INSERT INTO extents (ino, fblock, dblock, count) VALUES (?, ?, ?, ?)');
    this.deleteExtentsFrom = db.prepare('DELETE FROM extents WHERE ino = ? AND fblock >= ?');
    this.putOrphan = db.prepare('INSERT OR IGNORE INTO orphans (ino) VALUES (?)');
    this.deleteOrphan = db.prepare('DELETE FROM orphans WHERE ino = ?');
    this.putPendingDiscard = db.prepare('INSERT OR REPLACE INTO pending_discards (seq, start, count) VALUES (?, ?, ?)');
    this.deletePendingDiscards = db.prepare('DELETE FROM pending_discards WHERE seq = ?');
    this.getMeta = db.prepare('SELECT value FROM meta WHERE key = ?');
    this.putMeta = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
  }

  meta(key: string): unknown {
    return this.getMeta.get(key)?.value;
  }

  metaNumber(key: string): number {
    const v = this.meta(key);
    if (typeof v !== 'number') throw fsError('IO', `filesystem metadata lacks '${key}'`);
    return v;
  }
}
