import { DomainError } from '../../common/errors';

/**
 * What went wrong, named after the POSIX errno / NFS status it stands for, so
 * NFSv3 (nfsstat3) and NFSv4 (nfsstat4) each map them in one function.
 */
export type FsErrorCode =
  | 'PERM' // not the owner (chmod, chown, utimes with a client time, sticky directory)
  | 'NOENT'
  | 'IO' // the data store or the metadata database failed
  | 'ACCES' // mode bits deny it
  | 'EXIST'
  | 'NOTDIR'
  | 'ISDIR'
  | 'INVAL' // bad name, rename into own subtree, readlink of a non-symlink, ...
  | 'FBIG'
  | 'NOSPC' // no blocks or no inodes left
  | 'ROFS' // opened read-only
  | 'MLINK'
  | 'NAMETOOLONG' // a name over 255 bytes or a symlink target over 4096
  | 'NOTEMPTY'
  | 'STALE' // the (ino, generation) no longer names a live object
  | 'XDEV' // a link across filesystems (a share and one of its snapshots)
  | 'BAD_COOKIE' // readdir cookie or cookie verifier no longer valid
  | 'NOT_SYNC' // setattr guard: ctime differs
  | 'BADTYPE' // mknod of a type it cannot make
  | 'NOTSUPP'; // not raised by the engine today; kept so the protocol mappings stay total

export class FsError extends DomainError {
  constructor(
    readonly code: FsErrorCode,
    message: string,
    cause?: unknown,
  ) {
    super(message, { fsCode: code });
    if (cause !== undefined) (this as { cause?: unknown }).cause = cause;
  }
}

export function fsError(code: FsErrorCode, message: string, cause?: unknown): FsError {
  return new FsError(code, message, cause);
}

/** Any failure below the engine (device, volume, SQLite) surfaces as IO; engine errors pass through. */
export function asFsError(err: unknown, what: string): FsError {
  if (err instanceof FsError) return err;
  const code = (err as { code?: unknown })?.code;
  if (code === 'NO_SPACE') return new FsError('NOSPC', `${what}: ${(err as Error).message}`, err);
  return new FsError('IO', `${what}: ${err instanceof Error ? err.message : String(err)}`, err);
}
