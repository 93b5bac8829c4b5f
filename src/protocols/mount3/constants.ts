/*
 * MOUNT protocol version 3 (RFC 1813 appendix I), with the RFC's names.
 */

export const MOUNT_PROGRAM = 100005;
export const MOUNT_V3 = 3;

/** const MNTPATHLEN = 1024;  -- Maximum bytes in a path name */
export const MNTPATHLEN = 1024;
/** const MNTNAMLEN  = 255;   -- Maximum bytes in a name */
export const MNTNAMLEN = 255;
/** const FHSIZE3    = 64;    -- Maximum bytes in a V3 file handle */
export const FHSIZE3 = 64;

/*
 * enum mountstat3 {
 *    MNT3_OK = 0,                 -- no error
 *    MNT3ERR_PERM = 1,            -- Not owner
 *    MNT3ERR_NOENT = 2,           -- No such file or directory
 *    MNT3ERR_IO = 5,              -- I/O error
 *    MNT3ERR_ACCES = 13,          -- Permission denied
 *    MNT3ERR_NOTDIR = 20,         -- Not a directory
 *    MNT3ERR_INVAL = 22,          -- Invalid argument
 *    MNT3ERR_NAMETOOLONG = 63,    -- Filename too long
 *    MNT3ERR_NOTSUPP = 10004,     -- Operation not supported
 *    MNT3ERR_SERVERFAULT = 10006  -- A failure on the server
 * };
 */
export const enum MountStat3 {
  MNT3_OK = 0,
  MNT3ERR_PERM = 1,
  MNT3ERR_NOENT = 2,
  MNT3ERR_IO = 5,
  MNT3ERR_ACCES = 13,
  MNT3ERR_NOTDIR = 20,
  MNT3ERR_INVAL = 22,
  MNT3ERR_NAMETOOLONG = 63,
  MNT3ERR_NOTSUPP = 10004,
  MNT3ERR_SERVERFAULT = 10006,
}

export const MOUNTSTAT3_VALUES: ReadonlySet<number> = new Set([0, 1, 2, 5, 13, 20, 22, 63, 10004, 10006]);

/*
 * program MOUNT_PROGRAM {
 *    version MOUNT_V3 {
 *       void      MOUNTPROC3_NULL(void)    = 0;
 *       mountres3 MOUNTPROC3_MNT(dirpath)  = 1;
 *       mountlist MOUNTPROC3_DUMP(void)    = 2;
 *       void      MOUNTPROC3_UMNT(dirpath) = 3;
 *       void      MOUNTPROC3_UMNTALL(void) = 4;
 *       exports   MOUNTPROC3_EXPORT(void)  = 5;
 *    } = 3;
 * } = 100005;
 */
export const enum MountProc3 {
  MOUNTPROC3_NULL = 0,
  MOUNTPROC3_MNT = 1,
  MOUNTPROC3_DUMP = 2,
  MOUNTPROC3_UMNT = 3,
  MOUNTPROC3_UMNTALL = 4,
  MOUNTPROC3_EXPORT = 5,
}
