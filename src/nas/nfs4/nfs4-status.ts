import { DomainError } from '../../common/errors';
import { nfsstat4 } from '../../protocols/nfs4/constants';
import { BadFileHandle } from '../file-handle';
import { FsError, type FsErrorCode } from '../fs';

/** An operation refused by the NFSv4 layer itself (state, sessions, export rules, names). */
export class Nfs4Failure extends Error {
  override name = 'Nfs4Failure';
  constructor(
    readonly status: nfsstat4,
    message: string,
  ) {
    super(message);
  }
}

export function fail(status: nfsstat4, message: string): never {
  throw new Nfs4Failure(status, message);
}

const FS_STATUS: Record<FsErrorCode, nfsstat4> = {
  PERM: nfsstat4.NFS4ERR_PERM,
  NOENT: nfsstat4.NFS4ERR_NOENT,
  IO: nfsstat4.NFS4ERR_IO,
  ACCES: nfsstat4.NFS4ERR_ACCESS,
  EXIST: nfsstat4.NFS4ERR_EXIST,
  NOTDIR: nfsstat4.NFS4ERR_NOTDIR,
  ISDIR: nfsstat4.NFS4ERR_ISDIR,
  INVAL: nfsstat4.NFS4ERR_INVAL,
  FBIG: nfsstat4.NFS4ERR_FBIG,
  NOSPC: nfsstat4.NFS4ERR_NOSPC,
  ROFS: nfsstat4.NFS4ERR_ROFS,
  MLINK: nfsstat4.NFS4ERR_MLINK,
  NAMETOOLONG: nfsstat4.NFS4ERR_NAMETOOLONG,
  NOTEMPTY: nfsstat4.NFS4ERR_NOTEMPTY,
  STALE: nfsstat4.NFS4ERR_STALE,
  XDEV: nfsstat4.NFS4ERR_XDEV,
  BAD_COOKIE: nfsstat4.NFS4ERR_BAD_COOKIE,
  NOT_SYNC: nfsstat4.NFS4ERR_INVAL,
  BADTYPE: nfsstat4.NFS4ERR_BADTYPE,
  NOTSUPP: nfsstat4.NFS4ERR_NOTSUPP,
};

/**
 * Every error an operation can meet → its nfsstat4, in one place. `fault` marks the ones that are our
 * bug rather than the caller's or the storage's doing (logged, answered NFS4ERR_SERVERFAULT).
 */
export function nfs4StatusOf(err: unknown): { status: nfsstat4; fault: boolean } {
  if (err instanceof Nfs4Failure) return { status: err.status, fault: false };
  if (err instanceof FsError) return { status: FS_STATUS[err.code] ?? nfsstat4.NFS4ERR_IO, fault: false };
  if (err instanceof BadFileHandle) return { status: err.problem === 'unknown-export' ? nfsstat4.NFS4ERR_STALE : nfsstat4.NFS4ERR_BADHANDLE, fault: false };
  if (err instanceof DomainError) {
    switch (err.code) {
      case 'NO_SPACE':
        return { status: nfsstat4.NFS4ERR_NOSPC, fault: false };
      case 'DEVICE_IO_ERROR':
      case 'DEVICE_GONE':
      case 'POOL_FAILED':
        return { status: nfsstat4.NFS4ERR_IO, fault: false };
    }
  }
  return { status: nfsstat4.NFS4ERR_SERVERFAULT, fault: true };
}
