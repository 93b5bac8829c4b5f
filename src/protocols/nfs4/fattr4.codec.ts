/**
 * fattr4 (RFC 8881 section 5): a bitmap4 saying which attributes follow, then their values packed in
 * attribute-number order inside one opaque. Only the attributes this server implements have codecs;
 * any other bit in a fattr4 to decode is Nfs4DecodeError(NFS4ERR_ATTRNOTSUPP), since its size is unknown.
 *
 * 64-bit quantities are numbers decoded with uhyperClamped (sizes, counts, file ids), except `change`,
 * kept exact as a bigint because clients compare it.
 */

import { isUtf8 } from 'node:buffer';
import { XdrReader, XdrWriter } from '../xdr/xdr';
import { NFS4_FHSIZE, Nfs4DecodeError, nfsstat4, time_how4 } from './constants';

/* typedef uint32_t bitmap4<>; */
export type bitmap4 = number[];

/** Longest bitmap4 accepted: 16 words name attributes up to 511, far beyond any minor version. */
export const MAX_BITMAP_WORDS = 16;

export function readBitmap4(r: XdrReader, what = 'bitmap4'): bitmap4 {
  return r.array((x) => x.uint32(`${what} word`), MAX_BITMAP_WORDS, what);
}

export function writeBitmap4(w: XdrWriter, b: bitmap4): void {
  w.array(b, (x, v) => x.uint32(v));
}

export function bitmapHas(b: bitmap4, attr: number): boolean {
  const word = attr >>> 5;
  return word < b.length && (b[word] & (1 << (attr & 31))) !== 0;
}

/** A bitmap with these attribute numbers set, without trailing zero words. */
export function bitmapOf(attrs: Iterable<number>): bitmap4 {
  const out: number[] = [];
  for (const a of attrs) {
    const word = a >>> 5;
    while (out.length <= word) out.push(0);
    out[word] = (out[word] | (1 << (a & 31))) >>> 0;
  }
  return out;
}

/** The attribute numbers set in a bitmap, ascending. */
export function bitmapAttrs(b: bitmap4): number[] {
  const out: number[] = [];
  b.forEach((word, i) => {
    for (let bit = 0; bit < 32; bit++) if (word & (1 << bit)) out.push(i * 32 + bit);
  });
  return out;
}

/* struct nfstime4 { int64_t seconds; uint32_t nseconds; }; */
export interface nfstime4 {
  seconds: number;
  nseconds: number;
}

export function readNfstime4(r: XdrReader, what = 'nfstime4'): nfstime4 {
  const seconds = Number(r.hyperBig(`${what}.seconds`));
  return { seconds, nseconds: r.uint32(`${what}.nseconds`) };
}

export function writeNfstime4(w: XdrWriter, t: nfstime4): void {
  w.hyper(t.seconds).uint32(t.nseconds);
}

/* union settime4 switch (time_how4 set_it) { case SET_TO_CLIENT_TIME4: nfstime4 time; default: void; }; */
export type settime4 = { set_it: time_how4.SET_TO_SERVER_TIME4 } | { set_it: time_how4.SET_TO_CLIENT_TIME4; time: nfstime4 };

function readSettime4(r: XdrReader): settime4 {
  const how = r.uint32('time_how4');
  if (how === time_how4.SET_TO_SERVER_TIME4) return { set_it: time_how4.SET_TO_SERVER_TIME4 };
  if (how === time_how4.SET_TO_CLIENT_TIME4) return { set_it: time_how4.SET_TO_CLIENT_TIME4, time: readNfstime4(r) };
  throw new Nfs4DecodeError(nfsstat4.NFS4ERR_INVAL, `time_how4 ${how} is not a known value`);
}

function writeSettime4(w: XdrWriter, s: settime4): void {
  w.uint32(s.set_it);
  if (s.set_it === time_how4.SET_TO_CLIENT_TIME4) writeNfstime4(w, s.time);
}

/* struct fsid4 { uint64_t major; uint64_t minor; }; */
export interface fsid4 {
  major: number;
  minor: number;
}

/* struct specdata4 { uint32_t specdata1; uint32_t specdata2; }; */
export interface specdata4 {
  specdata1: number;
  specdata2: number;
}

/** Decoded or to-be-encoded attribute values, by the RFC's attribute names. */
export interface Fattr4 {
  supported_attrs?: bitmap4;
  type?: number;
  fh_expire_type?: number;
  change?: bigint;
  size?: number;
  link_support?: boolean;
  symlink_support?: boolean;
  named_attr?: boolean;
  fsid?: fsid4;
  unique_handles?: boolean;
  lease_time?: number;
  rdattr_error?: nfsstat4;
  aclsupport?: number;
  cansettime?: boolean;
  case_insensitive?: boolean;
  case_preserving?: boolean;
  chown_restricted?: boolean;
  filehandle?: Buffer;
  fileid?: number;
  files_avail?: number;
  files_free?: number;
  files_total?: number;
  homogeneous?: boolean;
  maxfilesize?: number;
  maxlink?: number;
  maxname?: number;
  maxread?: number;
  maxwrite?: number;
  mode?: number;
  no_trunc?: boolean;
  numlinks?: number;
  owner?: string;
  owner_group?: string;
  rawdev?: specdata4;
  space_avail?: number;
  space_free?: number;
  space_total?: number;
  space_used?: number;
  time_access?: nfstime4;
  time_access_set?: settime4;
  time_delta?: nfstime4;
  time_metadata?: nfstime4;
  time_modify?: nfstime4;
  time_modify_set?: settime4;
  mounted_on_fileid?: number;
  suppattr_exclcreat?: bitmap4;
}

/* const FATTR4_SUPPORTED_ATTRS = 0; ... FATTR4_SUPPATTR_EXCLCREAT = 75; (the ones served here) */
export const enum FATTR4 {
  SUPPORTED_ATTRS = 0,
  TYPE = 1,
  FH_EXPIRE_TYPE = 2,
  CHANGE = 3,
  SIZE = 4,
  LINK_SUPPORT = 5,
  SYMLINK_SUPPORT = 6,
  NAMED_ATTR = 7,
  FSID = 8,
  UNIQUE_HANDLES = 9,
  LEASE_TIME = 10,
  RDATTR_ERROR = 11,
  ACL = 12,
  ACLSUPPORT = 13,
  CANSETTIME = 15,
  CASE_INSENSITIVE = 16,
  CASE_PRESERVING = 17,
  CHOWN_RESTRICTED = 18,
  FILEHANDLE = 19,
  FILEID = 20,
  FILES_AVAIL = 21,
  FILES_FREE = 22,
  FILES_TOTAL = 23,
  HOMOGENEOUS = 26,
  MAXFILESIZE = 27,
  MAXLINK = 28,
  MAXNAME = 29,
  MAXREAD = 30,
  MAXWRITE = 31,
  MODE = 33,
  NO_TRUNC = 34,
  NUMLINKS = 35,
  OWNER = 36,
  OWNER_GROUP = 37,
  RAWDEV = 41,
  SPACE_AVAIL = 42,
  SPACE_FREE = 43,
  SPACE_TOTAL = 44,
  SPACE_USED = 45,
  TIME_ACCESS = 47,
  TIME_ACCESS_SET = 48,
  TIME_DELTA = 51,
  TIME_METADATA = 52,
  TIME_MODIFY = 53,
  TIME_MODIFY_SET = 54,
  MOUNTED_ON_FILEID = 55,
  SUPPATTR_EXCLCREAT = 75,
}

interface AttrCodec {
  key: keyof Fattr4;
  read(r: XdrReader): unknown;
  write(w: XdrWriter, v: never): void;
}

const u32 = { read: (r: XdrReader) => r.uint32(), write: (w: XdrWriter, v: number) => void w.uint32(v) };
const u64 = { read: (r: XdrReader) => r.uhyperClamped(), write: (w: XdrWriter, v: number) => void w.uhyper(v) };
const bool = { read: (r: XdrReader) => r.bool(), write: (w: XdrWriter, v: boolean) => void w.bool(v) };
const time = { read: (r: XdrReader) => readNfstime4(r), write: (w: XdrWriter, v: nfstime4) => writeNfstime4(w, v) };
const settime = { read: readSettime4, write: writeSettime4 };
const bitmap = { read: (r: XdrReader) => readBitmap4(r), write: (w: XdrWriter, v: bitmap4) => writeBitmap4(w, v) };
/* typedef utf8str_mixed fattr4_owner; a name that is not UTF-8 is NFS4ERR_INVAL. */
const utf8 = {
  read: (r: XdrReader) => {
    const raw = r.varOpaque(1024, 'utf8str_mixed');
    if (!isUtf8(raw)) throw new Nfs4DecodeError(nfsstat4.NFS4ERR_INVAL, 'owner is not UTF-8');
    return raw.toString('utf8');
  },
  write: (w: XdrWriter, v: string) => void w.string(v),
};

const attr = (key: keyof Fattr4, c: { read(r: XdrReader): unknown; write(w: XdrWriter, v: never): void }): AttrCodec => ({ key, read: c.read, write: c.write });

/** Codec per attribute number, the table both directions walk. */
export const ATTR_CODECS: ReadonlyMap<number, AttrCodec> = new Map<number, AttrCodec>([
  [FATTR4.SUPPORTED_ATTRS, attr('supported_attrs', bitmap)],
  [FATTR4.TYPE, attr('type', u32)],
  [FATTR4.FH_EXPIRE_TYPE, attr('fh_expire_type', u32)],
  [FATTR4.CHANGE, attr('change', { read: (r: XdrReader) => r.uhyperBig(), write: (w: XdrWriter, v: bigint) => void w.uhyper(v) })],
  [FATTR4.SIZE, attr('size', u64)],
  [FATTR4.LINK_SUPPORT, attr('link_support', bool)],
  [FATTR4.SYMLINK_SUPPORT, attr('symlink_support', bool)],
  [FATTR4.NAMED_ATTR, attr('named_attr', bool)],
  [FATTR4.FSID, attr('fsid', { read: (r: XdrReader) => ({ major: r.uhyperClamped(), minor: r.uhyperClamped() }), write: (w: XdrWriter, v: fsid4) => void w.uhyper(v.major).uhyper(v.minor) })],
  [FATTR4.UNIQUE_HANDLES, attr('unique_handles', bool)],
  [FATTR4.LEASE_TIME, attr('lease_time', u32)],
  [FATTR4.RDATTR_ERROR, attr('rdattr_error', { read: (r: XdrReader) => r.uint32(), write: (w: XdrWriter, v: number) => void w.uint32(v) })],
  [FATTR4.ACLSUPPORT, attr('aclsupport', u32)],
  [FATTR4.CANSETTIME, attr('cansettime', bool)],
  [FATTR4.CASE_INSENSITIVE, attr('case_insensitive', bool)],
  [FATTR4.CASE_PRESERVING, attr('case_preserving', bool)],
  [FATTR4.CHOWN_RESTRICTED, attr('chown_restricted', bool)],
  [FATTR4.FILEHANDLE, attr('filehandle', { read: (r: XdrReader) => r.varOpaque(NFS4_FHSIZE, 'nfs_fh4'), write: (w: XdrWriter, v: Buffer) => void w.varOpaque(v) })],
  [FATTR4.FILEID, attr('fileid', u64)],
  [FATTR4.FILES_AVAIL, attr('files_avail', u64)],
  [FATTR4.FILES_FREE, attr('files_free', u64)],
  [FATTR4.FILES_TOTAL, attr('files_total', u64)],
  [FATTR4.HOMOGENEOUS, attr('homogeneous', bool)],
  [FATTR4.MAXFILESIZE, attr('maxfilesize', u64)],
  [FATTR4.MAXLINK, attr('maxlink', u32)],
  [FATTR4.MAXNAME, attr('maxname', u32)],
  [FATTR4.MAXREAD, attr('maxread', u64)],
  [FATTR4.MAXWRITE, attr('maxwrite', u64)],
  [FATTR4.MODE, attr('mode', u32)],
  [FATTR4.NO_TRUNC, attr('no_trunc', bool)],
  [FATTR4.NUMLINKS, attr('numlinks', u32)],
  [FATTR4.OWNER, attr('owner', utf8)],
  [FATTR4.OWNER_GROUP, attr('owner_group', utf8)],
  [FATTR4.RAWDEV, attr('rawdev', { read: (r: XdrReader) => ({ specdata1: r.uint32(), specdata2: r.uint32() }), write: (w: XdrWriter, v: specdata4) => void w.uint32(v.specdata1).uint32(v.specdata2) })],
  [FATTR4.SPACE_AVAIL, attr('space_avail', u64)],
  [FATTR4.SPACE_FREE, attr('space_free', u64)],
  [FATTR4.SPACE_TOTAL, attr('space_total', u64)],
  [FATTR4.SPACE_USED, attr('space_used', u64)],
  [FATTR4.TIME_ACCESS, attr('time_access', time)],
  [FATTR4.TIME_ACCESS_SET, attr('time_access_set', settime)],
  [FATTR4.TIME_DELTA, attr('time_delta', time)],
  [FATTR4.TIME_METADATA, attr('time_metadata', time)],
  [FATTR4.TIME_MODIFY, attr('time_modify', time)],
  [FATTR4.TIME_MODIFY_SET, attr('time_modify_set', settime)],
  [FATTR4.MOUNTED_ON_FILEID, attr('mounted_on_fileid', u64)],
  [FATTR4.SUPPATTR_EXCLCREAT, attr('suppattr_exclcreat', bitmap)],
]);

/** Attribute numbers in encoding order, with their keys. */
const ORDERED = [...ATTR_CODECS.entries()].sort((a, b) => a[0] - b[0]);

/* struct fattr4 { bitmap4 attrmask; attrlist4 attr_vals; };  typedef opaque attrlist4<>; */
export function readFattr4(r: XdrReader, what = 'fattr4'): Fattr4 {
  const mask = readBitmap4(r, `${what}.attrmask`);
  const vals = r.varOpaque(0xffffffff, `${what}.attr_vals`);
  return readAttrlist(mask, vals, what);
}

/** The values of `mask` packed in `vals`; every byte must be used. */
export function readAttrlist(mask: bitmap4, vals: Buffer, what = 'fattr4'): Fattr4 {
  const out: Fattr4 = {};
  const r = new XdrReader(vals);
  for (const n of bitmapAttrs(mask)) {
    const c = ATTR_CODECS.get(n);
    if (!c) throw new Nfs4DecodeError(nfsstat4.NFS4ERR_ATTRNOTSUPP, `${what}: attribute ${n} is not supported`);
    (out as Record<string, unknown>)[c.key] = c.read(r);
  }
  r.done(`${what} attribute values`);
  return out;
}

/** Write the attributes present in `v` (undefined ones are left out of the mask). */
export function writeFattr4(w: XdrWriter, v: Fattr4): void {
  const { mask, vals } = encodeAttrlist(v);
  writeBitmap4(w, mask);
  w.varOpaque(vals);
}

/** The bitmap of the attributes present in `v`. */
export function fattrMask(v: Fattr4): bitmap4 {
  const present: number[] = [];
  for (const [n, c] of ORDERED) if (v[c.key] !== undefined) present.push(n);
  return bitmapOf(present);
}

/** The mask and packed values of the attributes present in `v`. */
export function encodeAttrlist(v: Fattr4): { mask: bitmap4; vals: Buffer } {
  const present: number[] = [];
  const body = new XdrWriter(128);
  for (const [n, c] of ORDERED) {
    const value = v[c.key];
    if (value === undefined) continue;
    present.push(n);
    c.write(body, value as never);
  }
  return { mask: bitmapOf(present), vals: Buffer.from(body.toBuffer()) };
}
