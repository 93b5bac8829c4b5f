import { nfsstat4 } from '../../protocols/nfs4/constants';
import type { ExportDecision, UnixCredential } from '../exports/export-rules';
import type { ExportEntry } from '../exports/export-table';
import type { HandleCache } from '../handle-cache';
import { type Attr, type Credential, FileType, type NodeId, MAX_NAME_BYTES } from '../fs';
import type { FsView } from '../snapshots/share-view';
import { fail } from './nfs4-status';

/** What the NFSv4 handlers need from the NAS service: the shares, their rules and filesystems. */
export interface Nfs4Shares {
  list(): ExportEntry[];
  byShareName(name: string): ExportEntry | undefined;
  byExportId(exportId: number): ExportEntry | undefined;
  decide(exportId: number, client: { address: string; port: number }, credential: UnixCredential | null): ExportDecision;
  filesystem(exportId: number): FsView | undefined;
  fault(err: unknown, what: string): void;
}

/** The pseudo-filesystem root (RFC 8881 section 7.3): a read-only directory whose entries are the shares. */
export interface PseudoObj {
  kind: 'pseudo';
}

/** An object of a share, and the caller as the share's export rules see it. */
export interface ShareObj {
  kind: 'share';
  entry: ExportEntry;
  fs: FsView;
  node: NodeId;
  type: FileType;
  cred: Credential;
  /** No change allowed: the export is read-only to this caller, or the object is in a snapshot. */
  readOnly: boolean;
  /** What the export rules alone say (readOnly without the snapshot part). */
  exportReadOnly: boolean;
}

export type Obj = PseudoObj | ShareObj;

export const PSEUDO: PseudoObj = Object.freeze({ kind: 'pseudo' });

/**
 * The pseudo root's handle: 40 bytes like a share's handle but with version byte 0x80, which no share
 * handle has, so the two never collide. It needs no MAC: it grants nothing beyond the share names
 * a caller may see anyway.
 */
export const PSEUDO_FH: Buffer = (() => {
  const b = Buffer.alloc(40);
  b[0] = 0x80;
  b.write('strata-pseudo-root', 8, 'latin1');
  return b;
})();

/** The pseudo root's fileid; a share's root shows in it with fileid PSEUDO_FILEID_BASE + export id. */
export const PSEUDO_FILEID = 1;
export const PSEUDO_FILEID_BASE = 2 ** 32;

export interface Caller {
  address: string;
  port: number;
  cred: UnixCredential | null;
}

/** Whether a share admits this caller, and as whom; undefined when it does not. */
export function admit(shares: Nfs4Shares, entry: ExportEntry, caller: Caller): { cred: Credential; readOnly: boolean } | undefined {
  const d = shares.decide(entry.exportId, { address: caller.address, port: caller.port }, caller.cred);
  return d.allowed ? { cred: d.credential, readOnly: d.access === 'ro' } : undefined;
}

/** The root of a share as a caller sees it from the pseudo root; NFS4ERR_NOENT when hidden from it. */
export function shareRoot(shares: Nfs4Shares, entry: ExportEntry, caller: Caller): ShareObj {
  const a = admit(shares, entry, caller);
  if (!a) return fail(nfsstat4.NFS4ERR_NOENT, `share '${entry.name}' is not exported to ${caller.address}`);
  const fs = shares.filesystem(entry.exportId) ?? fail(nfsstat4.NFS4ERR_IO, `share '${entry.name}' cannot be served now`);
  return { kind: 'share', entry, fs, node: fs.root, type: FileType.DIR, cred: a.cred, readOnly: a.readOnly, exportReadOnly: a.readOnly };
}

/** PUTFH: the object a handle names, the export rules applied as for NFSv3 (NFS4ERR_ACCESS outside them). */
export function fromHandle(shares: Nfs4Shares, handles: HandleCache, fh: Buffer, caller: Caller): Obj {
  if (fh.equals(PSEUDO_FH)) return PSEUDO;
  const h = handles.decode(fh, (id) => shares.byExportId(id)?.secretKey);
  const entry = shares.byExportId(h.exportId)!;
  const a = admit(shares, entry, caller);
  if (!a) return fail(nfsstat4.NFS4ERR_ACCESS, `share '${entry.name}' refuses ${caller.address}`);
  const fs = shares.filesystem(h.exportId) ?? fail(nfsstat4.NFS4ERR_IO, `share '${entry.name}' cannot be served now`);
  const node: NodeId = h.snapshotId === 0 ? { ino: h.ino, gen: h.generation } : { ino: h.ino, gen: h.generation, snap: h.snapshotId };
  const attr = fs.getattr(node);
  return { kind: 'share', entry, fs, node, type: attr.type, cred: a.cred, readOnly: a.readOnly || h.snapshotId !== 0, exportReadOnly: a.readOnly };
}

export function handleOf(o: Obj, handles: HandleCache): Buffer {
  if (o.kind === 'pseudo') return PSEUDO_FH;
  return handles.encode({ exportId: o.entry.exportId, snapshotId: o.node.snap ?? 0, ino: o.node.ino, generation: o.node.gen }, o.entry.secretKey);
}

/** Another object of the same share, with the same caller; read-only when in a snapshot (LOOKUP crosses into `/.snapshots` and back). */
export function child(o: ShareObj, node: NodeId, attr: Attr): ShareObj {
  return { ...o, node, type: attr.type, readOnly: o.exportReadOnly || !!node.snap };
}

/** Whether two NodeIds name one object: the same inode in the same view. */
export const sameNode = (a: NodeId, b: NodeId) => a.ino === b.ino && a.gen === b.gen && (a.snap ?? 0) === (b.snap ?? 0);

export const isRoot = (o: ShareObj) => sameNode(o.node, o.fs.root);

/* component4 rules (RFC 8881 section 14.2): not empty, no '/', not '.' or '..', at most maxname bytes. */
export function checkName(name: string): void {
  if (name.length === 0) fail(nfsstat4.NFS4ERR_INVAL, 'empty name');
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) fail(nfsstat4.NFS4ERR_NAMETOOLONG, `name of more than ${MAX_NAME_BYTES} bytes`);
  if (name === '.' || name === '..' || name.includes('/') || name.includes('\0')) fail(nfsstat4.NFS4ERR_BADNAME, `'${name}' is not a valid name`);
}

/** The pseudo root as an object with attributes: read-only, owned by root, its change moving with the share list. */
export function pseudoAttr(shares: readonly ExportEntry[], since: { sec: number; nsec: number }): Attr {
  let change = shares.length;
  for (const e of shares) change = (change * 31 + e.exportId) % 2 ** 48;
  return {
    type: FileType.DIR,
    mode: 0o555,
    nlink: 2 + shares.length,
    uid: 0,
    gid: 0,
    size: 4096,
    used: 4096,
    rdev: { major: 0, minor: 0 },
    ino: PSEUDO_FILEID,
    gen: 0,
    atime: since,
    mtime: since,
    ctime: since,
    change,
  };
}

/** OPEN, READ, WRITE and locks act on regular files (RFC 8881 section 18.16.3: ISDIR, SYMLINK, else INVAL). */
export function requireFile(o: Obj): ShareObj {
  if (o.kind === 'pseudo' || o.type === FileType.DIR) return fail(nfsstat4.NFS4ERR_ISDIR, 'the object is a directory');
  if (o.type === FileType.LNK) fail(nfsstat4.NFS4ERR_SYMLINK, 'the object is a symbolic link');
  if (o.type !== FileType.REG) fail(nfsstat4.NFS4ERR_INVAL, 'the object is not a regular file');
  return o;
}

/** Operations that look in a directory: NOTDIR for files, SYMLINK for links (RFC 8881 section 18.13.3). */
export function requireDir(o: Obj): Obj {
  if (o.kind === 'share' && o.type !== FileType.DIR) fail(o.type === FileType.LNK ? nfsstat4.NFS4ERR_SYMLINK : nfsstat4.NFS4ERR_NOTDIR, 'the object is not a directory');
  return o;
}

/** A share directory that may change: the pseudo root and read-only exports are NFS4ERR_ROFS. */
export function writableDir(o: Obj): ShareObj {
  requireDir(o);
  if (o.kind === 'pseudo') return fail(nfsstat4.NFS4ERR_ROFS, 'the pseudo root cannot change');
  if (o.readOnly) fail(nfsstat4.NFS4ERR_ROFS, `share '${o.entry.name}' is exported read-only to this client`);
  return o;
}
