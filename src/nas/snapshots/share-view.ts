import type { ShareSnapshotRef } from '../../storage/domain';
import {
  FileType,
  type Attr,
  type CreateHow,
  type CreateResult,
  type Credential,
  type DirEntry,
  type FileSystem,
  type FsStat,
  type LookupResult,
  type NodeId,
  type ReaddirOptions,
  type ReaddirResult,
  type ReadResult,
  type RenameResult,
  type SetAttrs,
  type StableHow,
  type Timestamp,
  type Wcc,
  type WriteResult,
} from '../fs';
import { fsError } from '../fs/fs-error';

/** The directory at a share's root under which every snapshot shows, read-only. */
export const SNAPSHOT_DIR = '.snapshots';
/** The view number of `/.snapshots` itself; 0 is the live share and snapshots count up from 1. */
export const SNAPSHOT_DIR_VIEW = 0xffffffff;
/** `/.snapshots` is the only object of its view: fileid 1, generation 1. */
const SNAPSHOT_DIR_NODE: NodeId = Object.freeze({ ino: 1, gen: 1, snap: SNAPSHOT_DIR_VIEW });
/** ACCESS3_READ | ACCESS3_LOOKUP | ACCESS3_EXECUTE (the same bits in NFSv4): all a read-only directory grants. */
const READ_ONLY_ACCESS = 0x01 | 0x02 | 0x20;
const ZERO_VERIFIER = Buffer.alloc(8);

/** What the NFS handlers call on a share: the engine's operations, over the live filesystem and its snapshots. */
export type FsView = Pick<
  FileSystem,
  | 'root'
  | 'getattr'
  | 'setattr'
  | 'access'
  | 'lookup'
  | 'readlink'
  | 'create'
  | 'mkdir'
  | 'symlink'
  | 'mknod'
  | 'remove'
  | 'rmdir'
  | 'rename'
  | 'link'
  | 'readdir'
  | 'read'
  | 'write'
  | 'commit'
  | 'hold'
  | 'release'
> & {
  /** Space and inodes of the filesystem the object is in (the live share's without one). */
  fsstat(id?: NodeId): FsStat;
};

/** A share's snapshots as the view needs them. */
export interface SnapshotSource {
  /** Oldest first. */
  list(): readonly ShareSnapshotRef[];
  /** The snapshot's filesystem, opened read-only on first use; an FsError (IO) when it cannot be. */
  open(ref: ShareSnapshotRef): FileSystem;
}

type Place = { kind: 'dir' } | { kind: 'snap'; fs: FileSystem; view: number };

/**
 * One share as NFS clients see it: the live filesystem, plus a virtual
 * read-only directory `/.snapshots` at its root holding one directory per
 * snapshot, below which the snapshot's own filesystem (its metadata copy
 * over its snapshot volume) answers. Each object's NodeId carries its view
 * (`snap`), which file handles keep, so handles into a snapshot survive a
 * restart and are STALE once the snapshot is deleted.
 *
 * `/.snapshots` is reachable by name and hidden from the root's listing
 * (NetApp's default), so `ls -a`, `find` and backups of the share do not
 * walk every snapshot. A name `.snapshots` cannot be created at the root;
 * one made before this existed is shadowed (still listed, and it can be
 * renamed or removed by name).
 */
export class ShareView implements FsView {
  readonly root: NodeId;

  constructor(
    readonly live: FileSystem,
    private readonly snapshots: SnapshotSource,
    /** What `/.snapshots` shows as its times when there is no snapshot. */
    private readonly since: Timestamp,
  ) {
    this.root = live.root;
  }

  // ---- reads ------------------------------------------------------------------------------

  getattr(id: NodeId): Attr {
    if (!id.snap) return this.live.getattr(id);
    const p = this.place(id);
    return p.kind === 'dir' ? this.dirAttr() : this.tagAttr(p.fs.getattr(id), p.view);
  }

  access(cred: Credential, id: NodeId, requested: number): { granted: number; attr: Attr } {
    if (!id.snap) return this.live.access(cred, id, requested);
    const p = this.place(id);
    if (p.kind === 'dir') return { granted: requested & READ_ONLY_ACCESS, attr: this.dirAttr() };
    const r = p.fs.access(cred, id, requested);
    return { granted: r.granted, attr: this.tagAttr(r.attr, p.view) };
  }

  lookup(cred: Credential, dirId: NodeId, name: string): LookupResult {
    if (!dirId.snap) {
      if (name === SNAPSHOT_DIR && this.isLiveRoot(dirId)) {
        // The root's search permission applies as to any name in it.
        const r = this.live.lookup(cred, dirId, '.');
        return { node: SNAPSHOT_DIR_NODE, attr: this.dirAttr(), dir: r.attr };
      }
      return this.live.lookup(cred, dirId, name);
    }
    const p = this.place(dirId);
    if (p.kind === 'dir') {
      if (name === '.') return { node: SNAPSHOT_DIR_NODE, attr: this.dirAttr(), dir: this.dirAttr() };
      if (name === '..') return { node: this.root, attr: this.live.getattr(this.root), dir: this.dirAttr() };
      const ref = this.snapshots.list().find((s) => s.name === name) ?? fail('NOENT', `no snapshot '${name}'`);
      const fs = this.snapshots.open(ref);
      return { node: { ...fs.root, snap: ref.handleId }, attr: this.tagAttr(fs.getattr(fs.root), ref.handleId), dir: this.dirAttr() };
    }
    const r = p.fs.lookup(cred, dirId, name);
    if (name === '..' && dirId.ino === p.fs.root.ino) return { node: SNAPSHOT_DIR_NODE, attr: this.dirAttr(), dir: this.tagAttr(r.dir, p.view) };
    return { node: { ...r.node, snap: p.view }, attr: this.tagAttr(r.attr, p.view), dir: this.tagAttr(r.dir, p.view) };
  }

  readlink(cred: Credential, id: NodeId): { target: string; attr: Attr } {
    if (!id.snap) return this.live.readlink(cred, id);
    const p = this.place(id);
    if (p.kind === 'dir') return fail('INVAL', `'${SNAPSHOT_DIR}' is not a symbolic link`);
    const r = p.fs.readlink(cred, id);
    return { target: r.target, attr: this.tagAttr(r.attr, p.view) };
  }

  readdir(cred: Credential, dirId: NodeId, cookie: number, verifier?: Buffer, opts: ReaddirOptions = {}): ReaddirResult {
    if (!dirId.snap) return this.live.readdir(cred, dirId, cookie, verifier, opts);
    const p = this.place(dirId);
    if (p.kind === 'dir') return this.readSnapshotDir(cookie, opts);
    const atRoot = dirId.ino === p.fs.root.ino;
    const accept = opts.accept;
    const tag = (e: DirEntry): DirEntry => (atRoot && e.name === '..' ? { ...e, node: SNAPSHOT_DIR_NODE } : { ...e, node: { ...e.node, snap: p.view } });
    const r = p.fs.readdir(cred, dirId, cookie, verifier, { ...opts, accept: accept ? (e) => accept(tag(e)) : undefined });
    return { ...r, entries: r.entries.map(tag), dir: this.tagAttr(r.dir, p.view) };
  }

  async read(cred: Credential, id: NodeId, offset: number, count: number, into?: Buffer): Promise<ReadResult> {
    if (!id.snap) return this.live.read(cred, id, offset, count, into);
    const p = this.place(id);
    if (p.kind === 'dir') return fail('ISDIR', `'${SNAPSHOT_DIR}' is a directory`);
    const r = await p.fs.read(cred, id, offset, count, into);
    return { ...r, attr: this.tagAttr(r.attr, p.view) };
  }

  async commit(id: NodeId): Promise<{ verifier: Buffer; attr: Attr }> {
    if (!id.snap) return this.live.commit(id);
    const p = this.place(id);
    if (p.kind === 'dir') return fail('ISDIR', `'${SNAPSHOT_DIR}' is a directory`);
    const r = await p.fs.commit(id);
    return { verifier: r.verifier, attr: this.tagAttr(r.attr, p.view) };
  }

  fsstat(id?: NodeId): FsStat {
    if (!id?.snap) return this.live.fsstat();
    const p = this.place(id);
    return p.kind === 'dir' ? this.live.fsstat() : p.fs.fsstat();
  }

  /** Opens of snapshot files hold nothing: a snapshot never loses a file. */
  hold(id: NodeId): void {
    if (!id.snap) this.live.hold(id);
    else this.place(id);
  }

  async release(id: NodeId): Promise<void> {
    if (!id.snap) return this.live.release(id);
  }

  // ---- changes: the live share only (async, so a refusal rejects like the engine's own) -----

  async setattr(cred: Credential, id: NodeId, attrs: SetAttrs, guard?: Timestamp): Promise<Wcc> {
    return this.writable(id).setattr(cred, id, attrs, guard);
  }

  async create(cred: Credential, dirId: NodeId, name: string, how: CreateHow): Promise<CreateResult & { existed: boolean }> {
    return this.newName(dirId, name).create(cred, dirId, name, how);
  }

  async mkdir(cred: Credential, dirId: NodeId, name: string, attrs?: SetAttrs): Promise<CreateResult> {
    return this.newName(dirId, name).mkdir(cred, dirId, name, attrs);
  }

  async symlink(cred: Credential, dirId: NodeId, name: string, target: string, attrs?: SetAttrs): Promise<CreateResult> {
    return this.newName(dirId, name).symlink(cred, dirId, name, target, attrs);
  }

  async mknod(cred: Credential, dirId: NodeId, name: string, type: FileType, attrs?: SetAttrs, rdev?: { major: number; minor: number }): Promise<CreateResult> {
    return this.newName(dirId, name).mknod(cred, dirId, name, type, attrs, rdev);
  }

  async remove(cred: Credential, dirId: NodeId, name: string): Promise<{ dir: Wcc }> {
    return this.writable(dirId).remove(cred, dirId, name);
  }

  async rmdir(cred: Credential, dirId: NodeId, name: string): Promise<{ dir: Wcc }> {
    return this.writable(dirId).rmdir(cred, dirId, name);
  }

  async rename(cred: Credential, fromId: NodeId, fromName: string, toId: NodeId, toName: string): Promise<RenameResult> {
    this.writable(fromId);
    return this.newName(toId, toName).rename(cred, fromId, fromName, toId, toName);
  }

  async link(cred: Credential, id: NodeId, dirId: NodeId, name: string): Promise<{ attr: Attr; dir: Wcc }> {
    const fs = this.newName(dirId, name);
    if (id.snap) return fail('XDEV', 'a file of a snapshot cannot be linked into the live share');
    return fs.link(cred, id, dirId, name);
  }

  async write(cred: Credential, id: NodeId, offset: number, data: Buffer, stable: StableHow): Promise<WriteResult> {
    return this.writable(id).write(cred, id, offset, data, stable);
  }

  // ---- internals --------------------------------------------------------------------------

  /** Where a non-live node lives; STALE when its snapshot is gone. */
  private place(id: NodeId): Place {
    if (id.snap === SNAPSHOT_DIR_VIEW) {
      if (id.ino !== SNAPSHOT_DIR_NODE.ino || id.gen !== SNAPSHOT_DIR_NODE.gen) fail('STALE', `no object ${id.ino} in '${SNAPSHOT_DIR}'`);
      return { kind: 'dir' };
    }
    const ref = this.snapshots.list().find((s) => s.handleId === id.snap) ?? fail('STALE', `snapshot ${id.snap} was deleted`);
    return { kind: 'snap', fs: this.snapshots.open(ref), view: ref.handleId };
  }

  /** The live filesystem, for a change to `id`: anything in a snapshot is read-only. */
  private writable(id: NodeId): FileSystem {
    if (id.snap) {
      this.place(id);
      fail('ROFS', 'snapshots are read-only');
    }
    return this.live;
  }

  /** As writable(), for a new name in `dirId`: `.snapshots` at the root is taken. */
  private newName(dirId: NodeId, name: string): FileSystem {
    const fs = this.writable(dirId);
    if (name === SNAPSHOT_DIR && this.isLiveRoot(dirId)) fail('EXIST', `'${SNAPSHOT_DIR}' at the root of a share is where its snapshots show`);
    return fs;
  }

  private isLiveRoot(id: NodeId): boolean {
    return id.ino === this.root.ino && id.gen === this.root.gen;
  }

  private tagAttr(a: Attr, view: number): Attr {
    return { ...a, snap: view };
  }

  /** `/.snapshots`: root's, read-only, its times those of the newest snapshot, its change moving with the list. */
  private dirAttr(): Attr {
    const list = this.snapshots.list();
    let change = list.length;
    for (const s of list) change = (change * 31 + s.handleId) % 2 ** 48;
    const newest = list.length > 0 ? timestampOf(list[list.length - 1].createdAt) : this.since;
    return {
      type: FileType.DIR,
      mode: 0o555,
      nlink: 2 + list.length,
      uid: 0,
      gid: 0,
      size: 4096,
      used: 0,
      rdev: { major: 0, minor: 0 },
      ino: SNAPSHOT_DIR_NODE.ino,
      gen: SNAPSHOT_DIR_NODE.gen,
      atime: newest,
      mtime: newest,
      ctime: newest,
      change: change + 1,
      snap: SNAPSHOT_DIR_VIEW,
    };
  }

  /** '.', '..' (the share's root), then one directory per snapshot; a snapshot's cookie is its number + 2, so it never moves. */
  private readSnapshotDir(cookie: number, opts: ReaddirOptions): ReaddirResult {
    if (!Number.isSafeInteger(cookie) || cookie < 0) fail('BAD_COOKIE', `cookie ${cookie}`);
    const all: DirEntry[] = [];
    if (opts.dots !== false) {
      all.push({ name: '.', cookie: 1, node: SNAPSHOT_DIR_NODE, type: FileType.DIR });
      all.push({ name: '..', cookie: 2, node: this.root, type: FileType.DIR });
    }
    // Every snapshot's root is the share's root as it was: same inode, same generation.
    const refs = [...this.snapshots.list()].sort((a, b) => a.handleId - b.handleId);
    for (const s of refs) all.push({ name: s.name, cookie: s.handleId + 2, node: { ...this.root, snap: s.handleId }, type: FileType.DIR });
    const entries: DirEntry[] = [];
    const max = opts.maxEntries ?? Infinity;
    let eof = true;
    for (const e of all) {
      if (e.cookie <= cookie) continue;
      if (entries.length >= max || (opts.accept && !opts.accept(e))) {
        eof = false;
        break;
      }
      entries.push(e);
    }
    return { entries, eof, verifier: ZERO_VERIFIER, dir: this.dirAttr() };
  }
}

function fail(code: Parameters<typeof fsError>[0], message: string): never {
  throw fsError(code, message);
}

/** An ISO-8601 time from the catalog as a Timestamp (the epoch when unreadable). */
export function timestampOf(iso: string): Timestamp {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return { sec: 0, nsec: 0 };
  return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1e6 };
}
