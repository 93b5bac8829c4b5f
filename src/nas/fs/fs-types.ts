/**
 * The filesystem engine's public types. The NFSv3 and NFSv4.1 handlers speak
 * these; nothing here knows about XDR.
 */

/**
 * Where file data lives: the share's thin logical disk in production
 * (`LogicalDisk` fits as is), a RAM or crash-simulating store in tests.
 */
export interface BlockStore {
  readonly size: number;
  /** Discard granularity: freed space is discarded in whole pages so they go back to the pool. Default 1 MiB. */
  readonly pageSize?: number;
  readInto(offset: number, target: Buffer): Promise<void>;
  write(offset: number, data: Buffer, opts?: { fua?: boolean }): Promise<void>;
  flush(): Promise<void>;
  discard(offset: number, length: number): Promise<void>;
  writeZeroes?(offset: number, length: number): Promise<void>;
}

/** The caller, already squashed by the export rules. uid 0 is root. */
export interface Credential {
  uid: number;
  gid: number;
  /** Supplementary groups (AUTH_SYS gids). */
  gids: readonly number[];
}

/** An object as handles name it: the inode number and the generation it had when the handle was made. */
export interface NodeId {
  ino: number;
  gen: number;
  /**
   * Which view of the share the object is in: absent or 0 the live
   * filesystem, else a snapshot (or `/.snapshots` itself). The engine
   * ignores it; the NAS snapshot view sets it and file handles carry it.
   */
  snap?: number;
}

export interface Timestamp {
  sec: number;
  nsec: number;
}

/** Same numbers as NFSv3 ftype3 and NFSv4 nfs_ftype4. */
export const enum FileType {
  REG = 1,
  DIR = 2,
  BLK = 3,
  CHR = 4,
  LNK = 5,
  SOCK = 6,
  FIFO = 7,
}

export interface Attr {
  type: FileType;
  /** Permission bits and setuid/setgid/sticky: 12 bits. */
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  size: number;
  /** Bytes allocated on the data store. */
  used: number;
  rdev: { major: number; minor: number };
  /** The fileid: the inode number. */
  ino: number;
  gen: number;
  atime: Timestamp;
  mtime: Timestamp;
  ctime: Timestamp;
  /** NFSv4 change attribute: grows on every data or metadata change, also across crashes and remounts. */
  change: number;
  /** The view the object is in (see NodeId.snap): each is a filesystem of its own to clients (its own fsid). */
  snap?: number;
}

/** NFSv3 wcc_attr, plus the change attribute NFSv4's change_info4 needs: the object before the operation. */
export interface WccAttr {
  size: number;
  mtime: Timestamp;
  ctime: Timestamp;
  /** Always set in the engine's answers (optional so callers may build a WccAttr from an Attr's three fields). */
  change?: number;
}

/** Weak cache consistency data for an object an operation changed. */
export interface Wcc {
  before: WccAttr;
  after: Attr;
}

/** 'server' is NFSv3 SET_TO_SERVER_TIME (NFSv4 SET_TO_SERVER_TIME4). */
export type TimeSet = 'server' | Timestamp;

export interface SetAttrs {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  atime?: TimeSet;
  mtime?: TimeSet;
}

export type StableHow = 'unstable' | 'data_sync' | 'file_sync';

export type CreateHow =
  | { mode: 'unchecked'; attrs?: SetAttrs }
  | { mode: 'guarded'; attrs?: SetAttrs }
  /**
   * NFSv3 EXCLUSIVE (attrs absent) and NFSv4.1 EXCLUSIVE4_1 (attrs given):
   * the 8-byte verifier is stored with the file, so a retransmitted create
   * with the same verifier finds the file and succeeds.
   */
  | { mode: 'exclusive'; verifier: Buffer; attrs?: SetAttrs };

/** ACCESS3_* / ACCESS4_* bits (same values in both versions). */
export const ACCESS_READ = 0x01;
export const ACCESS_LOOKUP = 0x02;
export const ACCESS_MODIFY = 0x04;
export const ACCESS_EXTEND = 0x08;
export const ACCESS_DELETE = 0x10;
export const ACCESS_EXECUTE = 0x20;
export const ACCESS_ALL = 0x3f;

export interface DirEntry {
  name: string;
  /** Stable while the entry exists; resume a listing after it. '.' is 1, '..' is 2, others from 3 up. */
  cookie: number;
  node: NodeId;
  type: FileType;
}

export interface ReaddirOptions {
  /** Include '.' and '..' (NFSv3 does, NFSv4 must not). Default true. */
  dots?: boolean;
  /** Stop after this many entries. */
  maxEntries?: number;
  /**
   * Called before an entry is added; return false to stop without it (the
   * NFS layer budgets reply bytes here). The listing then has eof false.
   */
  accept?: (entry: DirEntry) => boolean;
}

export interface ReaddirResult {
  entries: DirEntry[];
  eof: boolean;
  /** The directory's cookie verifier, 8 bytes. */
  verifier: Buffer;
  dir: Attr;
}

export interface FsStat {
  totalBytes: number;
  freeBytes: number;
  availBytes: number;
  totalFiles: number;
  freeFiles: number;
  availFiles: number;
}

/** Constants for FSINFO / PATHCONF / NFSv4 attributes. */
export interface FsInfo {
  blockSize: number;
  maxFileSize: number;
  maxNameBytes: number;
  maxSymlinkBytes: number;
  maxLinks: number;
  /** Timestamps are kept to the nanosecond. */
  timeGranularityNs: number;
  readOnly: boolean;
}

export interface RootSpec {
  mode: number;
  uid: number;
  gid: number;
}

export interface FileSystemOptions {
  /** Refuse every change with ROFS; nothing is written to the database or the store. */
  readOnly?: boolean;
  /**
   * Namespace and attribute changes are durable before the call returns (what
   * RFC 1813 asks of a server). false: they are committed to the database
   * before it returns without waiting for the disk, and synced by the
   * background committer within commitIntervalMs, like an "async" export.
   */
  syncMetadata?: boolean;
  /** Background commit period for unstable writes and lazy changes; 0 turns the timer off (tests). Default 1000. */
  commitIntervalMs?: number;
  /**
   * Discard every wholly free store page at open, not only those a crash kept
   * from being discarded (which always happens). Bytes on the store outside
   * the filesystem's blocks are dropped. Default false.
   */
  trimOnOpen?: boolean;
  /** Inodes kept in memory beyond those in use. Default 100,000. */
  inodeCacheSize?: number;
  /** atime on read: 'relatime' (default, like Linux), 'strict' or 'none'. */
  atime?: 'relatime' | 'strict' | 'none';
  /** Clock for timestamps; default the wall clock with sub-millisecond precision. */
  now?: () => Timestamp;
}

export interface CreateOptions extends FileSystemOptions {
  root: RootSpec;
  /** Allocation unit, a power of two from 4 KiB to 1 MiB. Default 4 KiB. */
  blockSize?: number;
  /** The file count limit fsstat reports. Default one inode per 16 KiB of store, at least 1024. */
  inodeLimit?: number;
}
