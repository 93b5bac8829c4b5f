import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSystem } from '../file-system';
import type { BlockStore, CreateOptions, Credential, FileSystemOptions } from '../fs-types';
import { CrashStore } from './crash-store';

export const ROOT: Credential = { uid: 0, gid: 0, gids: [] };
export const ALICE: Credential = { uid: 1000, gid: 1000, gids: [1000] };
export const BOB: Credential = { uid: 1001, gid: 1001, gids: [100] };
/** In ALICE's group through a supplementary gid. */
export const CAROL: Credential = { uid: 1002, gid: 1002, gids: [1000] };

export interface Fixture {
  fs: FileSystem;
  store: BlockStore;
  metaPath: string;
  dir: string;
  /** Close and open again on the same database and store. */
  remount(opts?: FileSystemOptions): Promise<FileSystem>;
  cleanup(): Promise<void>;
}

/** A fresh filesystem in a temporary directory; root directory 0777 owned by root unless told. */
export async function makeFs(opts: Partial<CreateOptions> & { store?: BlockStore; storeSize?: number } = {}): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-fs-'));
  const metaPath = join(dir, 'meta.db');
  const store = opts.store ?? new CrashStore(opts.storeSize ?? 64 * 1024 * 1024);
  const fx: Fixture = {
    fs: await FileSystem.create(metaPath, store, { commitIntervalMs: 0, root: { mode: 0o777, uid: 0, gid: 0 }, ...opts }),
    store,
    metaPath,
    dir,
    async remount(more?: FileSystemOptions) {
      await fx.fs.close();
      fx.fs = await FileSystem.open(metaPath, fx.store, { commitIntervalMs: 0, ...more });
      return fx.fs;
    },
    async cleanup() {
      try {
        await fx.fs.close();
      } catch {
        // already closed or aborted
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return fx;
}
