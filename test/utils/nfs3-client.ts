import { decodeMountRes3, encodeDirpath, type MountRes3 } from '../../src/protocols/mount3/codec';
import { MOUNT_PROGRAM, MOUNT_V3, MountProc3, MountStat3 } from '../../src/protocols/mount3/constants';
import {
  createmode3,
  NFS3_PROCEDURE,
  NFS_PROGRAM,
  NFS_V3,
  nfsstat3,
  NFSSTAT3_NAMES,
  stable_how,
  type entryplus3,
  type fattr3,
  type nfs_fh3,
  type Nfs3Args,
  type Nfs3Proc,
  type Nfs3Res,
  type sattr3,
} from '../../src/protocols/nfs3';
import { AuthFlavor } from '../../src/protocols/oncrpc/constants';
import type { Credential } from '../../src/protocols/oncrpc/message';
import { RpcClient, type RpcCallOptions } from '../../src/nas/rpc/rpc-client';

/** AUTH_SYS for a uid and gid, as a workstation sends it. */
export const authSys = (uid = 0, gid = 0, gids: number[] = []): Credential => ({ flavor: AuthFlavor.AUTH_SYS, sys: { stamp: 1, machinename: 'test-client', uid, gid, gids } });

/** A reply whose nfsstat3 is not NFS3_OK. */
export class Nfs3Error extends Error {
  override name = 'Nfs3Error';
  constructor(
    readonly status: nfsstat3,
    readonly proc: string,
    readonly res: unknown,
  ) {
    super(`${proc}: ${NFSSTAT3_NAMES[status] ?? status}`);
  }
}

type ResOk<P extends Nfs3Proc> = Extract<Nfs3Res<P>, { resok: unknown }>['resok'];

/**
 * Our own NFSv3 + MOUNT v3 client over the RPC client, for protocol-level
 * tests that need to see exactly what the server answered (statuses,
 * stable_how, verifiers, cookies, raw handles).
 */
export class Nfs3Client {
  cred: Credential;

  constructor(
    readonly rpc: RpcClient,
    cred: Credential = authSys(),
  ) {
    this.cred = cred;
  }

  /** Connect to the NFS port (MOUNT is served there too). */
  static async connect(port: number, opts: { cred?: Credential; localPort?: number; timeoutMs?: number } = {}): Promise<Nfs3Client> {
    const rpc = await RpcClient.connect({ host: '127.0.0.1', port }, { localPort: opts.localPort, timeoutMs: opts.timeoutMs ?? 30_000 });
    return new Nfs3Client(rpc, opts.cred);
  }

  /** MOUNTPROC3_MNT as is. */
  mnt(path: string): Promise<MountRes3> {
    return this.rpc.callOk(MOUNT_PROGRAM, MOUNT_V3, MountProc3.MOUNTPROC3_MNT, (w) => encodeDirpath(w, path), decodeMountRes3, { cred: this.cred });
  }

  /** The root handle of an export; throws on a refusal. */
  async mount(path: string): Promise<nfs_fh3> {
    const r = await this.mnt(path);
    if (r.fhs_status !== MountStat3.MNT3_OK || !r.fhandle) throw new Error(`MNT ${path}: mountstat3 ${r.fhs_status}`);
    return r.fhandle;
  }

  /** One NFSv3 call; the result whatever its status. */
  call<P extends Nfs3Proc>(proc: P, args: Nfs3Args<P>, opts: RpcCallOptions = {}): Promise<Nfs3Res<P>> {
    const p = NFS3_PROCEDURE[proc];
    return this.rpc.callOk(NFS_PROGRAM, NFS_V3, proc, (w) => p.encodeArgs(w, args), p.decodeRes, { cred: this.cred, ...opts });
  }

  /** One NFSv3 call that must answer NFS3_OK; its resok. */
  async ok<P extends Nfs3Proc>(proc: P, args: Nfs3Args<P>, opts: RpcCallOptions = {}): Promise<ResOk<P>> {
    const res = (await this.call(proc, args, opts)) as { status: nfsstat3; resok?: unknown };
    if (res.status !== nfsstat3.NFS3_OK) throw new Nfs3Error(res.status, NFS3_PROCEDURE[proc].name, res);
    return res.resok as ResOk<P>;
  }

  /** The status of a call (for the ones expected to fail). */
  async status<P extends Nfs3Proc>(proc: P, args: Nfs3Args<P>, opts: RpcCallOptions = {}): Promise<string> {
    return NFSSTAT3_NAMES[((await this.call(proc, args, opts)) as { status: nfsstat3 }).status];
  }

  async getattr(fh: nfs_fh3): Promise<fattr3> {
    return (await this.ok(1, { object: fh })).obj_attributes;
  }

  async lookup(dir: nfs_fh3, name: string): Promise<{ fh: nfs_fh3; attr: fattr3 }> {
    const r = await this.ok(3, { what: { dir, name } });
    return { fh: r.object, attr: r.obj_attributes! };
  }

  async create(dir: nfs_fh3, name: string, attrs: sattr3 = { mode: 0o644 }, mode: createmode3.UNCHECKED | createmode3.GUARDED = createmode3.UNCHECKED): Promise<nfs_fh3> {
    return (await this.ok(8, { where: { dir, name }, how: { mode, obj_attributes: attrs } })).obj!;
  }

  async mkdir(dir: nfs_fh3, name: string, mode = 0o755): Promise<nfs_fh3> {
    return (await this.ok(9, { where: { dir, name }, attributes: { mode } })).obj!;
  }

  write(fh: nfs_fh3, offset: number, data: Buffer, stable: stable_how = stable_how.FILE_SYNC) {
    return this.ok(7, { file: fh, offset, count: data.length, stable, data });
  }

  commit(fh: nfs_fh3) {
    return this.ok(21, { file: fh, offset: 0, count: 0 });
  }

  /** The whole file, READ by READ. */
  async readAll(fh: nfs_fh3, chunk = 1 << 20): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (let offset = 0; ; ) {
      const r = await this.ok(6, { file: fh, offset, count: chunk });
      parts.push(r.data);
      offset += r.count;
      if (r.eof) return Buffer.concat(parts);
      if (r.count === 0) throw new Error('READ returned nothing before eof');
    }
  }

  remove(dir: nfs_fh3, name: string) {
    return this.ok(12, { object: { dir, name } });
  }

  /** READDIRPLUS from the start to eof with the given limits; every entry and how many calls it took. */
  async readdirplusAll(dir: nfs_fh3, maxcount = 8192, dircount = 4096): Promise<{ entries: entryplus3[]; calls: number }> {
    const entries: entryplus3[] = [];
    let cookie = 0n;
    let cookieverf = 0n;
    for (let calls = 1; ; calls++) {
      const r = await this.ok(17, { dir, cookie, cookieverf, dircount, maxcount });
      entries.push(...r.reply.entries);
      if (r.reply.eof) return { entries, calls };
      if (r.reply.entries.length === 0) throw new Error('READDIRPLUS returned no entry before eof');
      cookie = r.reply.entries[r.reply.entries.length - 1].cookie;
      cookieverf = r.cookieverf;
    }
  }

  /** READDIR from a cookie to eof; the names in order. */
  async readdirNames(dir: nfs_fh3, cookie = 0n, cookieverf = 0n, count = 4096): Promise<string[]> {
    const names: string[] = [];
    for (;;) {
      const r = await this.ok(16, { dir, cookie, cookieverf, count });
      names.push(...r.reply.entries.map((e) => e.name));
      if (r.reply.eof) return names;
      if (r.reply.entries.length === 0) throw new Error('READDIR returned no entry before eof');
      cookie = r.reply.entries[r.reply.entries.length - 1].cookie;
      cookieverf = r.cookieverf;
    }
  }

  close(): Promise<void> {
    return this.rpc.close();
  }
}
