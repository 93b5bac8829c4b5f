/** NFS version 3 wire constants (RFC 1813); nfs3.x in this folder is the protocol text. */

import { XdrDecodeError } from '../xdr/xdr';

/* program NFS_PROGRAM { version NFS_V3 { ... } = 3; } = 100003; */
export const NFS_PROGRAM = 100003;
export const NFS_V3 = 3;

/* void NFSPROC3_NULL(void) = 0; ... COMMIT3res NFSPROC3_COMMIT(COMMIT3args) = 21; */
export const NFSPROC3_NULL = 0;
export const NFSPROC3_GETATTR = 1;
export const NFSPROC3_SETATTR = 2;
export const NFSPROC3_LOOKUP = 3;
export const NFSPROC3_ACCESS = 4;
export const NFSPROC3_READLINK = 5;
export const NFSPROC3_READ = 6;
export const NFSPROC3_WRITE = 7;
export const NFSPROC3_CREATE = 8;
export const NFSPROC3_MKDIR = 9;
export const NFSPROC3_SYMLINK = 10;
export const NFSPROC3_MKNOD = 11;
export const NFSPROC3_REMOVE = 12;
export const NFSPROC3_RMDIR = 13;
export const NFSPROC3_RENAME = 14;
export const NFSPROC3_LINK = 15;
export const NFSPROC3_READDIR = 16;
export const NFSPROC3_READDIRPLUS = 17;
export const NFSPROC3_FSSTAT = 18;
export const NFSPROC3_FSINFO = 19;
export const NFSPROC3_PATHCONF = 20;
export const NFSPROC3_COMMIT = 21;

/*
 * const NFS3_FHSIZE         = 64;
 * const NFS3_COOKIEVERFSIZE = 8;
 * const NFS3_CREATEVERFSIZE = 8;
 * const NFS3_WRITEVERFSIZE  = 8;
 */
export const NFS3_FHSIZE = 64;
export const NFS3_COOKIEVERFSIZE = 8;
export const NFS3_CREATEVERFSIZE = 8;
export const NFS3_WRITEVERFSIZE = 8;

/**
 * filename3 and nfspath3 are unbounded in the XDR; these are the limits this server enforces (Linux's
 * NAME_MAX and PATH_MAX, what PATHCONF reports). Longer ones decode to Nfs3DecodeError(NFS3ERR_NAMETOOLONG).
 */
export const NFS3_MAXNAMLEN = 255;
export const NFS3_MAXPATHLEN = 4096;

/* enum nfsstat3 { NFS3_OK = 0, NFS3ERR_PERM = 1, ... NFS3ERR_JUKEBOX = 10008 }; (RFC 1813 section 2.6) */
export const enum nfsstat3 {
  NFS3_OK = 0,
  NFS3ERR_PERM = 1,
  NFS3ERR_NOENT = 2,
  NFS3ERR_IO = 5,
  NFS3ERR_NXIO = 6,
  NFS3ERR_ACCES = 13,
  NFS3ERR_EXIST = 17,
  NFS3ERR_XDEV = 18,
  NFS3ERR_NODEV = 19,
  NFS3ERR_NOTDIR = 20,
  NFS3ERR_ISDIR = 21,
  NFS3ERR_INVAL = 22,
  NFS3ERR_FBIG = 27,
  NFS3ERR_NOSPC = 28,
  NFS3ERR_ROFS = 30,
  NFS3ERR_MLINK = 31,
  NFS3ERR_NAMETOOLONG = 63,
  NFS3ERR_NOTEMPTY = 66,
  NFS3ERR_DQUOT = 69,
  NFS3ERR_STALE = 70,
  NFS3ERR_REMOTE = 71,
  NFS3ERR_BADHANDLE = 10001,
  NFS3ERR_NOT_SYNC = 10002,
  NFS3ERR_BAD_COOKIE = 10003,
  NFS3ERR_NOTSUPP = 10004,
  NFS3ERR_TOOSMALL = 10005,
  NFS3ERR_SERVERFAULT = 10006,
  NFS3ERR_BADTYPE = 10007,
  NFS3ERR_JUKEBOX = 10008,
}

/** Every status but NFS3_OK: the `default:` arm of each result union. */
export type nfsstat3_error = Exclude<nfsstat3, nfsstat3.NFS3_OK>;

export const NFSSTAT3_NAMES: Readonly<Record<number, string>> = {
  [nfsstat3.NFS3_OK]: 'NFS3_OK',
  [nfsstat3.NFS3ERR_PERM]: 'NFS3ERR_PERM',
  [nfsstat3.NFS3ERR_NOENT]: 'NFS3ERR_NOENT',
  [nfsstat3.NFS3ERR_IO]: 'NFS3ERR_IO',
  [nfsstat3.NFS3ERR_NXIO]: 'NFS3ERR_NXIO',
  [nfsstat3.NFS3ERR_ACCES]: 'NFS3ERR_ACCES',
  [nfsstat3.NFS3ERR_EXIST]: 'NFS3ERR_EXIST',
  [nfsstat3.NFS3ERR_XDEV]: 'NFS3ERR_XDEV',
  [nfsstat3.NFS3ERR_NODEV]: 'NFS3ERR_NODEV',
  [nfsstat3.NFS3ERR_NOTDIR]: 'NFS3ERR_NOTDIR',
  [nfsstat3.NFS3ERR_ISDIR]: 'NFS3ERR_ISDIR',
  [nfsstat3.NFS3ERR_INVAL]: 'NFS3ERR_INVAL',
  [nfsstat3.NFS3ERR_FBIG]: 'NFS3ERR_FBIG',
  [nfsstat3.NFS3ERR_NOSPC]: 'NFS3ERR_NOSPC',
  [nfsstat3.NFS3ERR_ROFS]: 'NFS3ERR_ROFS',
  [nfsstat3.NFS3ERR_MLINK]: 'NFS3ERR_MLINK',
  [nfsstat3.NFS3ERR_NAMETOOLONG]: 'NFS3ERR_NAMETOOLONG',
  [nfsstat3.NFS3ERR_NOTEMPTY]: 'NFS3ERR_NOTEMPTY',
  [nfsstat3.NFS3ERR_DQUOT]: 'NFS3ERR_DQUOT',
  [nfsstat3.NFS3ERR_STALE]: 'NFS3ERR_STALE',
  [nfsstat3.NFS3ERR_REMOTE]: 'NFS3ERR_REMOTE',
  [nfsstat3.NFS3ERR_BADHANDLE]: 'NFS3ERR_BADHANDLE',
  [nfsstat3.NFS3ERR_NOT_SYNC]: 'NFS3ERR_NOT_SYNC',
  [nfsstat3.NFS3ERR_BAD_COOKIE]: 'NFS3ERR_BAD_COOKIE',
  [nfsstat3.NFS3ERR_NOTSUPP]: 'NFS3ERR_NOTSUPP',
  [nfsstat3.NFS3ERR_TOOSMALL]: 'NFS3ERR_TOOSMALL',
  [nfsstat3.NFS3ERR_SERVERFAULT]: 'NFS3ERR_SERVERFAULT',
  [nfsstat3.NFS3ERR_BADTYPE]: 'NFS3ERR_BADTYPE',
  [nfsstat3.NFS3ERR_JUKEBOX]: 'NFS3ERR_JUKEBOX',
};
export const NFSSTAT3_VALUES: ReadonlySet<number> = new Set(Object.keys(NFSSTAT3_NAMES).map(Number));

/* enum ftype3 { NF3REG = 1, NF3DIR = 2, NF3BLK = 3, NF3CHR = 4, NF3LNK = 5, NF3SOCK = 6, NF3FIFO = 7 }; */
export const enum ftype3 {
  NF3REG = 1,
  NF3DIR = 2,
  NF3BLK = 3,
  NF3CHR = 4,
  NF3LNK = 5,
  NF3SOCK = 6,
  NF3FIFO = 7,
}
export const FTYPE3_VALUES: ReadonlySet<number> = new Set([1, 2, 3, 4, 5, 6, 7]);

/* enum time_how { DONT_CHANGE = 0, SET_TO_SERVER_TIME = 1, SET_TO_CLIENT_TIME = 2 }; */
export const enum time_how {
  DONT_CHANGE = 0,
  SET_TO_SERVER_TIME = 1,
  SET_TO_CLIENT_TIME = 2,
}
export const TIME_HOW_VALUES: ReadonlySet<number> = new Set([0, 1, 2]);

/* enum stable_how { UNSTABLE = 0, DATA_SYNC = 1, FILE_SYNC = 2 }; */
export const enum stable_how {
  UNSTABLE = 0,
  DATA_SYNC = 1,
  FILE_SYNC = 2,
}
export const STABLE_HOW_VALUES: ReadonlySet<number> = new Set([0, 1, 2]);

/* enum createmode3 { UNCHECKED = 0, GUARDED = 1, EXCLUSIVE = 2 }; */
export const enum createmode3 {
  UNCHECKED = 0,
  GUARDED = 1,
  EXCLUSIVE = 2,
}
export const CREATEMODE3_VALUES: ReadonlySet<number> = new Set([0, 1, 2]);

/* const ACCESS3_READ = 0x0001; ... const ACCESS3_EXECUTE = 0x0020; */
export const ACCESS3_READ = 0x0001;
export const ACCESS3_LOOKUP = 0x0002;
export const ACCESS3_MODIFY = 0x0004;
export const ACCESS3_EXTEND = 0x0008;
export const ACCESS3_DELETE = 0x0010;
export const ACCESS3_EXECUTE = 0x0020;

/* const FSF3_LINK = 0x0001; FSF3_SYMLINK = 0x0002; FSF3_HOMOGENEOUS = 0x0008; FSF3_CANSETTIME = 0x0010; */
export const FSF3_LINK = 0x0001;
export const FSF3_SYMLINK = 0x0002;
export const FSF3_HOMOGENEOUS = 0x0008;
export const FSF3_CANSETTIME = 0x0010;

/**
 * Arguments that are valid XDR but that NFSv3 answers with a status rather than GARBAGE_ARGS: a name
 * longer than NFS3_MAXNAMLEN (NFS3ERR_NAMETOOLONG), a name or path that is not UTF-8 (NFS3ERR_INVAL).
 * It is an XdrDecodeError, so a dispatcher that does not look for it still answers GARBAGE_ARGS; one
 * that does answers `{ status: e.status }` (every result's failure body may be left out).
 */
export class Nfs3DecodeError extends XdrDecodeError {
  override name = 'Nfs3DecodeError';

  constructor(
    readonly status: nfsstat3_error,
    message: string,
  ) {
    super(message);
  }
}
