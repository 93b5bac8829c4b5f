import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ExportEntry } from './exports/export-table';
import { FileSystem, type BlockStore } from './fs';
import { liveMetaPath } from './share-paths';
import { WriteBehindStore } from './write-behind-store';

/** New shares start with a root directory root owns, like a fresh ext4 (clients create under it as root, or the admin chowns). */
const ROOT = { mode: 0o755, uid: 0, gid: 0 };

interface Mounted {
  fs: FileSystem;
  shareId: string;
  store: WriteBehindStore;
}

/**
 * The mounted filesystem of every share, by export id: metadata in
 * `<dataDir>/shares/<share id>/meta.sqlite`, data on the share's volume
 * through a write-behind store (UNSTABLE writes are answered while their
 * data lands; the engine's commits flush it first).
 * A share seen for the first time gets a fresh filesystem (mkfs); one that
 * cannot be mounted (its volume failed, its metadata is damaged) is left
 * out with the reason, and its clients get NFS3ERR_IO.
 */
export class ShareFileSystems {
  private readonly mounted = new Map<number, Mounted>();
  private readonly pending = new Map<number, Promise<void>>();
  private readonly problems = new Map<number, string>();

  constructor(
    private readonly dir: string,
    private readonly storeOf: (volumeId: string) => BlockStore | undefined,
    private readonly log: { warn(msg: string): void; error(msg: string): void },
  ) {}

  get(exportId: number): FileSystem | undefined {
    return this.mounted.get(exportId)?.fs;
  }

  /** Shares that could not be mounted, with the reason (for readiness and status). */
  failures(): Array<{ exportId: number; reason: string }> {
    return [...this.problems].map(([exportId, reason]) => ({ exportId, reason }));
  }

  metaPath(shareId: string): string {
    return liveMetaPath(this.dir, shareId);
  }

  /** Mount a share's filesystem, making it on first use. Concurrent calls share one attempt. */
  mount(entry: ExportEntry): Promise<void> {
    if (this.mounted.has(entry.exportId)) return Promise.resolve();
    let p = this.pending.get(entry.exportId);
    if (!p) {
      p = this.doMount(entry).finally(() => this.pending.delete(entry.exportId));
      this.pending.set(entry.exportId, p);
    }
    return p;
  }

  private async doMount(entry: ExportEntry): Promise<void> {
    const volume = this.storeOf(entry.volumeId);
    if (!volume) {
      this.fail(entry, `its volume ${entry.volumeId} is not online`);
      return;
    }
    const path = this.metaPath(entry.shareId);
    const store = new WriteBehindStore(volume);
    try {
      mkdirSync(join(this.dir, entry.shareId), { recursive: true, mode: 0o700 });
      const opts = { syncMetadata: entry.share.sync };
      const fs = existsSync(path) ? await FileSystem.open(path, store, opts) : await FileSystem.create(path, store, { ...opts, root: ROOT });
      this.mounted.set(entry.exportId, { fs, shareId: entry.shareId, store });
      this.problems.delete(entry.exportId);
    } catch (e) {
      this.fail(entry, (e as Error).message);
    }
  }

  private fail(entry: ExportEntry, reason: string): void {
    this.problems.set(entry.exportId, reason);
    this.log.error(`share '${entry.name}' cannot be served: ${reason}`);
  }

  /** Close and open a share's filesystem again (its volume grew); calls meanwhile are told to retry. */
  async remount(entry: ExportEntry): Promise<void> {
    await this.pending.get(entry.exportId);
    const m = this.mounted.get(entry.exportId);
    if (m) {
      const p = m.fs.close().then(
        () => this.doMount(entry),
        (e: Error) => this.fail(entry, `closing it to grow failed: ${e.message}`),
      );
      this.mounted.delete(entry.exportId);
      this.pending.set(entry.exportId, p.finally(() => this.pending.delete(entry.exportId)));
    }
    return this.mount(entry);
  }

  /**
   * Close a share's filesystem, run `fn` while it is closed (the volume and
   * the metadata are replaced under it: a rollback), and open it again;
   * calls meanwhile are told to retry. `fn` does not run if the close
   * fails; either error is thrown after the filesystem is opened again.
   */
  async swap(entry: ExportEntry, fn: () => Promise<void>): Promise<void> {
    await this.pending.get(entry.exportId);
    const m = this.mounted.get(entry.exportId);
    this.mounted.delete(entry.exportId);
    let failure: unknown = null;
    const p = (async () => {
      try {
        if (m) await m.fs.close().finally(() => m.store.stop());
        await fn();
      } catch (e) {
        failure = e;
      }
      await this.doMount(entry);
    })();
    this.pending.set(entry.exportId, p.finally(() => this.pending.delete(entry.exportId)));
    await p;
    if (failure) throw failure;
  }

  /** The share was switched between sync and async (exports(5)): takes effect on the mounted filesystem at once. */
  async applySync(entry: ExportEntry): Promise<void> {
    await this.pending.get(entry.exportId);
    await this.mounted.get(entry.exportId)?.fs.setSyncMetadata(entry.share.sync);
  }

  /** Resolves once a mount or remount in progress is done (at once when none is). */
  async settled(exportId: number): Promise<void> {
    await this.pending.get(exportId);
  }

  /** Whether the share's filesystem is being opened (or reopened) right now: callers should retry. */
  opening(exportId: number): boolean {
    return this.pending.has(exportId);
  }

  /**
   * A share is going away: stop serving it at once. Its volume is about to
   * be released, so nothing is flushed to it; the metadata goes with it.
   */
  async remove(entry: ExportEntry): Promise<void> {
    await this.pending.get(entry.exportId);
    const m = this.mounted.get(entry.exportId);
    this.mounted.delete(entry.exportId);
    this.problems.delete(entry.exportId);
    m?.fs.abort();
    // Writes still on their way settle before the volume goes; those not yet started are dropped.
    await m?.store.stop();
    this.removeMetadata(entry.shareId);
  }

  /**
   * A share stops being served but stays (it became a replica another
   * gateway writes): close its filesystem cleanly, keep its files.
   */
  async unmount(entry: ExportEntry): Promise<void> {
    await this.pending.get(entry.exportId);
    const m = this.mounted.get(entry.exportId);
    this.mounted.delete(entry.exportId);
    this.problems.delete(entry.exportId);
    if (!m) return;
    try {
      await m.fs.close();
    } catch (e) {
      this.log.error(`closing the filesystem of share '${entry.name}' failed: ${(e as Error).message}`);
    } finally {
      await m.store.stop();
    }
  }

  /** The metadata directory of a share (a share deleted while the gateway was down leaves one behind). */
  removeMetadata(shareId: string): void {
    rmSync(join(this.dir, shareId), { recursive: true, force: true });
  }

  /** Shutdown: flush and close every filesystem. */
  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.pending.values()]);
    const all = [...this.mounted.values()];
    this.mounted.clear();
    const results = await Promise.allSettled(all.map((m) => m.fs.close().finally(() => m.store.stop())));
    results.forEach((r, i) => {
      if (r.status === 'rejected') this.log.error(`closing the filesystem of share ${all[i].shareId} failed: ${(r.reason as Error).message}`);
    });
  }
}
