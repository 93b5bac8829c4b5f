import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ShareSnapshotRef } from '../../storage/domain';
import { FileSystem, type BlockStore } from '../fs';
import { fsError } from '../fs/fs-error';
import { snapshotMetaPath } from '../share-paths';

/** A snapshot nobody has read for this long is closed (its metadata database and caches go). */
export const SNAPSHOT_IDLE_MS = 5 * 60_000;

interface Open {
  fs: FileSystem;
  used: number;
}

/**
 * The read-only filesystems of share snapshots: each is its metadata copy,
 * `<shares dir>/<share id>/snapshots/<snapshot volume id>.sqlite`, over its
 * snapshot volume. Opened on the first NFS call that reaches it, closed
 * when idle and when the snapshot is deleted.
 */
export class SnapshotMounts {
  private readonly mounted = new Map<string, Open>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly dir: string,
    private readonly storeOf: (volumeId: string) => BlockStore | undefined,
    private readonly opts: { idleMs?: number; now?: () => number } = {},
  ) {
    const idle = opts.idleMs ?? SNAPSHOT_IDLE_MS;
    this.timer = setInterval(() => this.sweep(), Math.max(1000, idle / 2));
    this.timer.unref();
  }

  /** Where a snapshot's metadata copy lives. */
  metaPath(shareId: string, snapshotId: string): string {
    return snapshotMetaPath(this.dir, shareId, snapshotId);
  }

  /** Make the directory a share's copies go to. */
  prepare(shareId: string): void {
    mkdirSync(join(this.dir, shareId, 'snapshots'), { recursive: true, mode: 0o700 });
  }

  get size(): number {
    return this.mounted.size;
  }

  /** The snapshot's filesystem, opening it if needed (synchronously: a read-only open writes nothing). */
  open(shareId: string, ref: ShareSnapshotRef): FileSystem {
    const now = this.now();
    const known = this.mounted.get(ref.volumeId);
    if (known) {
      known.used = now;
      return known.fs;
    }
    const store = this.storeOf(ref.volumeId) ?? fail(`the volume of snapshot '${ref.name}' is not online`);
    const fs = FileSystem.openReadOnly(this.metaPath(shareId, ref.volumeId), store);
    this.mounted.set(ref.volumeId, { fs, used: now });
    return fs;
  }

  /** Close a snapshot's filesystem if open (it opens again on the next call). */
  close(snapshotId: string): void {
    const m = this.mounted.get(snapshotId);
    this.mounted.delete(snapshotId);
    // Read-only: nothing to commit, so closing at once loses nothing.
    m?.fs.abort();
  }

  /** The snapshot is deleted: close it and remove its metadata copy. */
  drop(shareId: string, snapshotId: string): void {
    this.close(snapshotId);
    rmSync(this.metaPath(shareId, snapshotId), { force: true });
  }

  /** Close every snapshot of a share (it is going away; its directory goes with it). */
  closeShare(snapshotIds: Iterable<string>): void {
    for (const id of snapshotIds) this.close(id);
  }

  /** Metadata copies no snapshot owns any more (a crash between the copy and the catalog commit, or after the delete). */
  removeLeftovers(shareId: string, keep: readonly ShareSnapshotRef[]): string[] {
    let names: string[];
    try {
      names = readdirSync(join(this.dir, shareId, 'snapshots'));
    } catch {
      return [];
    }
    const wanted = new Set(keep.map((s) => `${s.volumeId}.sqlite`));
    const gone = names.filter((n) => !wanted.has(n));
    for (const n of gone) rmSync(join(this.dir, shareId, 'snapshots', n), { force: true });
    return gone;
  }

  /** Close the snapshots nobody used for the idle time. */
  sweep(): void {
    const limit = this.now() - (this.opts.idleMs ?? SNAPSHOT_IDLE_MS);
    for (const [id, m] of this.mounted) if (m.used <= limit) this.close(id);
  }

  closeAll(): void {
    clearInterval(this.timer);
    for (const id of [...this.mounted.keys()]) this.close(id);
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }
}

function fail(message: string): never {
  throw fsError('IO', message);
}
