import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { dirname, join } from 'node:path';
import { copyFileHashed, syncDirectory } from '../common/durable-files';
import { Conflict } from '../common/errors';
import { installLiveMetadata, snapshotMetaPath } from '../nas/share-paths';
import type { FrozenShare } from './snapshot.service';

/** What a source sends does not fit this replica: the SAN target answers REPLICA_MISMATCH (docs/san-protocol.md, 10.1). */
export class ReplicaMismatch extends Conflict {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('REPLICA_MISMATCH', message, details);
  }
}

const STAGED_RE = /^cycle-(\d+)-from-(\d+)\.sqlite$/;

/**
 * The files of a share replica's metadata database on the target
 * (docs/replication.md, "Shares"): each cycle's database is assembled in
 * `<shares>/<share id>/replica/cycle-<n>-from-<base>.sqlite`, which starts as
 * a copy of cycle `base`'s database (empty for base 0) and takes the bytes
 * REPLICA_META brings; the commit checks its length and SHA-256 and moves it
 * in as the metadata of the snapshot `cycle-<n>`. Promote copies the last
 * one in as the share's live database.
 */
export class ReplicaMetadataFiles {
  constructor(private readonly sharesRoot: string) {}

  private dir(shareId: string): string {
    return join(this.sharesRoot, shareId, 'replica');
  }

  stagedPath(shareId: string, cycle: number, base: number): string {
    return join(this.dir(shareId), `cycle-${cycle}-from-${base}.sqlite`);
  }

  /**
   * The staged database for cycle `cycle` from `base`, made on first use from
   * `from` (the base cycle's metadata copy; null: empty). Whatever another
   * cycle or base left staged goes: only one cycle is ever in flight.
   */
  async begin(shareId: string, cycle: number, base: number, from: string | null): Promise<string> {
    const path = this.stagedPath(shareId, cycle, base);
    if (fs.existsSync(path)) return path;
    const dir = this.dir(shareId);
    await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
    for (const name of await fs.promises.readdir(dir)) await fs.promises.rm(join(dir, name), { force: true });
    // Made whole under another name first: a crash half way through the copy must not leave a wrong base behind.
    const part = `${path}.part`;
    if (from) {
      await copyFileHashed(from, part);
    } else {
      const fh = await fs.promises.open(part, 'w', 0o600);
      await fh.sync().finally(() => fh.close());
    }
    await fs.promises.rename(part, path);
    await syncDirectory(dir);
    return path;
  }

  /** REPLICA_META's bytes at `offset` of the staged database. */
  async write(path: string, offset: number, data: Buffer): Promise<void> {
    const fh = await fs.promises.open(path, 'r+');
    try {
      for (let done = 0; done < data.length; ) {
        const { bytesWritten } = await fh.write(data, done, data.length - done, offset + done);
        done += bytesWritten;
      }
    } finally {
      await fh.close();
    }
  }

  /**
   * The commit of cycle `cycle`: cut the staged database to `length`, make it
   * durable and check its SHA-256. A mismatch throws away the staged copy
   * (so the source's resend starts from a clean base) and is REPLICA_MISMATCH.
   */
  async finish(shareId: string, cycle: number, sum: { length: number; sha256: Buffer }): Promise<string> {
    const path = await this.staged(shareId, cycle);
    if (!path) throw new ReplicaMismatch(`no metadata database was received for cycle ${cycle} of this share replica: send it again (REPLICA_META) before the commit`, { cycle });
    const fh = await fs.promises.open(path, 'r+');
    const hash = createHash('sha256');
    try {
      await fh.truncate(sum.length);
      await fh.sync();
      const buf = Buffer.allocUnsafe(1 << 20);
      for (let at = 0; at < sum.length; ) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, sum.length - at), at);
        if (bytesRead === 0) break;
        hash.update(buf.subarray(0, bytesRead));
        at += bytesRead;
      }
    } finally {
      await fh.close();
    }
    const got = hash.digest();
    if (!got.equals(sum.sha256)) {
      await fs.promises.rm(path, { force: true });
      throw new ReplicaMismatch(
        `the metadata database received for cycle ${cycle} (${sum.length} bytes) has SHA-256 ${got.toString('hex').slice(0, 16)}…, the source's is ${sum.sha256.toString('hex').slice(0, 16)}…: its base differs from the source's; send it whole`,
        { cycle },
      );
    }
    return path;
  }

  /** The staged database of `cycle`, whatever its base, if there is one. */
  private async staged(shareId: string, cycle: number): Promise<string | null> {
    let names: string[];
    try {
      names = await fs.promises.readdir(this.dir(shareId));
    } catch {
      return null;
    }
    const name = names.find((n) => Number(STAGED_RE.exec(n)?.[1]) === cycle);
    return name ? join(this.dir(shareId), name) : null;
  }

  /** The staged database, checked, as the metadata copy of the snapshot being taken (SnapshotService.take). */
  adopt(shareId: string, staged: string): FrozenShare {
    return {
      copyMetadata: async (snapshotId) => {
        const dest = snapshotMetaPath(this.sharesRoot, shareId, snapshotId);
        await fs.promises.mkdir(dirname(dest), { recursive: true, mode: 0o700 });
        await fs.promises.rename(staged, dest);
        await syncDirectory(dirname(dest));
      },
      // The snapshot did not commit: put it back, so the commit sent again finds it.
      discard: (snapshotId) => {
        try {
          fs.renameSync(snapshotMetaPath(this.sharesRoot, shareId, snapshotId), staged);
        } catch {
          // Never moved.
        }
      },
      release: () => undefined,
    };
  }

  /** The metadata copy of a snapshot of the share (what promote installs). */
  snapshotCopy(shareId: string, snapshotId: string): string {
    return snapshotMetaPath(this.sharesRoot, shareId, snapshotId);
  }

  /** Promote: the snapshot's metadata copy becomes the share's live database, durably, before the share is served again. */
  installLive(shareId: string, from: string): Promise<void> {
    return installLiveMetadata(this.sharesRoot, shareId, from);
  }

  /** The replica was promoted or the share deleted: nothing staged is wanted any more. */
  async discard(shareId: string): Promise<void> {
    await fs.promises.rm(this.dir(shareId), { recursive: true, force: true });
  }
}
