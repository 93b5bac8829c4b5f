import * as fs from 'node:fs';
import { dirname, join } from 'node:path';
import { copyFileHashed, syncDirectory } from '../common/durable-files';

/**
 * Where a share's metadata databases live under the gateway's data dir: the
 * live one, and the copy each snapshot of it keeps. One place, so the NAS
 * and the backup jobs (which copy them in and out) agree.
 */
export const sharesDir = (dataDir: string) => join(dataDir, 'shares');

/** `<shares dir>/<share id>/meta.sqlite`: the database a share's filesystem opens. */
export const liveMetaPath = (sharesRoot: string, shareId: string) => join(sharesRoot, shareId, 'meta.sqlite');

/** `<shares dir>/<share id>/snapshots/<snapshot volume id>.sqlite`: a snapshot's copy. */
export const snapshotMetaPath = (sharesRoot: string, shareId: string, snapshotId: string) => join(sharesRoot, shareId, 'snapshots', `${snapshotId}.sqlite`);

/**
 * Make `from` (a snapshot's metadata copy) a share's live database, durably:
 * copied under another name, the old database's WAL and shared-memory files
 * removed (they belong to the database replaced), renamed into place. The
 * share's filesystem must be closed meanwhile (promote of a replica, rollback).
 */
export async function installLiveMetadata(sharesRoot: string, shareId: string, from: string): Promise<void> {
  const live = liveMetaPath(sharesRoot, shareId);
  await fs.promises.mkdir(dirname(live), { recursive: true, mode: 0o700 });
  const part = `${live}.install.part`;
  await copyFileHashed(from, part);
  await replaceLiveMetadata(part, live);
}

/** A durable, complete database file `next` becomes the live one (`live`), with the old one's WAL and shared memory gone. */
export async function replaceLiveMetadata(next: string, live: string): Promise<void> {
  for (const suffix of ['-wal', '-shm']) await fs.promises.rm(`${live}${suffix}`, { force: true });
  await fs.promises.rename(next, live);
  await syncDirectory(dirname(live));
}

