import type Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource } from 'typeorm';
import { InitialCatalog1763900000000 } from '../../migrations/1763900000000-InitialCatalog';
import { ExtentState1763910000000 } from '../../migrations/1763910000000-ExtentState';
import { AdminSshKeys1795450992296 } from '../../migrations/1795450992296-AdminSshKeys';
import { VolumeNbdExport1795460000000 } from '../../migrations/1795460000000-VolumeNbdExport';
import { Shares1795470000000 } from '../../migrations/1795470000000-Shares';
import { ShareSync1795475000000 } from '../../migrations/1795475000000-ShareSync';
import { JobsAndMirrors1795480000000 } from '../../migrations/1795480000000-JobsAndMirrors';
import { Snapshots1795480500000 } from '../../migrations/1795480500000-Snapshots';
import { ShareSnapshots1795481000000 } from '../../migrations/1795481000000-ShareSnapshots';
import { MirrorIntent1795490000000 } from '../../migrations/1795490000000-MirrorIntent';
import { Backups1795491000000 } from '../../migrations/1795491000000-Backups';
import { Replication1795495000000 } from '../../migrations/1795495000000-Replication';
import { ShareBackups1795496000000 } from '../../migrations/1795496000000-ShareBackups';
import { HostSecurity1795500000000 } from '../../migrations/1795500000000-HostSecurity';
import { CATALOG_ENTITIES } from './entities';

export const CATALOG_MIGRATIONS = [
  InitialCatalog1763900000000,
  ExtentState1763910000000,
  AdminSshKeys1795450992296,
  VolumeNbdExport1795460000000,
  Shares1795470000000,
  ShareSync1795475000000,
  JobsAndMirrors1795480000000,
  Snapshots1795480500000,
  ShareSnapshots1795481000000,
  MirrorIntent1795490000000,
  Backups1795491000000,
  Replication1795495000000,
  ShareBackups1795496000000,
  HostSecurity1795500000000,
];

/**
 * The SQLite catalog: WAL, foreign keys, and synchronous=FULL so a committed
 * page allocation survives power loss, not only a crash of the process.
 */
export function createCatalogDataSource(file: string): DataSource {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  return new DataSource({
    type: 'better-sqlite3',
    database: file,
    entities: CATALOG_ENTITIES,
    migrations: CATALOG_MIGRATIONS,
    migrationsRun: false,
    synchronize: false,
    enableWAL: true,
    timeout: 5000,
    prepareDatabase: (db: { pragma(s: string): unknown }) => {
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
    },
  });
}

/** Open the catalog and bring its schema up to date. */
export async function openCatalog(file: string): Promise<DataSource> {
  const ds = createCatalogDataSource(file);
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  return ds;
}

/** The better-sqlite3 database under TypeORM, for statements TypeORM does not make (the group commit's, the specs'). */
export type SqliteHandle = Database.Database;

export function sqliteHandle(ds: DataSource): SqliteHandle {
  return (ds.driver as unknown as { databaseConnection: SqliteHandle }).databaseConnection;
}
