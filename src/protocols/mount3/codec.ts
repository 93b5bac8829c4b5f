/*
 * MOUNT v3 arguments and results (RFC 1813 appendix I). Server side encodes
 * results and decodes dirpath; the client side (for tests and tools) does
 * the reverse.
 */
import type { XdrReader, XdrWriter } from '../xdr/xdr';
import { FHSIZE3, MNTNAMLEN, MNTPATHLEN, MountStat3, MOUNTSTAT3_VALUES } from './constants';

/** Clients announce a handful of flavors; a longer list is not a mount reply. */
const MAX_AUTH_FLAVORS = 64;

/* typedef string dirpath<MNTPATHLEN>; */
export function decodeDirpath(r: XdrReader): string {
  return r.string(MNTPATHLEN, 'dirpath');
}

export function encodeDirpath(w: XdrWriter, path: string): void {
  if (Buffer.byteLength(path) > MNTPATHLEN) throw new RangeError(`dirpath of ${Buffer.byteLength(path)} bytes exceeds ${MNTPATHLEN}`);
  w.string(path);
}

/* typedef string name<MNTNAMLEN>; */
function encodeName(w: XdrWriter, name: string, what: string): void {
  if (Buffer.byteLength(name) > MNTNAMLEN) throw new RangeError(`${what} of ${Buffer.byteLength(name)} bytes exceeds ${MNTNAMLEN}`);
  w.string(name);
}

/*
 * typedef opaque fhandle3<FHSIZE3>;
 * struct mountres3_ok {
 *    fhandle3   fhandle;
 *    int        auth_flavors<>;
 * };
 * union mountres3 switch (mountstat3 fhs_status) {
 * case MNT3_OK:
 *    mountres3_ok  mountinfo;
 * default:
 *    void;
 * };
 */
export type MountRes3 =
  | { fhs_status: MountStat3.MNT3_OK; fhandle: Buffer; auth_flavors: number[] }
  | { fhs_status: Exclude<MountStat3, MountStat3.MNT3_OK> };

export function encodeMountRes3(w: XdrWriter, res: MountRes3): void {
  w.uint32(res.fhs_status);
  if (res.fhs_status !== MountStat3.MNT3_OK) return;
  if (res.fhandle.length > FHSIZE3) throw new RangeError(`fhandle3 of ${res.fhandle.length} bytes exceeds ${FHSIZE3}`);
  w.varOpaque(res.fhandle).array(res.auth_flavors, (x, f) => x.int32(f));
}

export function decodeMountRes3(r: XdrReader): MountRes3 {
  const fhs_status = r.enumOf<MountStat3>(MOUNTSTAT3_VALUES, 'mountstat3');
  if (fhs_status !== MountStat3.MNT3_OK) return { fhs_status };
  return {
    fhs_status,
    fhandle: Buffer.from(r.varOpaque(FHSIZE3, 'fhandle3')),
    auth_flavors: r.array((x) => x.int32('auth_flavor'), MAX_AUTH_FLAVORS, 'auth_flavors'),
  };
}

/*
 * typedef struct mountbody *mountlist;
 * struct mountbody {
 *    name       ml_hostname;
 *    dirpath    ml_directory;
 *    mountlist  ml_next;
 * };
 */
export interface MountBody {
  ml_hostname: string;
  ml_directory: string;
}

export function encodeMountList(w: XdrWriter, list: readonly MountBody[]): void {
  w.list(list, (x, m) => {
    encodeName(x, m.ml_hostname, 'ml_hostname');
    encodeDirpath(x, m.ml_directory);
  });
}

export function decodeMountList(r: XdrReader): MountBody[] {
  return r.list((x) => ({ ml_hostname: x.string(MNTNAMLEN, 'ml_hostname'), ml_directory: decodeDirpath(x) }), undefined, 'mountlist');
}

/*
 * typedef struct groupnode *groups;
 * struct groupnode {
 *    name     gr_name;
 *    groups   gr_next;
 * };
 *
 * typedef struct exportnode *exports;
 * struct exportnode {
 *    dirpath  ex_dir;
 *    groups   ex_groups;
 *    exports  ex_next;
 * };
 */
export interface ExportNode {
  ex_dir: string;
  /** Who may mount it (host names, networks); empty means everyone. */
  ex_groups: string[];
}

export function encodeExports(w: XdrWriter, list: readonly ExportNode[]): void {
  w.list(list, (x, e) => {
    encodeDirpath(x, e.ex_dir);
    x.list(e.ex_groups, (y, g) => encodeName(y, g, 'gr_name'));
  });
}

export function decodeExports(r: XdrReader): ExportNode[] {
  return r.list((x) => ({ ex_dir: decodeDirpath(x), ex_groups: x.list((y) => y.string(MNTNAMLEN, 'gr_name'), undefined, 'groups') }), undefined, 'exports');
}
