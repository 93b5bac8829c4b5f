import { MOUNT_PROGRAM, MOUNT_V3, MountProc3, MountStat3 } from '../../protocols/mount3/constants';
import {
  decodeDirpath,
  encodeExports,
  encodeMountList,
  encodeMountRes3,
  type ExportNode,
  type MountBody,
  type MountRes3,
} from '../../protocols/mount3/codec';
import { NULL_PROCEDURE, procedure, type RpcContext, type RpcProgram } from '../rpc/rpc-program';

/**
 * What MOUNT needs from the shares: resolve a path for a client (export
 * rules, networks, privileged port are the implementation's business) and
 * list the exports.
 */
export interface MountExports {
  /** MNT: the export's root handle and the flavors the client may use, or the mountstat3 refusing it. */
  resolveExport(path: string, ctx: RpcContext): Promise<MountRes3> | MountRes3;
  /** EXPORT: exported directories and who may mount them. */
  exports(ctx: RpcContext): Promise<ExportNode[]> | ExportNode[];
}

/**
 * The server's list of who mounted what (rmtab): advisory in NFSv3, kept in
 * memory, bounded so a client cannot grow it without limit.
 */
export class MountList {
  private readonly mounts = new Map<string, MountBody>();

  constructor(private readonly max = 10_000) {}

  add(host: string, dir: string): void {
    const key = `${host}\0${dir}`;
    if (this.mounts.has(key)) return;
    if (this.mounts.size >= this.max) this.mounts.delete(this.mounts.keys().next().value!);
    this.mounts.set(key, { ml_hostname: host, ml_directory: dir });
  }

  remove(host: string, dir: string): void {
    this.mounts.delete(`${host}\0${dir}`);
  }

  removeAll(host: string): void {
    for (const [k, m] of this.mounts) if (m.ml_hostname === host) this.mounts.delete(k);
  }

  list(): MountBody[] {
    return [...this.mounts.values()];
  }
}

const nothing = (): void => undefined;

/**
 * MOUNT v3 (program 100005) over a MountExports implementation. Clients are
 * named in the mount list by their address (no reverse lookups on the data path).
 */
export function mount3Program(exports: MountExports, mounts: MountList = new MountList()): RpcProgram {
  return {
    prog: MOUNT_PROGRAM,
    name: 'MOUNT',
    versions: {
      [MOUNT_V3]: {
        [MountProc3.MOUNTPROC3_NULL]: NULL_PROCEDURE,
        /* mountres3 MOUNTPROC3_MNT(dirpath) = 1; */
        [MountProc3.MOUNTPROC3_MNT]: procedure({
          name: 'MNT',
          decode: decodeDirpath,
          handle: async (path: string, ctx) => {
            const res = await exports.resolveExport(path, ctx);
            if (res.fhs_status === MountStat3.MNT3_OK) mounts.add(ctx.remoteAddress, path);
            return res;
          },
          encode: encodeMountRes3,
          idempotent: true,
          mutates: true,
        }),
        /* mountlist MOUNTPROC3_DUMP(void) = 2; */
        [MountProc3.MOUNTPROC3_DUMP]: procedure({
          name: 'DUMP',
          decode: nothing,
          handle: () => mounts.list(),
          encode: encodeMountList,
          idempotent: true,
        }),
        /* void MOUNTPROC3_UMNT(dirpath) = 3; */
        [MountProc3.MOUNTPROC3_UMNT]: procedure({
          name: 'UMNT',
          decode: decodeDirpath,
          handle: (path: string, ctx) => mounts.remove(ctx.remoteAddress, path),
          encode: nothing,
          idempotent: true,
          mutates: true,
        }),
        /* void MOUNTPROC3_UMNTALL(void) = 4; */
        [MountProc3.MOUNTPROC3_UMNTALL]: procedure({
          name: 'UMNTALL',
          decode: nothing,
          handle: (_: void, ctx) => mounts.removeAll(ctx.remoteAddress),
          encode: nothing,
          idempotent: true,
          mutates: true,
        }),
        /* exports MOUNTPROC3_EXPORT(void) = 5; */
        [MountProc3.MOUNTPROC3_EXPORT]: procedure({
          name: 'EXPORT',
          decode: nothing,
          handle: (_: void, ctx) => exports.exports(ctx),
          encode: encodeExports,
          idempotent: true,
        }),
      },
    },
  };
}
