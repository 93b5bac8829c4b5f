import { FH4_PERSISTENT, nfsstat4, time_how4 } from '../../protocols/nfs4/constants';
import { type bitmap4, bitmapAttrs, bitmapOf, FATTR4, type Fattr4, fattrMask, type nfstime4, type settime4 } from '../../protocols/nfs4/fattr4.codec';
import { type Attr, FileType, type FsStat, MAX_FILE_SIZE, MAX_LINKS, MAX_NAME_BYTES, type SetAttrs, type TimeSet, type Timestamp } from '../fs';
import { fail } from './nfs4-status';

/** Largest READ and WRITE (maxread/maxwrite): one record stays under the RPC layer's 1 MiB + 4 KiB limit. */
export const NFS4_MAX_IO = 2 ** 20;

/* RFC 8881 section 5.6 (REQUIRED) and 5.7 (RECOMMENDED): the attributes this server reports. */
const SUPPORTED_LIST = [
  FATTR4.SUPPORTED_ATTRS,
  FATTR4.TYPE,
  FATTR4.FH_EXPIRE_TYPE,
  FATTR4.CHANGE,
  FATTR4.SIZE,
  FATTR4.LINK_SUPPORT,
  FATTR4.SYMLINK_SUPPORT,
  FATTR4.NAMED_ATTR,
  FATTR4.FSID,
  FATTR4.UNIQUE_HANDLES,
  FATTR4.LEASE_TIME,
  FATTR4.RDATTR_ERROR,
  FATTR4.ACLSUPPORT,
  FATTR4.CANSETTIME,
  FATTR4.CASE_INSENSITIVE,
  FATTR4.CASE_PRESERVING,
  FATTR4.CHOWN_RESTRICTED,
  FATTR4.FILEHANDLE,
  FATTR4.FILEID,
  FATTR4.FILES_AVAIL,
  FATTR4.FILES_FREE,
  FATTR4.FILES_TOTAL,
  FATTR4.HOMOGENEOUS,
  FATTR4.MAXFILESIZE,
  FATTR4.MAXLINK,
  FATTR4.MAXNAME,
  FATTR4.MAXREAD,
  FATTR4.MAXWRITE,
  FATTR4.MODE,
  FATTR4.NO_TRUNC,
  FATTR4.NUMLINKS,
  FATTR4.OWNER,
  FATTR4.OWNER_GROUP,
  FATTR4.RAWDEV,
  FATTR4.SPACE_AVAIL,
  FATTR4.SPACE_FREE,
  FATTR4.SPACE_TOTAL,
  FATTR4.SPACE_USED,
  FATTR4.TIME_ACCESS,
  FATTR4.TIME_ACCESS_SET,
  FATTR4.TIME_DELTA,
  FATTR4.TIME_METADATA,
  FATTR4.TIME_MODIFY,
  FATTR4.TIME_MODIFY_SET,
  FATTR4.MOUNTED_ON_FILEID,
  FATTR4.SUPPATTR_EXCLCREAT,
];
export const SUPPORTED_ATTRS: bitmap4 = bitmapOf(SUPPORTED_LIST);
const SUPPORTED = new Set<number>(SUPPORTED_LIST);

/** Attributes SETATTR, CREATE and OPEN may set. */
export const WRITABLE = new Set<number>([FATTR4.SIZE, FATTR4.MODE, FATTR4.OWNER, FATTR4.OWNER_GROUP, FATTR4.TIME_ACCESS_SET, FATTR4.TIME_MODIFY_SET]);
/** Attributes an EXCLUSIVE4_1 create may carry (the verifier is kept apart from the times, so all of them). */
export const SUPPATTR_EXCLCREAT: bitmap4 = bitmapOf(WRITABLE);
const WRITE_ONLY = new Set<number>([FATTR4.TIME_ACCESS_SET, FATTR4.TIME_MODIFY_SET]);

/** What the attributes of one object are computed from. */
export interface AttrSource {
  attr: Attr;
  exportId: number;
  /** The handle, made only if asked for. */
  handle: () => Buffer;
  fsstat: () => FsStat;
  leaseSeconds: number;
  /** mounted_on_fileid when it differs from the fileid (a share's root seen from the pseudo root). */
  mountedOn?: number;
  /** fsid, when not the share's own (the pseudo root). */
  fsid?: { major: number; minor: number };
}

const t4 = (t: Timestamp): nfstime4 => ({ seconds: t.sec, nseconds: t.nsec });

/** The requested attributes this server supports, for one object (write-only ones are never returned). */
export function fattrOf(src: AttrSource, request: bitmap4): Fattr4 {
  const a = src.attr;
  const out: Fattr4 = {};
  let st: FsStat | undefined;
  const stat = () => (st ??= src.fsstat());
  for (const n of bitmapAttrs(request)) {
    if (!SUPPORTED.has(n) || WRITE_ONLY.has(n)) continue;
    switch (n) {
      case FATTR4.SUPPORTED_ATTRS:
        out.supported_attrs = SUPPORTED_ATTRS;
        break;
      case FATTR4.TYPE:
        out.type = a.type;
        break;
      case FATTR4.FH_EXPIRE_TYPE:
        out.fh_expire_type = FH4_PERSISTENT;
        break;
      case FATTR4.CHANGE:
        out.change = BigInt(a.change);
        break;
      case FATTR4.SIZE:
        out.size = a.size;
        break;
      case FATTR4.LINK_SUPPORT:
        out.link_support = true;
        break;
      case FATTR4.SYMLINK_SUPPORT:
        out.symlink_support = true;
        break;
      case FATTR4.NAMED_ATTR:
        out.named_attr = false;
        break;
      case FATTR4.FSID:
        out.fsid = src.fsid ?? { major: src.exportId, minor: src.attr.snap ?? 0 };
        break;
      case FATTR4.UNIQUE_HANDLES:
        out.unique_handles = true;
        break;
      case FATTR4.LEASE_TIME:
        out.lease_time = src.leaseSeconds;
        break;
      case FATTR4.RDATTR_ERROR:
        out.rdattr_error = nfsstat4.NFS4_OK;
        break;
      case FATTR4.ACLSUPPORT:
        out.aclsupport = 0;
        break;
      case FATTR4.CANSETTIME:
        out.cansettime = true;
        break;
      case FATTR4.CASE_INSENSITIVE:
        out.case_insensitive = false;
        break;
      case FATTR4.CASE_PRESERVING:
        out.case_preserving = true;
        break;
      case FATTR4.CHOWN_RESTRICTED:
        out.chown_restricted = true;
        break;
      case FATTR4.FILEHANDLE:
        out.filehandle = src.handle();
        break;
      case FATTR4.FILEID:
        out.fileid = a.ino;
        break;
      case FATTR4.FILES_AVAIL:
        out.files_avail = stat().availFiles;
        break;
      case FATTR4.FILES_FREE:
        out.files_free = stat().freeFiles;
        break;
      case FATTR4.FILES_TOTAL:
        out.files_total = stat().totalFiles;
        break;
      case FATTR4.HOMOGENEOUS:
        out.homogeneous = true;
        break;
      case FATTR4.MAXFILESIZE:
        out.maxfilesize = MAX_FILE_SIZE;
        break;
      case FATTR4.MAXLINK:
        out.maxlink = MAX_LINKS;
        break;
      case FATTR4.MAXNAME:
        out.maxname = MAX_NAME_BYTES;
        break;
      case FATTR4.MAXREAD:
        out.maxread = NFS4_MAX_IO;
        break;
      case FATTR4.MAXWRITE:
        out.maxwrite = NFS4_MAX_IO;
        break;
      case FATTR4.MODE:
        out.mode = a.mode & 0o7777;
        break;
      case FATTR4.NO_TRUNC:
        out.no_trunc = true;
        break;
      case FATTR4.NUMLINKS:
        out.numlinks = a.nlink;
        break;
      case FATTR4.OWNER:
        out.owner = String(a.uid);
        break;
      case FATTR4.OWNER_GROUP:
        out.owner_group = String(a.gid);
        break;
      case FATTR4.RAWDEV:
        out.rawdev = { specdata1: a.rdev.major, specdata2: a.rdev.minor };
        break;
      case FATTR4.SPACE_AVAIL:
        out.space_avail = stat().availBytes;
        break;
      case FATTR4.SPACE_FREE:
        out.space_free = stat().freeBytes;
        break;
      case FATTR4.SPACE_TOTAL:
        out.space_total = stat().totalBytes;
        break;
      case FATTR4.SPACE_USED:
        out.space_used = a.used;
        break;
      case FATTR4.TIME_ACCESS:
        out.time_access = t4(a.atime);
        break;
      case FATTR4.TIME_DELTA:
        out.time_delta = { seconds: 0, nseconds: 1 };
        break;
      case FATTR4.TIME_METADATA:
        out.time_metadata = t4(a.ctime);
        break;
      case FATTR4.TIME_MODIFY:
        out.time_modify = t4(a.mtime);
        break;
      case FATTR4.MOUNTED_ON_FILEID:
        out.mounted_on_fileid = src.mountedOn ?? a.ino;
        break;
      case FATTR4.SUPPATTR_EXCLCREAT:
        out.suppattr_exclcreat = SUPPATTR_EXCLCREAT;
        break;
    }
  }
  return out;
}

/** Well-known names the gateway maps without an id mapper; any other name is NFS4ERR_BADOWNER. */
const NAMED_IDS: Readonly<Record<string, number>> = { root: 0, nobody: 65534, nogroup: 65534 };

/**
 * owner / owner_group (RFC 8881 section 5.9): a numeric string is the id itself (what Linux clients send
 * with sec=sys); `name@domain` is accepted for the names the gateway knows, and `<digits>@domain` too.
 */
export function parseOwner(s: string, what: string): number {
  const local = s.includes('@') ? s.slice(0, s.indexOf('@')) : s;
  if (/^(0|[1-9][0-9]{0,9})$/.test(local)) {
    const n = Number(local);
    if (n <= 0xffffffff) return n;
  }
  const id = NAMED_IDS[local];
  if (id !== undefined) return id;
  return fail(nfsstat4.NFS4ERR_BADOWNER, `${what} '${s}' is not a numeric id or a known name`);
}

function timeSet(s: settime4): TimeSet {
  if (s.set_it === time_how4.SET_TO_SERVER_TIME4) return 'server';
  if (s.time.nseconds >= 1e9) fail(nfsstat4.NFS4ERR_INVAL, `nseconds ${s.time.nseconds} is not below 10^9`);
  if (s.time.seconds < 0) fail(nfsstat4.NFS4ERR_INVAL, 'times before 1970 cannot be stored');
  return { sec: s.time.seconds, nsec: s.time.nseconds };
}

/**
 * The engine's SetAttrs for a fattr4 to set, and the bitmap of what it sets. Attributes that exist but
 * cannot be set are NFS4ERR_INVAL (RFC 8881 section 18.30.4); unknown ones failed in the codec already.
 */
export function setAttrsOf(f: Fattr4, allowed: ReadonlySet<number> = WRITABLE): { attrs: SetAttrs; set: bitmap4 } {
  const mask = fattrMask(f);
  for (const n of bitmapAttrs(mask)) if (!allowed.has(n)) fail(nfsstat4.NFS4ERR_INVAL, `attribute ${n} cannot be set`);
  const attrs: SetAttrs = {};
  if (f.size !== undefined) attrs.size = f.size;
  if (f.mode !== undefined) {
    if (f.mode > 0o7777) fail(nfsstat4.NFS4ERR_INVAL, `mode ${f.mode.toString(8)} has bits beyond 07777`);
    attrs.mode = f.mode;
  }
  if (f.owner !== undefined) attrs.uid = parseOwner(f.owner, 'owner');
  if (f.owner_group !== undefined) attrs.gid = parseOwner(f.owner_group, 'owner_group');
  if (f.time_access_set !== undefined) attrs.atime = timeSet(f.time_access_set);
  if (f.time_modify_set !== undefined) attrs.mtime = timeSet(f.time_modify_set);
  return { attrs, set: mask };
}

/** The engine's file type for an nfs_ftype4 CREATE makes (directories, symlinks, devices, sockets, fifos). */
export const isDir = (a: Attr) => a.type === FileType.DIR;
