import { join } from 'node:path';

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
