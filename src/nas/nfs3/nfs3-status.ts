import { DomainError } from '../../common/errors';
import { nfsstat3 } from '../../protocols/nfs3';
import { BadFileHandle } from '../file-handle';
import { FsError, type FsErrorCode } from '../fs';

/** A call refused before or outside the filesystem (export rules, handles, read-only exports). */
export class Nfs3Failure extends Error {
  override name = 'Nfs3Failure';
  constructor(
    readonly status: nfsstat3,
    message: string,
  ) {
    super(message);
  }
}

const FS_STATUS: Record<FsErrorCode, nfsstat3> = {
  PERM: nfsstat3.NFS3ERR_PERM,
  NOENT: nfsstat3.NFS3ERR_NOENT,
  IO: nfsstat3.NFS3ERR_IO,
  ACCES: nfsstat3.NFS3ERR_ACCES,
  EXIST: nfsstat3.NFS3ERR_EXIST,
  NOTDIR: nfsstat3.NFS3ERR_NOTDIR,
  ISDIR: nfsstat3.NFS3ERR_ISDIR,
  INVAL: nfsstat3.NFS3ERR_INVAL,
  FBIG: nfsstat3.NFS3ERR_FBIG,
  NOSPC: nfsstat3.NFS3ERR_NOSPC,
  ROFS: nfsstat3.NFS3ERR_ROFS,
  MLINK: nfsstat3.NFS3ERR_MLINK,
  NAMETOOLONG: nfsstat3.NFS3ERR_NAMETOOLONG,
  NOTEMPTY: nfsstat3.NFS3ERR_NOTEMPTY,
  STALE: nfsstat3.NFS3ERR_STALE,
  XDEV: nfsstat3.NFS3ERR_XDEV,
  BAD_COOKIE: nfsstat3.NFS3ERR_BAD_COOKIE,
  NOT_SYNC: nfsstat3.NFS3ERR_NOT_SYNC,
  BADTYPE: nfsstat3.NFS3ERR_BADTYPE,
  NOTSUPP: nfsstat3.NFS3ERR_NOTSUPP,
};

/**
 * Every error a handler can meet → its nfsstat3, in one place. `fault` marks
 * the ones that are our bug rather than the caller's or the storage's doing.
 */
export function nfs3StatusOf(err: unknown): { status: nfsstat3; fault: boolean } {
  if (err instanceof Nfs3Failure) return { status: err.status, fault: false };
  if (err instanceof FsError) return { status: FS_STATUS[err.code] ?? nfsstat3.NFS3ERR_IO, fault: false };
  if (err instanceof BadFileHandle) return { status: err.problem === 'unknown-export' ? nfsstat3.NFS3ERR_STALE : nfsstat3.NFS3ERR_BADHANDLE, fault: false };
  if (err instanceof DomainError) {
    switch (err.code) {
      case 'NO_SPACE':
        return { status: nfsstat3.NFS3ERR_NOSPC, fault: false };
      case 'DEVICE_IO_ERROR':
      case 'DEVICE_GONE':
      case 'POOL_FAILED':
        return { status: nfsstat3.NFS3ERR_IO, fault: false };
    }
  }
  return { status: nfsstat3.NFS3ERR_SERVERFAULT, fault: true };
}
