import type { Directory } from './directory';
import type { ExtentMap } from './extent-map';
import { FileType, type Attr, type Timestamp, type WccAttr } from './fs-types';
import type { InodeRow } from './meta-db';

/**
 * Readers/writers of one file's data. Reads and writes share it; truncation
 * and freeing a removed file's blocks take it alone, so blocks are never
 * freed under an I/O that still addresses them.
 */
export class IoLock {
  private shared = 0;
  private exclusive = false;
  private readonly waiters: Array<{ exclusive: boolean; go: () => void }> = [];

  get idle(): boolean {
    return this.shared === 0 && !this.exclusive && this.waiters.length === 0;
  }

  /** Resolves at once (no extra turn) when free of a holder or waiting exclusive. */
  lockShared(): Promise<void> | undefined {
    if (!this.exclusive && this.waiters.length === 0) {
      this.shared++;
      return undefined;
    }
    return new Promise((go) => this.waiters.push({ exclusive: false, go }));
  }

  unlockShared(): void {
    this.shared--;
    this.wake();
  }

  lockExclusive(): Promise<void> {
    if (!this.exclusive && this.shared === 0 && this.waiters.length === 0) {
      this.exclusive = true;
      return Promise.resolve();
    }
    return new Promise((go) => this.waiters.push({ exclusive: true, go }));
  }

  unlockExclusive(): void {
    this.exclusive = false;
    this.wake();
  }

  private wake(): void {
    while (this.waiters.length > 0 && !this.exclusive) {
      const head = this.waiters[0];
      if (head.exclusive) {
        if (this.shared > 0) return;
        this.waiters.shift();
        this.exclusive = true;
        head.go();
        return;
      }
      this.waiters.shift();
      this.shared++;
      head.go();
    }
  }
}

/** An inode in memory: the row's fields plus what the engine keeps while it is cached. */
export class Inode {
  ino: number;
  gen: number;
  type: FileType;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  size: number;
  rdevMajor: number;
  rdevMinor: number;
  atimeS: number;
  atimeNs: number;
  mtimeS: number;
  mtimeNs: number;
  ctimeS: number;
  ctimeNs: number;
  change: number;
  /** Directories: the parent's inode ('..'); the root is its own parent. */
  parent: number;
  /** Directories: the cookie the next entry gets. */
  nextCookie: number;
  /** Set by an exclusive create. */
  verifier: Buffer | null;
  /** Symlinks: the target bytes. */
  target: Buffer | null;
  /**
   * Regular files without blocks: their first bytes, kept in the row (never empty; bytes past it up to
   * the size read as zeros). A COMMIT then needs no device flush, only the metadata commit.
   */
  inline: Buffer | null = null;
  /** Blocks as persisted; the extent map's count once loaded. */
  private storedBlocks: number;

  extents?: ExtentMap;
  dir?: Directory;
  /** NFSv4 opens: a held inode outlives its last link until released. */
  holds = 0;
  /** Removed: its handles are STALE. */
  dead = false;
  /** Its rows are deleted (by an op in the journal): never written again. */
  deleted = false;
  /** Changed since the last seal of the journal. */
  dirty = false;
  private ioLock?: IoLock;

  constructor(row: InodeRow) {
    this.ino = row.ino;
    this.gen = row.gen;
    this.type = row.type as FileType;
    this.mode = row.mode;
    this.nlink = row.nlink;
    this.uid = row.uid;
    this.gid = row.gid;
    this.size = row.size;
    this.storedBlocks = row.blocks;
    this.rdevMajor = row.rdev_major;
    this.rdevMinor = row.rdev_minor;
    this.atimeS = row.atime_s;
    this.atimeNs = row.atime_ns;
    this.mtimeS = row.mtime_s;
    this.mtimeNs = row.mtime_ns;
    this.ctimeS = row.ctime_s;
    this.ctimeNs = row.ctime_ns;
    this.change = row.change;
    this.parent = row.parent ?? 0;
    this.nextCookie = row.next_cookie ?? 0;
    this.verifier = row.verifier;
    // One column holds a symlink's target and a small file's inline data.
    if (this.type === FileType.REG) {
      this.target = null;
      this.inline = row.target && row.target.length > 0 ? row.target : null;
    } else {
      this.target = row.target;
    }
  }

  get blocks(): number {
    return this.extents ? this.extents.blocks : this.storedBlocks;
  }

  get lock(): IoLock {
    return (this.ioLock ??= new IoLock());
  }

  /** Nothing in memory that the database lacks, and nobody using it: safe to drop from the cache. */
  get evictable(): boolean {
    return !this.dirty && this.holds === 0 && (this.ioLock === undefined || this.ioLock.idle) && (this.extents === undefined || this.extents.dirtyFrom === Infinity);
  }

  setAtime(t: Timestamp): void {
    this.atimeS = t.sec;
    this.atimeNs = t.nsec;
  }

  setMtime(t: Timestamp): void {
    this.mtimeS = t.sec;
    this.mtimeNs = t.nsec;
  }

  setCtime(t: Timestamp): void {
    this.ctimeS = t.sec;
    this.ctimeNs = t.nsec;
  }

  wcc(): WccAttr {
    return { size: this.size, mtime: { sec: this.mtimeS, nsec: this.mtimeNs }, ctime: { sec: this.ctimeS, nsec: this.ctimeNs }, change: this.change };
  }

  attr(blockSize: number): Attr {
    return {
      type: this.type,
      mode: this.mode,
      nlink: this.nlink,
      uid: this.uid,
      gid: this.gid,
      size: this.size,
      used: this.type === FileType.DIR ? this.size : this.blocks * blockSize,
      rdev: { major: this.rdevMajor, minor: this.rdevMinor },
      ino: this.ino,
      gen: this.gen,
      atime: { sec: this.atimeS, nsec: this.atimeNs },
      mtime: { sec: this.mtimeS, nsec: this.mtimeNs },
      ctime: { sec: this.ctimeS, nsec: this.ctimeNs },
      change: this.change,
    };
  }

  row(): unknown[] {
    return [
      this.ino,
      this.gen,
      this.type,
      this.mode,
      this.nlink,
      this.uid,
      this.gid,
      this.size,
      // The row must agree with the extent rows as committed with it.
      this.extents ? this.extents.persistedBlocks : this.storedBlocks,
      this.rdevMajor,
      this.rdevMinor,
      this.atimeS,
      this.atimeNs,
      this.mtimeS,
      this.mtimeNs,
      this.ctimeS,
      this.ctimeNs,
      this.change,
      this.type === FileType.DIR ? this.parent : null,
      this.type === FileType.DIR ? this.nextCookie : null,
      this.verifier,
      this.type === FileType.REG ? this.inline : this.target,
    ];
  }
}

/**
 * A directory's reported size: a 4 KiB block per 128 entries, like a small
 * on-disk directory. Clients only use it as a hint.
 */
export function directorySize(entries: number): number {
  return 4096 * (1 + Math.floor(entries / 128));
}
