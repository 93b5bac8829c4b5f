/**
 * NFSv3 basic data types (RFC 1813 section 2.5) and their XDR codecs, shared by every procedure.
 *
 * Number or bigint: 32-bit fields are numbers. size3/offset3 quantities (file sizes, offsets, byte and
 * file counts) are numbers: decoded with `uhyperClamped`, so a value a peer sends beyond 2^53-1 reads as
 * 2^53, larger than any real file (the handler answers FBIG/EOF, never GARBAGE_ARGS). fileid3 is a number
 * too (our inode numbers are far below 2^53); a fileid beyond 2^53-1 cannot be represented and is refused
 * on decode. Identifiers that use all 64 bits are bigint: fsid, cookie3, and the 8-byte verifiers
 * (cookieverf3, createverf3, writeverf3), read as a big-endian uint64 so they compare with ===.
 *
 * Decoded opaque data (file handles, WRITE data) are views into the request buffer, valid while it is.
 */

import { isUtf8 } from 'node:buffer';
import type { XdrReader, XdrWriter } from '../xdr/xdr';
import {
  FTYPE3_VALUES,
  NFS3_FHSIZE,
  NFS3_MAXNAMLEN,
  NFS3_MAXPATHLEN,
  NFSSTAT3_VALUES,
  Nfs3DecodeError,
  TIME_HOW_VALUES,
  ftype3,
  nfsstat3,
  time_how,
} from './constants';

/* struct nfs_fh3 { opaque data<NFS3_FHSIZE>; }; */
export type nfs_fh3 = Buffer;

export function readNfsFh3(r: XdrReader, what = 'nfs_fh3'): nfs_fh3 {
  return r.varOpaque(NFS3_FHSIZE, what);
}

export function writeNfsFh3(w: XdrWriter, fh: nfs_fh3): void {
  w.varOpaque(fh);
}

/** Bytes an nfs_fh3 takes on the wire: length word plus padded data. */
export function nfsFh3Size(fh: nfs_fh3): number {
  return 4 + ((fh.length + 3) & ~3);
}

/*
 * typedef string filename3<>;
 * typedef string nfspath3<>;
 */
function readName(r: XdrReader, max: number, what: string): string {
  const raw = r.varOpaque(0xffffffff, what);
  if (raw.length > max) throw new Nfs3DecodeError(nfsstat3.NFS3ERR_NAMETOOLONG, `${what} of ${raw.length} bytes exceeds ${max}`);
  // A lossy decode would map different byte names onto one string; refuse instead.
  if (!isUtf8(raw)) throw new Nfs3DecodeError(nfsstat3.NFS3ERR_INVAL, `${what} is not valid UTF-8`);
  return raw.toString('utf8');
}

/** A filename3: at most NFS3_MAXNAMLEN bytes of UTF-8, else Nfs3DecodeError (NAMETOOLONG / INVAL). */
export function readFilename3(r: XdrReader, what = 'filename3'): string {
  return readName(r, NFS3_MAXNAMLEN, what);
}

/** An nfspath3 (symlink text): at most NFS3_MAXPATHLEN bytes of UTF-8, else Nfs3DecodeError. */
export function readNfspath3(r: XdrReader, what = 'nfspath3'): string {
  return readName(r, NFS3_MAXPATHLEN, what);
}

/* struct specdata3 { uint32 specdata1; uint32 specdata2; }; */
export interface specdata3 {
  specdata1: number;
  specdata2: number;
}

/* struct nfstime3 { uint32 seconds; uint32 nseconds; }; */
export interface nfstime3 {
  seconds: number;
  nseconds: number;
}

export function readNfstime3(r: XdrReader, what = 'nfstime3'): nfstime3 {
  return { seconds: r.uint32(`${what}.seconds`), nseconds: r.uint32(`${what}.nseconds`) };
}

export function writeNfstime3(w: XdrWriter, t: nfstime3): void {
  w.uint32(t.seconds).uint32(t.nseconds);
}

export function readFtype3(r: XdrReader, what = 'ftype3'): ftype3 {
  return r.enumOf<ftype3>(FTYPE3_VALUES, what);
}

export function readNfsstat3(r: XdrReader): nfsstat3 {
  return r.enumOf<nfsstat3>(NFSSTAT3_VALUES, 'nfsstat3');
}

/*
 * struct fattr3 {
 *    ftype3     type;
 *    mode3      mode;
 *    uint32     nlink;
 *    uid3       uid;
 *    gid3       gid;
 *    size3      size;
 *    size3      used;
 *    specdata3  rdev;
 *    uint64     fsid;
 *    fileid3    fileid;
 *    nfstime3   atime;
 *    nfstime3   mtime;
 *    nfstime3   ctime;
 * };
 */
export interface fattr3 {
  type: ftype3;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  size: number;
  used: number;
  rdev: specdata3;
  fsid: bigint;
  fileid: number;
  atime: nfstime3;
  mtime: nfstime3;
  ctime: nfstime3;
}

/** Encoded size of an fattr3: 5 words, 5 hypers (size, used, rdev, fsid, fileid), 3 times. */
export const FATTR3_SIZE = 84;

export function readFattr3(r: XdrReader): fattr3 {
  return {
    type: readFtype3(r, 'fattr3.type'),
    mode: r.uint32('fattr3.mode'),
    nlink: r.uint32('fattr3.nlink'),
    uid: r.uint32('fattr3.uid'),
    gid: r.uint32('fattr3.gid'),
    size: r.uhyperClamped('fattr3.size'),
    used: r.uhyperClamped('fattr3.used'),
    rdev: { specdata1: r.uint32('fattr3.rdev.specdata1'), specdata2: r.uint32('fattr3.rdev.specdata2') },
    fsid: r.uhyperBig('fattr3.fsid'),
    fileid: r.uhyper('fattr3.fileid'),
    atime: readNfstime3(r, 'fattr3.atime'),
    mtime: readNfstime3(r, 'fattr3.mtime'),
    ctime: readNfstime3(r, 'fattr3.ctime'),
  };
}

export function writeFattr3(w: XdrWriter, a: fattr3): void {
  w.int32(a.type).uint32(a.mode).uint32(a.nlink).uint32(a.uid).uint32(a.gid);
  w.uhyper(a.size).uhyper(a.used).uint32(a.rdev.specdata1).uint32(a.rdev.specdata2);
  w.uhyper(a.fsid).uhyper(a.fileid);
  writeNfstime3(w, a.atime);
  writeNfstime3(w, a.mtime);
  writeNfstime3(w, a.ctime);
}

/* union post_op_attr switch (bool attributes_follow) { case TRUE: fattr3 attributes; case FALSE: void; }; */
export type post_op_attr = fattr3 | undefined;

export function readPostOpAttr(r: XdrReader, what = 'post_op_attr'): post_op_attr {
  return r.bool(`${what}.attributes_follow`) ? readFattr3(r) : undefined;
}

export function writePostOpAttr(w: XdrWriter, a: post_op_attr): void {
  w.bool(a !== undefined);
  if (a !== undefined) writeFattr3(w, a);
}

export function postOpAttrSize(a: post_op_attr): number {
  return a === undefined ? 4 : 4 + FATTR3_SIZE;
}

/* struct wcc_attr { size3 size; nfstime3 mtime; nfstime3 ctime; }; */
export interface wcc_attr {
  size: number;
  mtime: nfstime3;
  ctime: nfstime3;
}

/* union pre_op_attr switch (bool attributes_follow) { case TRUE: wcc_attr attributes; case FALSE: void; }; */
export type pre_op_attr = wcc_attr | undefined;

/* struct wcc_data { pre_op_attr before; post_op_attr after; }; */
export interface wcc_data {
  before?: pre_op_attr;
  after?: post_op_attr;
}

export function readWccData(r: XdrReader, what = 'wcc_data'): wcc_data {
  const before = r.bool(`${what}.before.attributes_follow`)
    ? { size: r.uhyperClamped(`${what}.before.size`), mtime: readNfstime3(r, `${what}.before.mtime`), ctime: readNfstime3(r, `${what}.before.ctime`) }
    : undefined;
  return { before, after: readPostOpAttr(r, `${what}.after`) };
}

/** A missing wcc_data (a failure body left out) encodes as neither before nor after attributes. */
export function writeWccData(w: XdrWriter, d: wcc_data | undefined): void {
  const before = d?.before;
  w.bool(before !== undefined);
  if (before !== undefined) {
    w.uhyper(before.size);
    writeNfstime3(w, before.mtime);
    writeNfstime3(w, before.ctime);
  }
  writePostOpAttr(w, d?.after);
}

/* union post_op_fh3 switch (bool handle_follows) { case TRUE: nfs_fh3 handle; case FALSE: void; }; */
export type post_op_fh3 = nfs_fh3 | undefined;

export function readPostOpFh3(r: XdrReader, what = 'post_op_fh3'): post_op_fh3 {
  return r.bool(`${what}.handle_follows`) ? readNfsFh3(r, `${what}.handle`) : undefined;
}

export function writePostOpFh3(w: XdrWriter, fh: post_op_fh3): void {
  w.bool(fh !== undefined);
  if (fh !== undefined) writeNfsFh3(w, fh);
}

export function postOpFh3Size(fh: post_op_fh3): number {
  return fh === undefined ? 4 : 4 + nfsFh3Size(fh);
}

/*
 * union set_mode3 switch (bool set_it) { case TRUE: mode3 mode; default: void; };
 * union set_uid3  switch (bool set_it) { case TRUE: uid3 uid;   default: void; };
 * union set_gid3  switch (bool set_it) { case TRUE: gid3 gid;   default: void; };
 * union set_size3 switch (bool set_it) { case TRUE: size3 size; default: void; };
 * union set_atime switch (time_how set_it) { case SET_TO_CLIENT_TIME: nfstime3 atime; default: void; };
 * union set_mtime switch (time_how set_it) { case SET_TO_CLIENT_TIME: nfstime3 mtime; default: void; };
 * struct sattr3 { set_mode3 mode; set_uid3 uid; set_gid3 gid; set_size3 size; set_atime atime; set_mtime mtime; };
 */

/** set_atime / set_mtime: undefined is DONT_CHANGE, SET_TO_SERVER_TIME is "now", an nfstime3 is SET_TO_CLIENT_TIME. */
export type set_time = nfstime3 | time_how.SET_TO_SERVER_TIME | undefined;

/** Each field undefined when the client does not set it. */
export interface sattr3 {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  atime?: set_time;
  mtime?: set_time;
}

function readSetTime(r: XdrReader, what: string): set_time {
  const how = r.enumOf<time_how>(TIME_HOW_VALUES, `${what}.set_it`);
  if (how === time_how.SET_TO_CLIENT_TIME) return readNfstime3(r, what);
  return how === time_how.SET_TO_SERVER_TIME ? time_how.SET_TO_SERVER_TIME : undefined;
}

function writeSetTime(w: XdrWriter, t: set_time): void {
  if (t === undefined) w.int32(time_how.DONT_CHANGE);
  else if (t === time_how.SET_TO_SERVER_TIME) w.int32(time_how.SET_TO_SERVER_TIME);
  else writeNfstime3(w.int32(time_how.SET_TO_CLIENT_TIME), t);
}

export function readSattr3(r: XdrReader, what = 'sattr3'): sattr3 {
  return {
    mode: r.bool(`${what}.mode.set_it`) ? r.uint32(`${what}.mode`) : undefined,
    uid: r.bool(`${what}.uid.set_it`) ? r.uint32(`${what}.uid`) : undefined,
    gid: r.bool(`${what}.gid.set_it`) ? r.uint32(`${what}.gid`) : undefined,
    size: r.bool(`${what}.size.set_it`) ? r.uhyperClamped(`${what}.size`) : undefined,
    atime: readSetTime(r, `${what}.atime`),
    mtime: readSetTime(r, `${what}.mtime`),
  };
}

export function writeSattr3(w: XdrWriter, s: sattr3): void {
  w.bool(s.mode !== undefined);
  if (s.mode !== undefined) w.uint32(s.mode);
  w.bool(s.uid !== undefined);
  if (s.uid !== undefined) w.uint32(s.uid);
  w.bool(s.gid !== undefined);
  if (s.gid !== undefined) w.uint32(s.gid);
  w.bool(s.size !== undefined);
  if (s.size !== undefined) w.uhyper(s.size);
  writeSetTime(w, s.atime);
  writeSetTime(w, s.mtime);
}

/* struct diropargs3 { nfs_fh3 dir; filename3 name; }; */
export interface diropargs3 {
  dir: nfs_fh3;
  name: string;
}

export function readDiropargs3(r: XdrReader, what = 'diropargs3'): diropargs3 {
  return { dir: readNfsFh3(r, `${what}.dir`), name: readFilename3(r, `${what}.name`) };
}

export function writeDiropargs3(w: XdrWriter, d: diropargs3): void {
  writeNfsFh3(w, d.dir);
  w.string(d.name);
}

/* typedef opaque cookieverf3[8]; createverf3[8]; writeverf3[8]: the 8 bytes as a big-endian uint64. */
export function readVerf(r: XdrReader, what: string): bigint {
  return r.uhyperBig(what);
}

export function writeVerf(w: XdrWriter, v: bigint): void {
  w.uhyper(v);
}

/**
 * Every result union: `case NFS3_OK: XXX3resok resok; default: XXX3resfail resfail;`. A handler may leave
 * resfail out (all its optional attributes then encode as absent); a decoded failure always carries one.
 */
export type Nfs3Result<Ok, Fail> =
  | { status: nfsstat3.NFS3_OK; resok: Ok }
  | { status: Exclude<nfsstat3, nfsstat3.NFS3_OK>; resfail?: Fail };

/** Write the status and pick the arm. */
export function writeResult<Ok, Fail>(
  w: XdrWriter,
  res: Nfs3Result<Ok, Fail>,
  ok: (w: XdrWriter, v: Ok) => void,
  fail: (w: XdrWriter, v: Fail | undefined) => void,
): void {
  w.int32(res.status);
  if (res.status === nfsstat3.NFS3_OK) ok(w, res.resok);
  else fail(w, res.resfail);
}

export function readResult<Ok, Fail>(r: XdrReader, ok: (r: XdrReader) => Ok, fail: (r: XdrReader) => Fail): Nfs3Result<Ok, Fail> {
  const status = readNfsstat3(r);
  return status === nfsstat3.NFS3_OK ? { status, resok: ok(r) } : { status, resfail: fail(r) };
}

