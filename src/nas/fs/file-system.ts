import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { LatencyHistogram } from '../../common/latency-histogram';
import { settleAll } from '../../virtualization/settle-all';
import { BlockAllocator, type Run, type RunAlignment } from './block-allocator';
import { Directory, FIRST_COOKIE } from './directory';
import { ExtentMap, type Extent } from './extent-map';
import { asFsError, fsError, FsError } from './fs-error';
import {
  FileType,
  type Attr,
  type BlockStore,
  type CreateHow,
  type CreateOptions,
  type Credential,
  type DirEntry,
  type FileSystemOptions,
  type FsInfo,
  type FsStat,
  type NodeId,
  type ReaddirOptions,
  type ReaddirResult,
  type SetAttrs,
  type StableHow,
  type Timestamp,
  type Wcc,
} from './fs-types';
import { checkFileSystem, type FsckOptions, type FsckReport } from './fsck';
import { directorySize, Inode } from './inode';
import { Journal } from './journal';
import { copySnapshotDatabase, openDatabase, MetaStatements, type InodeRow } from './meta-db';
import {
  accessMask,
  inGroup,
  MAY_EXEC,
  MAY_READ,
  MAY_WRITE,
  MODE_MASK,
  type Owned,
  permits,
  permitsData,
  S_ISGID,
  S_ISUID,
  stickyAllows,
} from './permissions';

export const ROOT_INO = 1;
export const MAX_NAME_BYTES = 255;
export const MAX_SYMLINK_BYTES = 4096;
export const MAX_LINKS = 65000;
export const MAX_FILE_SIZE = 2 ** 48;
export const DEFAULT_BLOCK_SIZE = 4096;
/** Generations handed out per reservation: the ceiling is durable before any of them is used. */
const GEN_RESERVE = 65536;
const DEFAULT_PAGE_SIZE = 1024 * 1024;
/** A write of at least this many new blocks looks for a free run this long, so large files stay contiguous. */
const LARGE_WRITE_BLOCKS = 16;
const RELATIME_SECONDS = 24 * 3600;
/** A read returns at most this much (a short read, eof false): a huge count must not allocate a huge buffer. */
export const MAX_READ = 16 * 1024 * 1024;
/**
 * A regular file no larger than this, with no blocks, keeps its data in its
 * inode row: writing it touches no block, and committing it is one metadata
 * commit without a device flush. It moves to blocks when it grows past this.
 */
export const MAX_INLINE_BYTES = 2048;
const EMPTY = Buffer.alloc(0);
/** Databases mounted read-write in this process: two engines over one database would corrupt it. */
const mounted = new Set<string>();

export interface LookupResult {
  node: NodeId;
  attr: Attr;
  dir: Attr;
}

export interface CreateResult {
  node: NodeId;
  attr: Attr;
  dir: Wcc;
}

export interface ReadResult {
  data: Buffer;
  eof: boolean;
  attr: Attr;
}

export interface WriteResult {
  count: number;
  /** What was achieved: 'file_sync' whenever data and metadata are durable. */
  committed: StableHow;
  /** 8 bytes, new per open and whenever unstable data may have been lost. */
  verifier: Buffer;
  wcc: Wcc;
}

export interface RenameResult {
  fromDir: Wcc;
  toDir: Wcc;
}

export interface Quiesced {
  /** Let changes run again. Idempotent. */
  release(): void;
}

/** Counters of a mounted filesystem since it was mounted, for tests and metrics; the histograms are live. */
export interface FsStats {
  /** Metadata transactions, and those of them that waited for the disk (fsync of the WAL). */
  commits: number;
  syncs: number;
  /** Flushes of the data store before a commit. */
  flushes: number;
  sqlOps: number;
  commitLatency: { readonly synced: LatencyHistogram; readonly applied: LatencyHistogram };
  flushLatency: LatencyHistogram;
  cachedInodes: number;
  freeBlocks: number;
  usedBlocks: number;
  inodes: number;
}

/**
 * A POSIX-like filesystem: metadata in an SQLite database (one per
 * filesystem), file data in blocks of a BlockStore (the share's thin logical
 * disk). Objects are addressed by NodeId (inode + generation) so NFS handles
 * stay stateless; a removed or reused inode answers STALE.
 *
 * Metadata lives in memory (inodes, directories and block maps cached) and is
 * group-committed by the Journal after the data it points at is flushed.
 * Namespace operations are synchronous in memory, so each is atomic; they
 * return once committed (syncMetadata). Read-only calls (getattr, lookup,
 * access, readlink, readdir, fsstat) are synchronous.
 */
export class FileSystem {
  readonly root: NodeId;
  readonly info: FsInfo;
  /** Random at mkfs (32 hex digits), kept for the filesystem's life: a stable fsid. */
  readonly fsId: string;
  private readonly store: BlockStore;
  private readonly db: MetaStatements['db'];
  private readonly stmts: MetaStatements;
  private readonly journal: Journal;
  private readonly alloc: BlockAllocator;
  private readonly blockSize: number;
  private readonly discardBlocks: number;
  private readonly inodes = new Map<number, Inode>();
  private readonly inodeLimit: number;
  private inodeCount: number;
  private nextIno: number;
  /** Inode numbers whose deletion is durable, ready for reuse. */
  private readonly freeInos: number[] = [];
  private nextGen: number;
  private genCeiling: number;
  /** Change attributes of this mount start here, above anything an earlier mount could have handed out. */
  private readonly changeBase: number;
  private writeVerifier: Buffer;
  private readonly readOnly: boolean;
  private syncMetadata: boolean;
  private readonly atimeMode: 'relatime' | 'strict' | 'none';
  private readonly cacheLimit: number;
  private readonly clock: () => Timestamp;
  private lastTime: Timestamp = { sec: 0, nsec: 0 };
  private readonly zeroBlock: Buffer;
  /** Changing operations in progress, and the quiesce gate that holds new ones. */
  private inflight = 0;
  private idleWaiters: Array<() => void> = [];
  private gate: Promise<void> | null = null;
  /** Discards of freed pages in progress. */
  private readonly discards = new Set<Promise<void>>();
  private closed = false;
  private readonly key: string;

  private constructor(key: string, store: BlockStore, stmts: MetaStatements, opts: FileSystemOptions, init: MountState) {
    this.key = key;
    this.store = store;
    this.stmts = stmts;
    this.db = stmts.db;
    this.readOnly = opts.readOnly === true;
    this.syncMetadata = opts.syncMetadata !== false;
    this.atimeMode = opts.atime ?? 'relatime';
    this.cacheLimit = opts.inodeCacheSize ?? 100_000;
    this.clock = opts.now ?? wallClock;
    this.blockSize = init.blockSize;
    this.alloc = init.alloc;
    this.inodeLimit = init.inodeLimit;
    this.inodeCount = init.inodeCount;
    this.nextIno = init.nextIno;
    this.nextGen = init.nextGen;
    this.genCeiling = init.genCeiling;
    this.changeBase = init.mountEpoch * 2 ** 32;
    this.discardBlocks = Math.max(1, Math.floor((store.pageSize ?? DEFAULT_PAGE_SIZE) / this.blockSize));
    this.zeroBlock = Buffer.alloc(this.blockSize);
    this.writeVerifier = randomBytes(8);
    this.journal = new Journal(stmts, store, {
      committed: (freed, freedInos, seq) => this.committed(freed, freedInos, seq),
      failed: () => {
        this.writeVerifier = randomBytes(8);
      },
    });
    const rootRow = stmts.getInode.get(ROOT_INO);
    if (!rootRow || rootRow.type !== FileType.DIR) throw fsError('IO', 'filesystem has no root directory');
    this.root = { ino: ROOT_INO, gen: rootRow.gen };
    this.fsId = String(stmts.meta('fs_id'));
    this.info = {
      blockSize: this.blockSize,
      maxFileSize: MAX_FILE_SIZE,
      maxNameBytes: MAX_NAME_BYTES,
      maxSymlinkBytes: MAX_SYMLINK_BYTES,
      maxLinks: MAX_LINKS,
      timeGranularityNs: 1,
      readOnly: this.readOnly,
    };
  }

  /** mkfs: a new filesystem whose root directory has the given mode and owner, then open it. */
  static async create(metaPath: string, store: BlockStore, opts: CreateOptions): Promise<FileSystem> {
    const blockSize = opts.blockSize ?? DEFAULT_BLOCK_SIZE;
    if (!Number.isSafeInteger(blockSize) || blockSize < 4096 || blockSize > 1 << 20 || (blockSize & (blockSize - 1)) !== 0) {
      throw fsError('INVAL', `block size must be a power of two from 4 KiB to 1 MiB, got ${blockSize}`);
    }
    const totalBlocks = Math.floor(store.size / blockSize);
    if (totalBlocks < 1) throw fsError('INVAL', `a store of ${store.size} bytes holds no ${blockSize}-byte block`);
    const inodeLimit = opts.inodeLimit ?? Math.max(1024, Math.floor(store.size / 16384));
    if (!Number.isSafeInteger(inodeLimit) || inodeLimit < 1) throw fsError('INVAL', `inode limit ${inodeLimit}`);
    if (existsSync(metaPath)) throw fsError('EXIST', `filesystem metadata '${metaPath}' already exists`);
    const db = openDatabase(metaPath, { readOnly: false, create: true });
    try {
      const stmts = new MetaStatements(db);
      const t = (opts.now ?? wallClock)();
      db.transaction(() => {
        stmts.putMeta.run('block_size', blockSize);
        stmts.putMeta.run('total_blocks', totalBlocks);
        stmts.putMeta.run('inode_limit', inodeLimit);
        stmts.putMeta.run('gen_ceiling', 2);
        stmts.putMeta.run('mount_epoch', 0);
        stmts.putMeta.run('fs_id', randomBytes(16).toString('hex'));
        const root: InodeRow = {
          ino: ROOT_INO,
          gen: 1,
          type: FileType.DIR,
          mode: opts.root.mode & MODE_MASK,
          nlink: 2,
          uid: opts.root.uid,
          gid: opts.root.gid,
          size: directorySize(0),
          blocks: 0,
          rdev_major: 0,
          rdev_minor: 0,
          atime_s: t.sec,
          atime_ns: t.nsec,
          mtime_s: t.sec,
          mtime_ns: t.nsec,
          ctime_s: t.sec,
          ctime_ns: t.nsec,
          change: 1,
          parent: ROOT_INO,
          next_cookie: FIRST_COOKIE,
          verifier: null,
          target: null,
        };
        stmts.putInode.run(...new Inode(root).row());
      })();
    } finally {
      db.close();
    }
    return FileSystem.open(metaPath, store, opts);
  }

  /**
   * Mount: reclaim orphans a crash left (removed files still open), rebuild
   * the free-block map from the extents, discard fully free store pages.
   */
  static async open(metaPath: string, store: BlockStore, opts: FileSystemOptions = {}): Promise<FileSystem> {
    const fs = FileSystem.load(metaPath, store, opts);
    if (!fs.readOnly) {
      mounted.add(fs.key);
      try {
        await fs.finishDiscards(opts.trimOnOpen === true);
      } catch (err) {
        fs.abort();
        throw asFsError(err, `open of '${metaPath}'`);
      }
      fs.journal.startTimer(opts.commitIntervalMs ?? 1000);
    }
    return fs;
  }

  /**
   * Mount read-only at once (no await: nothing is written, so nothing waits):
   * how a share snapshot's metadata copy is opened on the first call that
   * reaches it.
   */
  static openReadOnly(metaPath: string, store: BlockStore, opts: Omit<FileSystemOptions, 'readOnly'> = {}): FileSystem {
    return FileSystem.load(metaPath, store, { ...opts, readOnly: true });
  }

  private static load(metaPath: string, store: BlockStore, opts: FileSystemOptions): FileSystem {
    const readOnly = opts.readOnly === true;
    if (!existsSync(metaPath)) throw fsError('NOENT', `no filesystem metadata at '${metaPath}'`);
    const key = resolve(metaPath);
    if (!readOnly && mounted.has(key)) throw fsError('IO', `filesystem '${metaPath}' is already mounted read-write in this process`);
    const db = openDatabase(metaPath, { readOnly, create: false });
    let fs: FileSystem;
    try {
      const stmts = new MetaStatements(db);
      const blockSize = stmts.metaNumber('block_size');
      const totalBlocks = Math.floor(store.size / blockSize);
      let genCeiling = stmts.metaNumber('gen_ceiling');
      let mountEpoch = stmts.metaNumber('mount_epoch');
      const nextGen = genCeiling;
      if (!readOnly) {
        genCeiling = nextGen + GEN_RESERVE;
        mountEpoch++;
        db.transaction(() => {
          db.exec(`
            DELETE FROM extents WHERE ino IN (SELECT ino FROM orphans);
            DELETE FROM dirents WHERE dir IN (SELECT ino FROM orphans);
            DELETE FROM inodes WHERE ino IN (SELECT ino FROM orphans);
            DELETE FROM orphans;
          `);
          stmts.putMeta.run('gen_ceiling', genCeiling);
          stmts.putMeta.run('mount_epoch', mountEpoch);
          stmts.putMeta.run('total_blocks', totalBlocks);
        })();
      }
      const alloc = new BlockAllocator(totalBlocks);
      for (const e of db.prepare('SELECT ino, dblock, count FROM extents').iterate() as Iterable<{ ino: number; dblock: number; count: number }>) {
        if (e.dblock < 0 || e.dblock + e.count > totalBlocks) {
          throw fsError('IO', `inode ${e.ino} maps blocks [${e.dblock}, ${e.dblock + e.count}) beyond the store's ${totalBlocks}: run fsck`);
        }
        if (alloc.markUsed(e.dblock, e.count) > 0) {
          throw fsError('IO', `inode ${e.ino} maps blocks another file owns (from ${e.dblock}): run fsck with repair`);
        }
      }
      const counts = db.prepare('SELECT COUNT(*) AS n, COALESCE(MAX(ino), 0) AS top FROM inodes').get() as { n: number; top: number };
      fs = new FileSystem(key, store, stmts, opts, {
        blockSize,
        alloc,
        inodeLimit: stmts.metaNumber('inode_limit'),
        inodeCount: counts.n,
        nextIno: counts.top + 1,
        nextGen,
        genCeiling,
        mountEpoch,
      });
    } catch (err) {
      db.close();
      throw asFsError(err, `open of '${metaPath}'`);
    }
    return fs;
  }

  /** Check an unmounted filesystem's metadata (and repair the cheap problems if asked). */
  static fsck(metaPath: string, opts: FsckOptions = {}): FsckReport {
    const db = openDatabase(metaPath, { readOnly: !opts.repair, create: false });
    try {
      const stmts = new MetaStatements(db);
      return checkFileSystem(db, { blockSize: stmts.metaNumber('block_size'), totalBlocks: stmts.metaNumber('total_blocks'), mounted: false, repair: opts.repair === true });
    } finally {
      db.close();
    }
  }

  /**
   * A rollback puts an older database in place of `livePath`'s: the
   * generations it hands out from then on must be above every one the
   * replaced database gave (its ceiling), so a handle to a file made after
   * the snapshot stays STALE and is never taken by a new file. Both
   * filesystems must be unmounted. Returns the ceiling now in force.
   */
  static carryGenerations(replacedPath: string, installedPath: string): number {
    const read = (path: string, readOnly: boolean) => {
      const db = openDatabase(path, { readOnly, create: false });
      return { db, stmts: new MetaStatements(db) };
    };
    const old = read(replacedPath, true);
    let floor: number;
    try {
      floor = old.stmts.metaNumber('gen_ceiling');
    } finally {
      old.db.close();
    }
    const next = read(installedPath, false);
    try {
      const ceiling = Math.max(floor, next.stmts.metaNumber('gen_ceiling'));
      next.stmts.putMeta.run('gen_ceiling', ceiling);
      return ceiling;
    } finally {
      next.db.close();
    }
  }

  /** The current write verifier (8 bytes). */
  get verifier(): Buffer {
    return Buffer.from(this.writeVerifier);
  }

  /** Counters for tests and metrics. */
  stats(): FsStats {
    const j = this.journal;
    return {
      commits: j.commits,
      syncs: j.syncs,
      flushes: j.flushes,
      sqlOps: j.opsCommitted,
      commitLatency: j.commitLatency,
      flushLatency: j.flushLatency,
      cachedInodes: this.inodes.size,
      freeBlocks: this.alloc.free,
      usedBlocks: this.alloc.used,
      inodes: this.inodeCount,
    };
  }

  // ---- attributes -------------------------------------------------------

  getattr(id: NodeId): Attr {
    return this.guard(() => this.node(id).attr(this.blockSize));
  }

  /** The object a handle names, or STALE if it is gone or its inode number was reused. */
  getByHandle(ino: number, gen: number): Attr {
    return this.getattr({ ino, gen });
  }

  /**
   * SETATTR. `guard` is NFSv3's sattrguard3 (the ctime the client expects;
   * NOT_SYNC if it differs). Changes are checked first and then applied
   * together, so a refused call changes nothing.
   */
  async setattr(cred: Credential, id: NodeId, attrs: SetAttrs, guard?: Timestamp): Promise<Wcc> {
    await this.begin();
    try {
      const inode = this.node(id);
      const before = inode.wcc();
      if (guard && (guard.sec !== inode.ctimeS || guard.nsec !== inode.ctimeNs)) {
        throw fsError('NOT_SYNC', `ctime of inode ${id.ino} is not the one the guard expects`);
      }
      const plan = this.checkSetattr(cred, inode, attrs);
      const oldSize = inode.size;
      if (plan.size !== undefined) await this.truncate(inode, plan.size);
      this.applySetattr(inode, plan, oldSize);
      await this.durable();
      return { before, after: inode.attr(this.blockSize) };
    } catch (err) {
      throw asFsError(err, `setattr of inode ${id.ino}`);
    } finally {
      this.end();
    }
  }

  /** ACCESS: which of the requested ACCESS_* bits the mode grants this caller. */
  access(cred: Credential, id: NodeId, requested: number): { granted: number; attr: Attr } {
    return this.guard(() => {
      const inode = this.node(id);
      return { granted: accessMask(cred, inode, requested), attr: inode.attr(this.blockSize) };
    });
  }

  // ---- names ------------------------------------------------------------

  lookup(cred: Credential, dirId: NodeId, name: string): LookupResult {
    return this.guard(() => {
      const dir = this.dirNode(dirId);
      if (!permits(cred, dir, MAY_EXEC)) throw fsError('ACCES', `no search permission on directory ${dir.ino}`);
      let child: Inode;
      if (name === '.') child = dir;
      else if (name === '..') child = this.live(dir.parent);
      else {
        checkName(name);
        const e = this.dirOf(dir).get(name);
        if (!e) throw fsError('NOENT', `'${name}' not found in directory ${dir.ino}`);
        child = this.live(e.ino);
      }
      return { node: { ino: child.ino, gen: child.gen }, attr: child.attr(this.blockSize), dir: dir.attr(this.blockSize) };
    });
  }

  readlink(_cred: Credential, id: NodeId): { target: string; attr: Attr } {
    return this.guard(() => {
      const inode = this.node(id);
      if (inode.type !== FileType.LNK || !inode.target) throw fsError('INVAL', `inode ${id.ino} is not a symbolic link`);
      return { target: inode.target.toString('utf8'), attr: inode.attr(this.blockSize) };
    });
  }

  /**
   * CREATE. UNCHECKED opens an existing regular file (truncating it if
   * attrs.size is given); GUARDED refuses it; EXCLUSIVE succeeds again only
   * for the file it created with the same verifier. Without attrs.mode a new
   * file gets mode 0 (as knfsd): its owner can still write it (see
   * permitsData), and NFSv3 clients follow an exclusive create with SETATTR.
   */
  async create(cred: Credential, dirId: NodeId, name: string, how: CreateHow): Promise<CreateResult & { existed: boolean }> {
    await this.begin();
    try {
      const dir = this.dirNode(dirId);
      checkNewName(name);
      this.checkDirWrite(cred, dir);
      const entry = this.dirOf(dir).get(name);
      if (entry) {
        const child = this.live(entry.ino);
        const result = { node: { ino: child.ino, gen: child.gen }, attr: child.attr(this.blockSize), dir: { before: dir.wcc(), after: dir.attr(this.blockSize) }, existed: true };
        if (how.mode === 'guarded') throw fsError('EXIST', `'${name}' exists`);
        if (how.mode === 'exclusive') {
          if (how.verifier.length !== 8) throw fsError('INVAL', 'a create verifier is 8 bytes');
          if (child.type === FileType.REG && child.verifier !== null && child.verifier.equals(how.verifier)) return result;
          throw fsError('EXIST', `'${name}' exists`);
        }
        if (child.type !== FileType.REG) throw fsError('EXIST', `'${name}' exists and is not a regular file`);
        if (how.attrs?.size !== undefined) {
          const plan = this.checkSetattr(cred, child, { size: how.attrs.size });
          const oldSize = child.size;
          await this.truncate(child, plan.size!);
          this.applySetattr(child, plan, oldSize);
          await this.durable();
          result.attr = child.attr(this.blockSize);
        }
        return result;
      }
      if (how.mode === 'exclusive' && how.verifier.length !== 8) throw fsError('INVAL', 'a create verifier is 8 bytes');
      const attrs = how.attrs ?? {};
      const result = this.makeNode(cred, dir, name, FileType.REG, attrs, (inode) => {
        if (how.mode === 'exclusive') inode.verifier = Buffer.from(how.verifier);
      });
      await this.durable();
      return { ...result, existed: false };
    } catch (err) {
      throw asFsError(err, `create of '${name}'`);
    } finally {
      this.end();
    }
  }

  async mkdir(cred: Credential, dirId: NodeId, name: string, attrs: SetAttrs = {}): Promise<CreateResult> {
    return this.makeAndCommit(cred, dirId, name, FileType.DIR, attrs);
  }

  async symlink(cred: Credential, dirId: NodeId, name: string, target: string, attrs: SetAttrs = {}): Promise<CreateResult> {
    const bytes = Buffer.from(target, 'utf8');
    if (bytes.length === 0) throw fsError('INVAL', 'empty symbolic link target');
    if (bytes.length > MAX_SYMLINK_BYTES) throw fsError('NAMETOOLONG', `symbolic link target of ${bytes.length} bytes`);
    return this.makeAndCommit(cred, dirId, name, FileType.LNK, attrs, (inode) => {
      inode.target = bytes;
      inode.size = bytes.length;
    });
  }

  /** MKNOD: fifo, socket (anyone) or block/char device (root only; rdev stored, never opened). */
  async mknod(cred: Credential, dirId: NodeId, name: string, type: FileType, attrs: SetAttrs = {}, rdev = { major: 0, minor: 0 }): Promise<CreateResult> {
    if (type !== FileType.FIFO && type !== FileType.SOCK && type !== FileType.BLK && type !== FileType.CHR) {
      throw fsError('BADTYPE', `mknod cannot make type ${type}`);
    }
    if ((type === FileType.BLK || type === FileType.CHR) && cred.uid !== 0) throw fsError('PERM', 'only root makes device nodes');
    return this.makeAndCommit(cred, dirId, name, type, attrs, (inode) => {
      if (type === FileType.BLK || type === FileType.CHR) {
        inode.rdevMajor = rdev.major >>> 0;
        inode.rdevMinor = rdev.minor >>> 0;
      }
    });
  }

  async remove(cred: Credential, dirId: NodeId, name: string): Promise<{ dir: Wcc }> {
    await this.begin();
    try {
      const dir = this.dirNode(dirId);
      if (name === '.' || name === '..') throw fsError('INVAL', `cannot remove '${name}'`);
      checkName(name);
      this.checkDirWrite(cred, dir);
      const entry = this.dirOf(dir).get(name);
      if (!entry) throw fsError('NOENT', `'${name}' not found in directory ${dir.ino}`);
      const child = this.live(entry.ino);
      if (child.type === FileType.DIR) throw fsError('ISDIR', `'${name}' is a directory`);
      if (!stickyAllows(cred, dir, child)) throw fsError('PERM', `sticky directory: '${name}' belongs to someone else`);
      const before = dir.wcc();
      const t = this.now();
      this.unlinkEntry(dir, name);
      const reaping = this.dropLink(child, t);
      this.touchDir(dir, t);
      if (reaping) await reaping;
      await this.durable();
      return { dir: { before, after: dir.attr(this.blockSize) } };
    } catch (err) {
      throw asFsError(err, `remove of '${name}'`);
    } finally {
      this.end();
    }
  }

  async rmdir(cred: Credential, dirId: NodeId, name: string): Promise<{ dir: Wcc }> {
    await this.begin();
    try {
      const dir = this.dirNode(dirId);
      if (name === '.') throw fsError('INVAL', "cannot remove '.'");
      if (name === '..') throw fsError('NOTEMPTY', "cannot remove '..'");
      checkName(name);
      this.checkDirWrite(cred, dir);
      const entry = this.dirOf(dir).get(name);
      if (!entry) throw fsError('NOENT', `'${name}' not found in directory ${dir.ino}`);
      const child = this.live(entry.ino);
      if (child.type !== FileType.DIR) throw fsError('NOTDIR', `'${name}' is not a directory`);
      if (!stickyAllows(cred, dir, child)) throw fsError('PERM', `sticky directory: '${name}' belongs to someone else`);
      if (this.dirOf(child).count > 0) throw fsError('NOTEMPTY', `directory '${name}' is not empty`);
      const before = dir.wcc();
      const t = this.now();
      this.unlinkEntry(dir, name);
      dir.nlink--;
      this.dropDirectory(child, t);
      this.touchDir(dir, t);
      await this.durable();
      return { dir: { before, after: dir.attr(this.blockSize) } };
    } catch (err) {
      throw asFsError(err, `rmdir of '${name}'`);
    } finally {
      this.end();
    }
  }

  /**
   * RENAME, atomic: replaces a target of compatible type (an empty directory
   * by a directory, a non-directory by a non-directory), refuses moving a
   * directory into its own subtree (INVAL), and does nothing when source and
   * target are the same object.
   */
  async rename(cred: Credential, fromId: NodeId, fromName: string, toId: NodeId, toName: string): Promise<RenameResult> {
    await this.begin();
    try {
      const from = this.dirNode(fromId);
      const to = this.dirNode(toId);
      for (const n of [fromName, toName]) if (n === '.' || n === '..') throw fsError('INVAL', `cannot rename '${n}'`);
      checkName(fromName);
      checkName(toName);
      this.checkDirWrite(cred, from);
      this.checkDirWrite(cred, to);
      const srcEntry = this.dirOf(from).get(fromName);
      if (!srcEntry) throw fsError('NOENT', `'${fromName}' not found in directory ${from.ino}`);
      const src = this.live(srcEntry.ino);
      const dstEntry = this.dirOf(to).get(toName);
      const dst = dstEntry ? this.live(dstEntry.ino) : undefined;
      const fromBefore = from.wcc();
      const toBefore = to.wcc();
      const result = (): RenameResult => ({
        fromDir: { before: fromBefore, after: from.attr(this.blockSize) },
        toDir: { before: toBefore, after: to.attr(this.blockSize) },
      });
      if (!stickyAllows(cred, from, src)) throw fsError('PERM', `sticky directory: '${fromName}' belongs to someone else`);
      if (dst === src) return result();
      if (dst && !stickyAllows(cred, to, dst)) throw fsError('PERM', `sticky directory: '${toName}' belongs to someone else`);
      const isDir = src.type === FileType.DIR;
      if (isDir) {
        if (dst && dst.type !== FileType.DIR) throw fsError('NOTDIR', `'${toName}' is not a directory`);
        if (dst && this.dirOf(dst).count > 0) throw fsError('NOTEMPTY', `directory '${toName}' is not empty`);
        if (from !== to) {
          // Moving a directory rewrites its '..': Linux asks for write permission on it.
          if (!permits(cred, src, MAY_WRITE)) throw fsError('ACCES', `no write permission on directory '${fromName}'`);
          for (let d = to; ; d = this.live(d.parent)) {
            if (d === src) throw fsError('INVAL', `cannot move directory '${fromName}' into its own subtree`);
            if (d.ino === ROOT_INO) break;
          }
          if (!dst && to.nlink >= MAX_LINKS) throw fsError('MLINK', `directory ${to.ino} has too many links`);
        }
      } else if (dst && dst.type === FileType.DIR) {
        throw fsError('ISDIR', `'${toName}' is a directory`);
      }
      const t = this.now();
      let reaping: Promise<void> | undefined;
      if (dst) {
        this.unlinkEntry(to, toName);
        if (dst.type === FileType.DIR) {
          to.nlink--;
          this.dropDirectory(dst, t);
        } else {
          reaping = this.dropLink(dst, t);
        }
      }
      this.unlinkEntry(from, fromName);
      this.linkEntry(to, toName, src);
      if (isDir && from !== to) {
        src.parent = to.ino;
        from.nlink--;
        to.nlink++;
      }
      src.setCtime(t);
      this.changed(src);
      this.touchDir(from, t);
      if (to !== from) this.touchDir(to, t);
      if (reaping) await reaping;
      await this.durable();
      return result();
    } catch (err) {
      throw asFsError(err, `rename of '${fromName}' to '${toName}'`);
    } finally {
      this.end();
    }
  }

  async link(cred: Credential, id: NodeId, dirId: NodeId, name: string): Promise<{ attr: Attr; dir: Wcc }> {
    await this.begin();
    try {
      const inode = this.node(id);
      const dir = this.dirNode(dirId);
      if (inode.type === FileType.DIR) throw fsError('ISDIR', 'cannot hard-link a directory');
      checkNewName(name);
      this.checkDirWrite(cred, dir);
      if (this.dirOf(dir).get(name)) throw fsError('EXIST', `'${name}' exists`);
      if (inode.nlink === 0) throw fsError('NOENT', `inode ${id.ino} has been removed`);
      if (inode.nlink >= MAX_LINKS) throw fsError('MLINK', `inode ${id.ino} has too many links`);
      const before = dir.wcc();
      const t = this.now();
      this.linkEntry(dir, name, inode);
      inode.nlink++;
      inode.setCtime(t);
      this.changed(inode);
      this.touchDir(dir, t);
      await this.durable();
      return { attr: inode.attr(this.blockSize), dir: { before, after: dir.attr(this.blockSize) } };
    } catch (err) {
      throw asFsError(err, `link as '${name}'`);
    } finally {
      this.end();
    }
  }

  /**
   * READDIR / READDIRPLUS: entries after `cookie` in a stable order. A cookie
   * never changes while its entry exists, so a listing resumes correctly
   * across creates and removes; the verifier only changes if the directory
   * itself is replaced. A cookie never handed out, or a verifier of another
   * directory incarnation, is BAD_COOKIE.
   */
  readdir(cred: Credential, dirId: NodeId, cookie: number, verifier?: Buffer, opts: ReaddirOptions = {}): ReaddirResult {
    return this.guard(() => {
      const dir = this.dirNode(dirId);
      if (!permits(cred, dir, MAY_READ)) throw fsError('ACCES', `no read permission on directory ${dir.ino}`);
      const verf = cookieVerifier(dir);
      if (!Number.isSafeInteger(cookie) || cookie < 0) throw fsError('BAD_COOKIE', `cookie ${cookie}`);
      if (cookie !== 0 && verifier && !isZero(verifier) && !verf.equals(verifier)) {
        throw fsError('BAD_COOKIE', `cookie verifier does not match directory ${dir.ino}`);
      }
      if (cookie >= FIRST_COOKIE && cookie >= dir.nextCookie) throw fsError('BAD_COOKIE', `cookie ${cookie} was never handed out`);
      const dots = opts.dots !== false;
      const max = opts.maxEntries ?? Infinity;
      const entries: DirEntry[] = [];
      const push = (e: DirEntry): boolean => {
        if (entries.length >= max || (opts.accept && !opts.accept(e))) return false;
        entries.push(e);
        return true;
      };
      if (dots && cookie < 1 && !push({ name: '.', cookie: 1, node: { ino: dir.ino, gen: dir.gen }, type: FileType.DIR })) {
        return { entries, eof: false, verifier: verf, dir: dir.attr(this.blockSize) };
      }
      if (dots && cookie < 2) {
        const parent = this.live(dir.parent);
        if (!push({ name: '..', cookie: 2, node: { ino: parent.ino, gen: parent.gen }, type: FileType.DIR })) {
          return { entries, eof: false, verifier: verf, dir: dir.attr(this.blockSize) };
        }
      }
      let eof = true;
      for (const e of this.dirOf(dir).after(cookie)) {
        const child = this.live(e.ino);
        if (!push({ name: e.name, cookie: e.cookie, node: { ino: child.ino, gen: child.gen }, type: child.type })) {
          eof = false;
          break;
        }
      }
      return { entries, eof, verifier: verf, dir: dir.attr(this.blockSize) };
    });
  }

  // ---- data -------------------------------------------------------------

  /**
   * READ: up to `count` bytes (at most MAX_READ) from `offset`; holes read as zeros; eof when the data reaches the end of file.
   * With `into` (at least `count` bytes) the data is read into it and returned as a view of it, so a
   * caller can reuse its buffers.
   */
  async read(cred: Credential, id: NodeId, offset: number, count: number, into?: Buffer): Promise<ReadResult> {
    let inode: Inode;
    try {
      inode = this.node(id);
      this.checkData(cred, inode, MAY_READ);
      checkRange(offset, count);
      if (into && into.length < count) throw fsError('INVAL', `a ${into.length}-byte buffer cannot take ${count} bytes`);
    } catch (err) {
      throw asFsError(err, `read of inode ${id.ino}`);
    }
    const wait = inode.lock.lockShared();
    if (wait) await wait;
    try {
      if (inode.dead) throw fsError('STALE', `inode ${id.ino} was removed`);
      const size = inode.size;
      if (offset >= size || count === 0) return { data: EMPTY, eof: offset >= size, attr: inode.attr(this.blockSize) };
      const end = Math.min(size, offset + Math.min(count, MAX_READ));
      const data = into ? into.subarray(0, end - offset) : Buffer.allocUnsafe(end - offset);
      await this.readBlocks(inode, offset, data);
      this.touchAtime(inode);
      return { data, eof: end >= inode.size, attr: inode.attr(this.blockSize) };
    } catch (err) {
      throw asFsError(err, `read of inode ${id.ino}`);
    } finally {
      inode.lock.unlockShared();
    }
  }

  /**
   * WRITE. The data goes to the store at once; new blocks are written whole
   * (zero-padded) and become part of the file only after they land. UNSTABLE
   * returns then; DATA_SYNC and FILE_SYNC wait for the group commit (store
   * flush, then metadata) and report 'file_sync'.
   */
  async write(cred: Credential, id: NodeId, offset: number, data: Buffer, stable: StableHow): Promise<WriteResult> {
    await this.begin();
    try {
      const inode = this.node(id);
      this.checkData(cred, inode, MAY_WRITE);
      checkRange(offset, data.length);
      if (offset + data.length > MAX_FILE_SIZE) throw fsError('FBIG', `write past ${MAX_FILE_SIZE} bytes`);
      const before = inode.wcc();
      if (data.length > 0) await this.writeBlocks(cred, inode, offset, data);
      if (stable !== 'unstable') await this.journal.sync('data');
      return {
        count: data.length,
        committed: stable === 'unstable' ? 'unstable' : 'file_sync',
        verifier: this.verifier,
        wcc: { before, after: inode.attr(this.blockSize) },
      };
    } catch (err) {
      throw asFsError(err, `write of inode ${id.ino}`);
    } finally {
      this.end();
    }
  }

  /** COMMIT: everything written so far (by anyone) is durable; returns the verifier to compare. */
  async commit(id: NodeId): Promise<{ verifier: Buffer; attr: Attr }> {
    try {
      const inode = this.node(id);
      if (!this.readOnly) await this.journal.sync('data');
      return { verifier: this.verifier, attr: inode.attr(this.blockSize) };
    } catch (err) {
      throw asFsError(err, `commit of inode ${id.ino}`);
    }
  }

  /** Make every change so far durable (data and metadata). */
  async sync(): Promise<void> {
    if (this.readOnly) return;
    try {
      await this.journal.sync('data');
    } catch (err) {
      throw asFsError(err, 'sync');
    }
  }

  fsstat(): FsStat {
    const bs = this.blockSize;
    const freeFiles = Math.max(0, this.inodeLimit - this.inodeCount);
    return {
      totalBytes: this.alloc.total * bs,
      freeBytes: this.alloc.free * bs,
      availBytes: this.alloc.free * bs,
      totalFiles: this.inodeLimit,
      freeFiles,
      availFiles: freeFiles,
    };
  }

  // ---- opens (NFSv4) -----------------------------------------------------

  /** An open: the inode outlives its last link until every hold is released. */
  hold(id: NodeId): void {
    this.guard(() => {
      this.node(id).holds++;
    });
  }

  /** Close of an open; frees a removed file when its last hold goes. */
  async release(id: NodeId): Promise<void> {
    const inode = this.inodes.get(id.ino);
    if (!inode || inode.gen !== id.gen || inode.holds === 0) throw fsError('STALE', `inode ${id.ino} is not held`);
    inode.holds--;
    if (inode.holds > 0 || inode.nlink > 0 || this.readOnly || this.closed) return;
    await this.begin();
    try {
      inode.dead = true;
      await this.reap(inode);
      await this.durable();
    } catch (err) {
      throw asFsError(err, `release of inode ${id.ino}`);
    } finally {
      this.end();
    }
  }

  // ---- lifecycle -----------------------------------------------------------

  /**
   * For a snapshot (#9): hold new changes, wait for those in flight, commit
   * everything, checkpoint the WAL into the database file, and stop
   * committing until release(). Reads go on meanwhile.
   */
  async quiesce(): Promise<Quiesced> {
    while (this.gate) await this.gate;
    if (this.closed) throw fsError('IO', 'filesystem is closed');
    let open!: () => void;
    this.gate = new Promise<void>((resolve) => (open = resolve));
    const release = (): void => {
      this.journal.resume();
      this.gate = null;
      open();
    };
    try {
      await this.idle();
      if (!this.readOnly) {
        await this.journal.sync('data');
        await this.journal.pause();
        await this.discardsDone();
        this.db.pragma('wal_checkpoint(TRUNCATE)');
        await this.store.flush();
      }
    } catch (err) {
      release();
      throw asFsError(err, 'quiesce');
    }
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        release();
      },
    };
  }

  /**
   * While quiesced (the caller holds a quiesce()): write the metadata as
   * committed to `dest`, a database of its own that a snapshot opens
   * read-only. Durable when this returns; see copySnapshotDatabase.
   */
  copyMetadata(dest: string): void {
    if (!this.gate || this.closed) throw fsError('INVAL', 'copyMetadata needs a quiesced, open filesystem');
    try {
      copySnapshotDatabase(this.db, dest);
    } catch (err) {
      throw asFsError(err, `copy of the metadata to '${dest}'`);
    }
  }

  /**
   * Cross-check metadata against block allocation while mounted (quiesced
   * for the duration): also compares the in-memory free map and accepts
   * removed files that are still held open.
   */
  async fsck(): Promise<FsckReport> {
    const q = await this.quiesce();
    try {
      const held = new Set<number>();
      for (const inode of this.inodes.values()) if (inode.holds > 0 && inode.nlink === 0) held.add(inode.ino);
      return checkFileSystem(this.db, { blockSize: this.blockSize, totalBlocks: this.alloc.total, mounted: true, held, allocator: this.alloc, repair: false });
    } finally {
      q.release();
    }
  }

  /** Commit everything, flush the store, close the database. The store stays open (its owner closes it). */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.idle();
      if (!this.readOnly) {
        await this.journal.close();
        await this.discardsDone();
        await this.store.flush();
        this.db.pragma('wal_checkpoint(TRUNCATE)');
      }
    } finally {
      this.closed = true;
      this.journal.abort();
      this.db.close();
      if (!this.readOnly) mounted.delete(this.key);
    }
  }

  /**
   * Stop at once without committing anything pending, as if the process had
   * been killed: for crash tests and emergency shutdown.
   */
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    this.journal.abort();
    this.db.close();
    if (!this.readOnly) mounted.delete(this.key);
  }

  // ---- internals: operations ----------------------------------------------

  private async makeAndCommit(cred: Credential, dirId: NodeId, name: string, type: FileType, attrs: SetAttrs, init?: (inode: Inode) => void): Promise<CreateResult> {
    await this.begin();
    try {
      const dir = this.dirNode(dirId);
      checkNewName(name);
      this.checkDirWrite(cred, dir);
      if (this.dirOf(dir).get(name)) throw fsError('EXIST', `'${name}' exists`);
      const result = this.makeNode(cred, dir, name, type, attrs, init);
      await this.durable();
      return result;
    } catch (err) {
      throw asFsError(err, `create of '${name}'`);
    } finally {
      this.end();
    }
  }

  /** A new inode linked into `dir` as `name` (the caller checked the name is free and the permissions). */
  private makeNode(cred: Credential, dir: Inode, name: string, type: FileType, attrs: SetAttrs, init?: (inode: Inode) => void): CreateResult {
    if (type === FileType.DIR && dir.nlink >= MAX_LINKS) throw fsError('MLINK', `directory ${dir.ino} has too many links`);
    if (this.inodeCount >= this.inodeLimit) throw fsError('NOSPC', `no free inodes (limit ${this.inodeLimit})`);
    // A setgid directory gives its group to new objects and its setgid bit to new subdirectories.
    const inheritGroup = (dir.mode & S_ISGID) !== 0;
    const gid = inheritGroup ? dir.gid : cred.gid;
    let mode = type === FileType.LNK ? 0o777 : (attrs.mode ?? (type === FileType.DIR ? 0o755 : 0)) & MODE_MASK;
    if (type === FileType.DIR && inheritGroup) mode |= S_ISGID;
    if (type !== FileType.DIR && (mode & S_ISGID) && cred.uid !== 0 && !inGroup(cred, gid)) mode &= ~S_ISGID;
    const owner = this.checkSetattr(cred, { type, mode, uid: cred.uid, gid, size: 0 }, { uid: attrs.uid, gid: attrs.gid });
    const t = this.now();
    const ino = this.freeInos.pop() ?? this.nextIno++;
    const inode = new Inode({
      ino,
      gen: this.newGen(),
      type,
      mode,
      nlink: type === FileType.DIR ? 2 : 1,
      uid: owner.uid ?? cred.uid,
      gid: owner.gid ?? gid,
      size: type === FileType.DIR ? directorySize(0) : 0,
      blocks: 0,
      rdev_major: 0,
      rdev_minor: 0,
      atime_s: t.sec,
      atime_ns: t.nsec,
      mtime_s: t.sec,
      mtime_ns: t.nsec,
      ctime_s: t.sec,
      ctime_ns: t.nsec,
      change: this.changeBase + 1,
      parent: type === FileType.DIR ? dir.ino : null,
      next_cookie: type === FileType.DIR ? FIRST_COOKIE : null,
      verifier: null,
      target: null,
    });
    if (type === FileType.DIR) inode.dir = new Directory();
    if (type === FileType.REG) inode.extents = new ExtentMap();
    if (attrs.atime !== undefined) inode.setAtime(attrs.atime === 'server' ? t : attrs.atime);
    if (attrs.mtime !== undefined) inode.setMtime(attrs.mtime === 'server' ? t : attrs.mtime);
    if (attrs.size !== undefined && type === FileType.REG) inode.size = attrs.size;
    init?.(inode);
    this.inodes.set(ino, inode);
    this.inodeCount++;
    const before = dir.wcc();
    this.linkEntry(dir, name, inode);
    if (type === FileType.DIR) dir.nlink++;
    this.touchDir(dir, t);
    this.journal.touch(inode);
    return { node: { ino, gen: inode.gen }, attr: inode.attr(this.blockSize), dir: { before, after: dir.attr(this.blockSize) } };
  }

  /** What a SETATTR would change, after every check; throws before anything changes. */
  private checkSetattr(cred: Credential, inode: Owned & { size: number }, attrs: SetAttrs): SetattrPlan {
    const plan: SetattrPlan = {};
    const root = cred.uid === 0;
    const owner = root || cred.uid === inode.uid;
    if (attrs.uid !== undefined && attrs.uid !== inode.uid) {
      if (!root) throw fsError('PERM', 'only root changes the owner');
      plan.uid = attrs.uid >>> 0;
    }
    if (attrs.gid !== undefined && attrs.gid !== inode.gid) {
      if (!root && (cred.uid !== inode.uid || !inGroup(cred, attrs.gid))) throw fsError('PERM', `cannot give the group to ${attrs.gid}`);
      plan.gid = attrs.gid >>> 0;
    }
    if (attrs.mode !== undefined) {
      if (!owner) throw fsError('PERM', 'only the owner changes the mode');
      let mode = attrs.mode & MODE_MASK;
      if (!root && !inGroup(cred, plan.gid ?? inode.gid)) mode &= ~S_ISGID;
      plan.mode = mode;
    }
    if (attrs.size !== undefined) {
      if (inode.type === FileType.DIR) throw fsError('ISDIR', 'cannot set the size of a directory');
      if (inode.type !== FileType.REG) throw fsError('INVAL', 'only regular files have a settable size');
      if (!Number.isSafeInteger(attrs.size) || attrs.size < 0) throw fsError('INVAL', `size ${attrs.size}`);
      if (attrs.size > MAX_FILE_SIZE) throw fsError('FBIG', `size ${attrs.size} over ${MAX_FILE_SIZE}`);
      if (!permitsData(cred, inode, MAY_WRITE)) throw fsError('ACCES', 'no write permission to change the size');
      plan.size = attrs.size;
    }
    for (const which of ['atime', 'mtime'] as const) {
      const v = attrs[which];
      if (v === undefined) continue;
      if (v === 'server') {
        if (!owner && !permits(cred, inode, MAY_WRITE)) throw fsError('ACCES', `no write permission to touch ${which}`);
      } else {
        if (!owner) throw fsError('PERM', `only the owner sets ${which} to a given time`);
        if (!Number.isSafeInteger(v.sec) || !Number.isInteger(v.nsec) || v.nsec < 0 || v.nsec > 999_999_999) throw fsError('INVAL', `bad ${which}`);
      }
      plan[which] = v;
    }
    return plan;
  }

  /** Apply a checked plan; the size itself was already set by truncate() (from `oldSize`). */
  private applySetattr(inode: Inode, plan: SetattrPlan, oldSize: number): void {
    const t = this.now();
    let any = false;
    if (plan.uid !== undefined || plan.gid !== undefined) {
      if (plan.uid !== undefined) inode.uid = plan.uid;
      if (plan.gid !== undefined) inode.gid = plan.gid;
      // As Linux: a chown clears setuid, and setgid when group-executable, on non-directories.
      if (inode.type !== FileType.DIR) inode.mode &= ~(S_ISUID | (inode.mode & 0o010 ? S_ISGID : 0));
      any = true;
    }
    if (plan.mode !== undefined) {
      inode.mode = plan.mode;
      any = true;
    }
    // As POSIX truncate: times change only if the size did.
    if (plan.size !== undefined && plan.size !== oldSize) {
      inode.setMtime(t);
      any = true;
    }
    if (plan.atime !== undefined) {
      inode.setAtime(plan.atime === 'server' ? t : plan.atime);
      any = true;
    }
    if (plan.mtime !== undefined) {
      inode.setMtime(plan.mtime === 'server' ? t : plan.mtime);
      any = true;
    }
    if (!any) return;
    inode.setCtime(t);
    this.changed(inode);
  }

  /** Set the size, freeing blocks past the new end; the data of the last partial block past it is zeroed. */
  private async truncate(inode: Inode, size: number): Promise<void> {
    await inode.lock.lockExclusive();
    try {
      if (inode.dead) throw fsError('STALE', `inode ${inode.ino} was removed`);
      const bs = this.blockSize;
      const old = inode.size;
      const map = this.extentsOf(inode);
      if (inode.inline !== null) {
        if (size < inode.inline.length) inode.inline = size > 0 ? Buffer.from(inode.inline.subarray(0, size)) : null;
        else if (size > MAX_INLINE_BYTES) await this.spill(inode, map);
      }
      if (size < old) {
        // Zero first: if it fails, nothing has changed.
        if (size % bs !== 0) await this.zeroTail(map, size);
        const freed = map.truncate(Math.ceil(size / bs));
        if (freed.length > 0) {
          this.journal.freeBlocks(freed);
          this.journal.touchExtents(inode);
        }
      } else if (size > old && old % bs !== 0) {
        await this.zeroTail(map, old);
      }
      if (size !== old) {
        inode.size = size;
        this.journal.touch(inode);
      }
    } finally {
      inode.lock.unlockExclusive();
    }
  }

  /** Zero from byte `pos` to the end of its block, if that block is allocated (bytes past EOF must read as zeros). */
  private async zeroTail(map: ExtentMap, pos: number): Promise<void> {
    const bs = this.blockSize;
    const d = map.blockAt(Math.floor(pos / bs));
    if (d < 0) return;
    const within = pos % bs;
    await this.store.write(d * bs + within, this.zeroBlock.subarray(0, bs - within));
    this.journal.zeroesWritten();
  }

  private async readBlocks(inode: Inode, offset: number, data: Buffer): Promise<void> {
    const inline = inode.inline;
    if (inline !== null) {
      const n = offset < inline.length ? inline.copy(data, 0, offset, Math.min(inline.length, offset + data.length)) : 0;
      data.fill(0, n);
      return;
    }
    const bs = this.blockSize;
    const end = offset + data.length;
    const segs = this.extentsOf(inode).segments(Math.floor(offset / bs), Math.ceil(end / bs));
    const ios: Promise<void>[] = [];
    for (const seg of segs) {
      const lo = Math.max(offset, seg.fblock * bs);
      const hi = Math.min(end, (seg.fblock + seg.count) * bs);
      if (seg.dblock < 0 || seg.extent?.pending) data.fill(0, lo - offset, hi - offset);
      else ios.push(this.store.readInto(seg.dblock * bs + (lo - seg.fblock * bs), data.subarray(lo - offset, hi - offset)));
    }
    if (ios.length === 1) await ios[0];
    else if (ios.length > 1) await settleAll(ios);
  }

  private async writeBlocks(cred: Credential, inode: Inode, offset: number, data: Buffer): Promise<void> {
    const bs = this.blockSize;
    const end = offset + data.length;
    let exclusive = false;
    let reclaimed = false;
    const wait = inode.lock.lockShared();
    if (wait) await wait;
    try {
      for (;;) {
        if (inode.dead) throw fsError('STALE', `inode ${inode.ino} was removed`);
        const map = this.extentsOf(inode);
        if (map.blocks === 0 && end <= MAX_INLINE_BYTES && inode.size <= MAX_INLINE_BYTES) {
          // Synchronous from here: no other write or truncate runs in between.
          const old = inode.inline;
          // A new buffer each time: a sealed batch still holds the old one as its row's value.
          const next = Buffer.alloc(Math.max(end, old?.length ?? 0));
          old?.copy(next);
          data.copy(next, offset);
          inode.inline = next;
          this.wrote(cred, inode, end);
          return;
        }
        if (inode.inline !== null) {
          if (!exclusive) {
            inode.lock.unlockShared();
            await inode.lock.lockExclusive();
            exclusive = true;
            continue;
          }
          await this.spill(inode, map);
          continue;
        }
        const size = inode.size;
        // Writing past EOF leaves a gap that must read as zeros; after a crash the EOF block may hold bytes past EOF.
        const gap = offset > size && size % bs !== 0 && map.blockAt(Math.floor(size / bs)) >= 0;
        if (gap && !exclusive) {
          inode.lock.unlockShared();
          await inode.lock.lockExclusive();
          exclusive = true;
          continue;
        }
        const segs = map.segments(Math.floor(offset / bs), Math.ceil(end / bs));
        const busy = segs.find((s) => s.extent?.pending);
        if (busy) {
          await busy.extent!.pending;
          continue;
        }
        let holes = 0;
        for (const s of segs) if (s.dblock < 0) holes += s.count;
        if (holes > this.alloc.free) {
          if (!reclaimed && (reclaimed = await this.reclaim())) continue;
          throw fsError('NOSPC', `no space for ${holes} blocks (${this.alloc.free} free)`);
        }
        let landed!: () => void;
        const gate = new Promise<void>((resolve) => (landed = resolve));
        const fresh: Extent[] = [];
        const ios: Promise<void>[] = [];
        if (gap) {
          const gapEnd = Math.min(offset, (Math.floor(size / bs) + 1) * bs);
          const d = map.blockAt(Math.floor(size / bs));
          ios.push(this.store.write(d * bs + (size % bs), this.zeroBlock.subarray(0, gapEnd - size)));
        }
        for (const s of segs) {
          if (s.dblock >= 0) {
            const lo = Math.max(offset, s.fblock * bs);
            const hi = Math.min(end, (s.fblock + s.count) * bs);
            ios.push(this.store.write(s.dblock * bs + (lo - s.fblock * bs), data.subarray(lo - offset, hi - offset)));
            continue;
          }
          const minRun = s.count >= LARGE_WRITE_BLOCKS ? Math.min(s.count, this.discardBlocks) : 1;
          // Large writes keep file pages on store pages: a page-sized write then fills one store page, not parts of two.
          const align = minRun > 1 ? { every: this.discardBlocks, phase: s.fblock % this.discardBlocks } : undefined;
          this.addFresh(map, s.fblock, s.count, minRun, align, gate, fresh, ios, offset, data);
        }
        await this.land(map, fresh, ios, landed);
        if (fresh.length > 0) this.journal.touchExtents(inode);
        if (gap) this.journal.zeroesWritten();
        else this.journal.dataWritten();
        this.wrote(cred, inode, end);
        return;
      }
    } finally {
      if (exclusive) inode.lock.unlockExclusive();
      else inode.lock.unlockShared();
    }
  }

  /** After a write's data is in place: size, times, setuid. */
  private wrote(cred: Credential, inode: Inode, end: number): void {
    const t = this.now();
    if (end > inode.size) inode.size = end;
    inode.setMtime(t);
    inode.setCtime(t);
    // As Linux: a write by someone other than root drops setuid, and setgid when group-executable.
    if (cred.uid !== 0 && inode.mode & (S_ISUID | S_ISGID)) inode.mode &= ~(S_ISUID | (inode.mode & 0o010 ? S_ISGID : 0));
    this.changed(inode);
  }

  /**
   * Move a file's inline data to fresh blocks (the caller holds the inode's
   * lock exclusively). Readers keep reading the inline bytes until the blocks
   * have landed; the row without them commits together with the extent rows.
   */
  private async spill(inode: Inode, map: ExtentMap): Promise<void> {
    const bytes = inode.inline!;
    const count = Math.ceil(bytes.length / this.blockSize);
    if (count > this.alloc.free && (!(await this.reclaim()) || count > this.alloc.free)) throw fsError('NOSPC', `no space for ${count} blocks (${this.alloc.free} free)`);
    let landed!: () => void;
    const gate = new Promise<void>((resolve) => (landed = resolve));
    const fresh: Extent[] = [];
    const ios: Promise<void>[] = [];
    this.addFresh(map, 0, count, 1, undefined, gate, fresh, ios, 0, bytes);
    await this.land(map, fresh, ios, landed);
    inode.inline = null;
    this.journal.dataWritten();
    this.journal.bindExtents(inode);
    this.journal.touch(inode);
  }

  /** Allocate `count` blocks for file blocks from `fblock` as pending extents (readers see zeros until `gate`) and start writing them. */
  private addFresh(map: ExtentMap, fblock: number, count: number, minRun: number, align: RunAlignment | undefined, gate: Promise<void>, fresh: Extent[], ios: Promise<void>[], offset: number, data: Buffer): void {
    let fb = fblock;
    for (const run of this.alloc.allocate(count, map.goalFor(fblock), minRun, align)) {
      const e = map.addPending(fb, run.start, run.count, gate);
      fresh.push(e);
      this.writeFresh(ios, e, offset, data);
      fb += run.count;
    }
  }

  /** Wait for a write's I/O; its fresh extents then become part of the file, or on failure go straight back (never persisted). */
  private async land(map: ExtentMap, fresh: Extent[], ios: Promise<void>[], landed: () => void): Promise<void> {
    try {
      await settleAll(ios);
    } catch (err) {
      for (const e of fresh) {
        map.drop(e);
        this.alloc.release(e.dblock, e.count);
      }
      landed();
      throw err;
    }
    for (const e of fresh) map.settle(e);
    landed();
  }

  /** Writes covering a fresh extent whole: data where the write has it, zeros around it. */
  private writeFresh(ios: Promise<void>[], e: Extent, offset: number, data: Buffer): void {
    const bs = this.blockSize;
    const end = offset + data.length;
    let lo = e.fblock * bs;
    let hi = (e.fblock + e.count) * bs;
    let d = e.dblock;
    if (lo < offset) {
      const block = Buffer.alloc(bs);
      data.copy(block, offset - lo, 0, Math.min(end, lo + bs) - offset);
      ios.push(this.store.write(d * bs, block));
      lo += bs;
      d++;
    }
    if (lo < hi && hi > end) {
      const block = Buffer.alloc(bs);
      data.copy(block, 0, hi - bs - offset, end - offset);
      ios.push(this.store.write((d + (hi - bs - lo) / bs) * bs, block));
      hi -= bs;
    }
    if (lo < hi) ios.push(this.store.write(d * bs, data.subarray(lo - offset, hi - offset)));
  }

  private touchAtime(inode: Inode): void {
    if (this.atimeMode === 'none' || this.readOnly) return;
    if (this.atimeMode === 'relatime') {
      const older = (s: number, ns: number) => inode.atimeS < s || (inode.atimeS === s && inode.atimeNs <= ns);
      const t = this.clock();
      if (!older(inode.mtimeS, inode.mtimeNs) && !older(inode.ctimeS, inode.ctimeNs) && t.sec - inode.atimeS < RELATIME_SECONDS) return;
    }
    inode.setAtime(this.now());
    this.journal.touch(inode);
  }

  private linkEntry(dir: Inode, name: string, child: Inode): void {
    const cookie = dir.nextCookie++;
    this.dirOf(dir).add(name, child.ino, cookie);
    const dirIno = dir.ino;
    const ino = child.ino;
    this.journal.op(() => this.stmts.putDirent.run(dirIno, name, ino, cookie));
  }

  private unlinkEntry(dir: Inode, name: string): void {
    this.dirOf(dir).remove(name);
    const dirIno = dir.ino;
    this.journal.op(() => this.stmts.deleteDirent.run(dirIno, name));
  }

  /** A directory's entries changed. */
  private touchDir(dir: Inode, t: Timestamp): void {
    dir.size = directorySize(this.dirOf(dir).count);
    dir.setMtime(t);
    dir.setCtime(t);
    this.changed(dir);
  }

  /** One link fewer; at zero the inode becomes an orphan, freed now or when its last hold goes. */
  private dropLink(inode: Inode, t: Timestamp): Promise<void> | undefined {
    inode.nlink--;
    inode.setCtime(t);
    this.changed(inode);
    if (inode.nlink > 0) return undefined;
    if (inode.holds === 0 && inode.lock.idle) {
      // Nothing holds or reads it: its rows go in this very batch, with the unlink, so no orphan row is needed.
      inode.dead = true;
      this.free(inode);
      return undefined;
    }
    const ino = inode.ino;
    this.journal.op(() => this.stmts.putOrphan.run(ino));
    if (inode.holds > 0) return undefined;
    inode.dead = true;
    return this.reap(inode);
  }

  /** An empty directory loses its entry: it goes at once. */
  private dropDirectory(dir: Inode, t: Timestamp): void {
    dir.nlink = 0;
    dir.setCtime(t);
    dir.dead = true;
    this.deleteInode(dir);
  }

  /** Free a dead inode's blocks once no I/O addresses them, and delete its rows. */
  private async reap(inode: Inode): Promise<void> {
    await inode.lock.lockExclusive();
    try {
      this.free(inode);
    } finally {
      inode.lock.unlockExclusive();
    }
  }

  /** A dead inode's blocks and rows go (the caller made sure no I/O addresses its blocks). */
  private free(inode: Inode): void {
    if (inode.deleted) return;
    if (inode.type === FileType.REG) this.journal.freeBlocks(this.extentsOf(inode).truncate(0));
    this.deleteInode(inode);
  }

  private deleteInode(inode: Inode): void {
    inode.deleted = true;
    this.journal.forget(inode);
    const ino = inode.ino;
    this.journal.op(() => {
      this.stmts.deleteInode.run(ino);
      this.stmts.deleteExtentsFrom.run(ino, 0);
      this.stmts.deleteOrphan.run(ino);
    });
    this.journal.freeIno(ino);
    this.inodeCount--;
  }

  private changed(inode: Inode): void {
    inode.change = Math.max(inode.change + 1, this.changeBase + 1);
    this.journal.touch(inode);
  }

  // ---- internals: commit side ---------------------------------------------

  /** A batch is durable: its freed inode numbers and blocks may be reused now; whole free pages are discarded. */
  private committed(freed: Run[], freedInos: number[], seq: number): void {
    for (const ino of freedInos) {
      const inode = this.inodes.get(ino);
      if (inode?.deleted) this.inodes.delete(ino);
      this.freeInos.push(ino);
    }
    if (freed.length > 0) {
      for (const r of freed) this.alloc.release(r.start, r.count);
      // Once the discards are done the batch's pending_discards rows can go (with the next commit).
      void this.discardFreePages(freed).then(() => this.journal.op(() => this.stmts.deletePendingDiscards.run(seq)));
    }
    if (this.inodes.size > this.cacheLimit) this.evict();
  }

  /**
   * Out of blocks: if some that a removal or truncate freed are still
   * reserved, waiting for a commit (on an async share, for the sync within a
   * second) or for their discard, wait for them and say so; the caller tries
   * once more. A write right after an rm on a full share then succeeds.
   */
  private async reclaim(): Promise<boolean> {
    if (!this.journal.holdsFrees && this.discards.size === 0) return false;
    await this.journal.sync('meta');
    await this.discardsDone();
    return true;
  }

  /** Discard the store pages these runs touch that are now wholly free, so their pool pages go back. */
  private discardFreePages(runs: Iterable<Run>): Promise<void> {
    const per = this.discardBlocks;
    const pages = new Set<number>();
    for (const r of runs) {
      for (let p = Math.floor(r.start / per); p <= Math.floor((r.start + r.count - 1) / per); p++) pages.add(p);
    }
    const free = [...pages].filter((p) => p * per < this.alloc.total && this.alloc.countUsed(p * per, Math.min(per, this.alloc.total - p * per)) === 0).sort((a, b) => a - b);
    const done: Promise<void>[] = [];
    for (let i = 0; i < free.length; ) {
      let j = i + 1;
      while (j < free.length && free[j] === free[j - 1] + 1) j++;
      const start = free[i] * per;
      done.push(this.discardRun(start, Math.min(free[j - 1] * per + per, this.alloc.total) - start));
      i = j;
    }
    return Promise.all(done).then(() => undefined);
  }

  /** Discard a fully free run; it stays reserved meanwhile. Failures only cost space. */
  private discardRun(start: number, count: number): Promise<void> {
    this.alloc.markUsed(start, count);
    const bs = this.blockSize;
    const p: Promise<void> = this.store
      .discard(start * bs, count * bs)
      .catch(() => undefined)
      .then(() => {
        this.alloc.release(start, count);
        this.discards.delete(p);
      });
    this.discards.add(p);
    return p;
  }

  private async discardsDone(): Promise<void> {
    while (this.discards.size > 0) await Promise.all([...this.discards]);
  }

  /**
   * At mount: finish the discards a crash interrupted (the runs committed
   * batches freed), and with trimOnOpen discard every wholly free page.
   */
  private async finishDiscards(trimAll: boolean): Promise<void> {
    const runs = this.db.prepare('SELECT start, count FROM pending_discards').all() as Run[];
    if (trimAll) runs.push({ start: 0, count: this.alloc.total });
    if (runs.length > 0) await this.discardFreePages(runs.filter((r) => r.start < this.alloc.total && r.count > 0));
    await this.discardsDone();
    this.db.prepare('DELETE FROM pending_discards').run();
  }

  private evict(): void {
    const target = Math.floor(this.cacheLimit * 0.9);
    for (const [ino, inode] of this.inodes) {
      if (this.inodes.size <= target) break;
      if (ino !== ROOT_INO && inode.evictable && !inode.dead) this.inodes.delete(ino);
    }
  }

  /**
   * Switch between syncing namespace and attribute changes before the reply
   * (exports(5) sync) and committing them before the reply without waiting
   * for the disk (async). Resolves once whatever async mode left unsynced is
   * on disk, so a share turned to sync is wholly sync when this returns.
   */
  async setSyncMetadata(on: boolean): Promise<void> {
    if (this.syncMetadata === on) return;
    this.syncMetadata = on;
    if (on && !this.readOnly && !this.closed) await this.journal.sync('meta');
  }

  /**
   * Namespace and attribute changes before the reply: on disk (sync), or
   * with lazy metadata committed without waiting for the disk, so that only
   * a crash of the host, not of the gateway, can lose them.
   */
  private async durable(): Promise<void> {
    await this.journal.sync(this.syncMetadata ? 'meta' : 'applied');
  }

  private newGen(): number {
    if (this.nextGen >= this.genCeiling) {
      const ceiling = this.nextGen + GEN_RESERVE;
      this.journal.writeSynced(() => this.stmts.putMeta.run('gen_ceiling', ceiling));
      // Raised only once durable: after a failed write the next new inode tries again.
      this.genCeiling = ceiling;
    }
    return (this.nextGen++ % 0xffffffff) + 1;
  }

  // ---- internals: lookups and checks ------------------------------------

  private async begin(): Promise<void> {
    if (this.readOnly) throw fsError('ROFS', 'filesystem is read-only');
    while (this.gate) await this.gate;
    if (this.closed) throw fsError('IO', 'filesystem is closed');
    this.inflight++;
  }

  private end(): void {
    if (--this.inflight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private idle(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Run a synchronous call, turning database failures into IO. */
  private guard<T>(fn: () => T): T {
    if (this.closed) throw fsError('IO', 'filesystem is closed');
    try {
      return fn();
    } catch (err) {
      throw asFsError(err, 'metadata');
    }
  }

  private iget(ino: number): Inode | undefined {
    let inode = this.inodes.get(ino);
    if (inode) return inode;
    const row = this.stmts.getInode.get(ino);
    if (!row) return undefined;
    inode = new Inode(row);
    this.inodes.set(ino, inode);
    return inode;
  }

  /** The live object a handle names. */
  private node(id: NodeId): Inode {
    if (!Number.isSafeInteger(id.ino) || id.ino < 1) throw fsError('STALE', `no inode ${id.ino}`);
    const inode = this.iget(id.ino);
    if (!inode || inode.dead || inode.gen !== id.gen) throw fsError('STALE', `inode ${id.ino} generation ${id.gen} is gone`);
    return inode;
  }

  /** An inode a directory entry names: missing means corruption. */
  private live(ino: number): Inode {
    const inode = this.iget(ino);
    if (!inode || inode.dead) throw fsError('IO', `directory entry names missing inode ${ino}: run fsck`);
    return inode;
  }

  private dirNode(id: NodeId): Inode {
    const inode = this.node(id);
    if (inode.type !== FileType.DIR) throw fsError('NOTDIR', `inode ${id.ino} is not a directory`);
    return inode;
  }

  private dirOf(dir: Inode): Directory {
    return (dir.dir ??= new Directory(this.stmts.listDir.all(dir.ino)));
  }

  private extentsOf(inode: Inode): ExtentMap {
    return (inode.extents ??= new ExtentMap(this.stmts.listExtents.all(inode.ino)));
  }

  private checkDirWrite(cred: Credential, dir: Inode): void {
    if (!permits(cred, dir, MAY_WRITE | MAY_EXEC)) throw fsError('ACCES', `no write and search permission on directory ${dir.ino}`);
  }

  private checkData(cred: Credential, inode: Inode, want: typeof MAY_READ | typeof MAY_WRITE): void {
    if (inode.type === FileType.DIR) throw fsError('ISDIR', `inode ${inode.ino} is a directory`);
    if (inode.type !== FileType.REG) throw fsError('INVAL', `inode ${inode.ino} is not a regular file`);
    if (!permitsData(cred, inode, want)) throw fsError('ACCES', `no ${want === MAY_READ ? 'read' : 'write'} permission on inode ${inode.ino}`);
  }

  /** Timestamps strictly increase, so every change is visible in mtime/ctime. */
  private now(): Timestamp {
    const t = this.clock();
    const last = this.lastTime;
    if (t.sec > last.sec || (t.sec === last.sec && t.nsec > last.nsec)) {
      this.lastTime = t;
      return t;
    }
    const next = last.nsec === 999_999_999 ? { sec: last.sec + 1, nsec: 0 } : { sec: last.sec, nsec: last.nsec + 1 };
    this.lastTime = next;
    return next;
  }
}

interface MountState {
  blockSize: number;
  alloc: BlockAllocator;
  inodeLimit: number;
  inodeCount: number;
  nextIno: number;
  nextGen: number;
  genCeiling: number;
  mountEpoch: number;
}

interface SetattrPlan {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  atime?: Timestamp | 'server';
  mtime?: Timestamp | 'server';
}

function wallClock(): Timestamp {
  const ms = performance.timeOrigin + performance.now();
  const sec = Math.floor(ms / 1000);
  return { sec, nsec: Math.min(999_999_999, Math.floor((ms - sec * 1000) * 1e6)) };
}

/** A name a directory entry may have. */
function checkName(name: string): void {
  if (name.length === 0) throw fsError('INVAL', 'empty name');
  if (name.includes('/') || name.includes('\0')) throw fsError('INVAL', `name '${name}' contains '/' or NUL`);
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) throw fsError('NAMETOOLONG', `name of ${Buffer.byteLength(name, 'utf8')} bytes`);
}

function checkNewName(name: string): void {
  if (name === '.' || name === '..') throw fsError('EXIST', `'${name}' exists`);
  checkName(name);
}

function checkRange(offset: number, count: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(count) || count < 0) {
    throw fsError('INVAL', `range at ${offset} of ${count} bytes`);
  }
}

function cookieVerifier(dir: Inode): Buffer {
  const v = Buffer.alloc(8);
  v.writeUInt32BE(dir.gen >>> 0, 0);
  v.writeUInt32BE(dir.ino % 2 ** 32, 4);
  return v;
}

function isZero(buf: Buffer): boolean {
  for (const b of buf) if (b !== 0) return false;
  return true;
}

export { FsError };
