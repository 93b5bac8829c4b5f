import {
  ACCESS_DELETE,
  ACCESS_EXECUTE,
  ACCESS_EXTEND,
  ACCESS_LOOKUP,
  ACCESS_MODIFY,
  ACCESS_READ,
  FileType,
  type Credential,
} from './fs-types';

export const S_ISUID = 0o4000;
export const S_ISGID = 0o2000;
export const S_ISVTX = 0o1000;
export const MODE_MASK = 0o7777;

export const MAY_READ = 4;
export const MAY_WRITE = 2;
export const MAY_EXEC = 1;

export interface Owned {
  type: FileType;
  mode: number;
  uid: number;
  gid: number;
}

export function inGroup(cred: Credential, gid: number): boolean {
  return cred.gid === gid || cred.gids.includes(gid);
}

/**
 * POSIX mode check: the owner class, else the group class, else other. Root
 * passes read and write always, and execute on a non-directory only if some
 * execute bit is set (as Linux does).
 */
export function permits(cred: Credential, node: Owned, want: number): boolean {
  if (cred.uid === 0) {
    return (want & MAY_EXEC) === 0 || node.type === FileType.DIR || (node.mode & 0o111) !== 0;
  }
  let bits: number;
  if (cred.uid === node.uid) bits = node.mode >> 6;
  else if (inGroup(cred, node.gid)) bits = node.mode >> 3;
  else bits = node.mode;
  return (bits & want & 7) === want;
}

/**
 * Data access for READ/WRITE/truncate, with the quirk NFS servers apply (Linux
 * knfsd's NFSD_MAY_OWNER_OVERRIDE): the owner may read and write regardless of
 * the mode, because a client that created a file with mode 0444 still holds
 * it open for writing. Reading is also allowed with only execute permission,
 * since clients execute binaries by reading them.
 */
export function permitsData(cred: Credential, node: Owned, want: typeof MAY_READ | typeof MAY_WRITE): boolean {
  if (cred.uid === node.uid) return true;
  if (permits(cred, node, want)) return true;
  return want === MAY_READ && node.type === FileType.REG && permits(cred, node, MAY_EXEC);
}

/** Sticky directory: only root, the directory's owner or the entry's owner may remove or replace the entry. */
export function stickyAllows(cred: Credential, dir: Owned, victim: Owned): boolean {
  return (dir.mode & S_ISVTX) === 0 || cred.uid === 0 || cred.uid === dir.uid || cred.uid === victim.uid;
}

/**
 * Which ACCESS bits the mode grants, as knfsd maps them: on a directory
 * LOOKUP needs search, MODIFY/EXTEND/DELETE need write and search; on other
 * objects MODIFY/EXTEND need write and EXECUTE needs execute (DELETE does not
 * apply). No owner override here: ACCESS reports what the mode says.
 */
export function accessMask(cred: Credential, node: Owned, requested: number): number {
  const r = permits(cred, node, MAY_READ);
  const w = permits(cred, node, MAY_WRITE);
  const x = permits(cred, node, MAY_EXEC);
  let granted = 0;
  if (r) granted |= ACCESS_READ;
  if (node.type === FileType.DIR) {
    if (x) granted |= ACCESS_LOOKUP;
    if (w && x) granted |= ACCESS_MODIFY | ACCESS_EXTEND | ACCESS_DELETE;
  } else {
    if (w) granted |= ACCESS_MODIFY | ACCESS_EXTEND;
    if (x) granted |= ACCESS_EXECUTE;
  }
  return granted & requested;
}
