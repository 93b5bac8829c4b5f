import {
  ACCESS3_DELETE,
  ACCESS3_EXTEND,
  ACCESS3_MODIFY,
  createmode3,
  entry3Size,
  entryplus3DirSize,
  entryplus3Size,
  FSF3_CANSETTIME,
  FSF3_HOMOGENEOUS,
  FSF3_LINK,
  FSF3_SYMLINK,
  ftype3,
  Nfs3DecodeError,
  NFS3_PROCEDURE,
  NFS_PROGRAM,
  nfsstat3,
  NFSSTAT3_NAMES,
  readdir3ResokFixedSize,
  stable_how,
  time_how,
  type entry3,
  type entryplus3,
  type fattr3,
  type nfs_fh3,
  type Nfs3Args,
  type Nfs3Proc,
  type Nfs3Res,
  type nfstime3,
  type sattr3,
  type wcc_data,
} from '../../protocols/nfs3';
import { authSys } from '../../protocols/oncrpc/message';
import type { XdrReader } from '../../protocols/xdr/xdr';
import type { ExportEntry } from '../exports/export-table';
import type { ExportDecision, UnixCredential } from '../exports/export-rules';
import { FileType, MAX_FILE_SIZE, MAX_LINKS, MAX_NAME_BYTES, type Attr, type Credential, type NodeId, type SetAttrs, type StableHow, type Timestamp, type Wcc } from '../fs';
import { countName, emptyNfsCounters, type NfsCounters } from '../nfs-counters';
import type { FsView } from '../snapshots/share-view';
import type { RpcContext, RpcProcedure, RpcProgram } from '../rpc/rpc-program';
import { NULL_PROCEDURE } from '../rpc/rpc-program';
import { Nfs3Failure, nfs3StatusOf } from './nfs3-status';
import { HandleCache } from '../handle-cache';
import { BufferPool } from '../../common/buffer-pool';
import { ReadAhead } from '../read-ahead';

/** What the NFSv3 handlers need from the NAS service: shares by export id, their rules and filesystems. */
export interface Nfs3Shares {
  byExportId(exportId: number): ExportEntry | undefined;
  decide(exportId: number, client: { address: string; port: number }, credential: UnixCredential | null): ExportDecision;
  /** The mounted filesystem of a share (with its snapshots), or undefined while it cannot be served (volume failed, not yet open). */
  filesystem(exportId: number): FsView | undefined;
  /** Whether the share's filesystem is being opened right now (a retry will find it). */
  opening?(exportId: number): boolean;
  /** A handler met a bug: log it. */
  fault(err: unknown, what: string): void;
}

/** Largest READ and WRITE (FSINFO rtmax/wtmax): a whole record fits under the RPC layer's 1 MiB + 4 KiB limit. */
export const NFS3_MAX_IO = 2 ** 20;
/** READDIR replies above this are trimmed whatever the client asks (bounds the work one call does). */
const MAX_DIR_REPLY = 256 * 1024;

/** A resolved call target: the share, its filesystem, the object, and the caller as the export rules see it. */
interface Target {
  entry: ExportEntry;
  fs: FsView;
  node: NodeId;
  cred: Credential;
  readOnly: boolean;
}

const ts = (t: Timestamp): nfstime3 => ({ seconds: t.sec, nseconds: t.nsec });

/** A share's live filesystem is fsid = export id; each snapshot (and `/.snapshots`) a filesystem of its own above it. */
function fsidOf(exportId: number, snap: number | undefined): bigint {
  return snap ? BigInt(exportId) + BigInt(snap) * 2n ** 32n : BigInt(exportId);
}

function fattr(a: Attr, exportId: number): fattr3 {
  return {
    type: a.type as number as ftype3,
    mode: a.mode,
    nlink: a.nlink,
    uid: a.uid,
    gid: a.gid,
    size: a.size,
    used: a.used,
    rdev: { specdata1: a.rdev.major, specdata2: a.rdev.minor },
    fsid: fsidOf(exportId, a.snap),
    fileid: a.ino,
    atime: ts(a.atime),
    mtime: ts(a.mtime),
    ctime: ts(a.ctime),
  };
}

function wcc(w: Wcc, exportId: number): wcc_data {
  return { before: { size: w.before.size, mtime: ts(w.before.mtime), ctime: ts(w.before.ctime) }, after: fattr(w.after, exportId) };
}

function setAttrs(s: sattr3): SetAttrs {
  const time = (t: sattr3['atime']): SetAttrs['atime'] => (t === undefined ? undefined : t === time_how.SET_TO_SERVER_TIME ? 'server' : { sec: t.seconds, nsec: t.nseconds });
  const out: SetAttrs = {};
  if (s.mode !== undefined) out.mode = s.mode & 0o7777;
  if (s.uid !== undefined) out.uid = s.uid;
  if (s.gid !== undefined) out.gid = s.gid;
  if (s.size !== undefined) out.size = s.size;
  if (s.atime !== undefined) out.atime = time(s.atime);
  if (s.mtime !== undefined) out.mtime = time(s.mtime);
  return out;
}

const STABLE: Record<stable_how, StableHow> = { [stable_how.UNSTABLE]: 'unstable', [stable_how.DATA_SYNC]: 'data_sync', [stable_how.FILE_SYNC]: 'file_sync' };
const COMMITTED: Record<StableHow, stable_how> = { unstable: stable_how.UNSTABLE, data_sync: stable_how.DATA_SYNC, file_sync: stable_how.FILE_SYNC };

/** A decode that found a well-formed call with a bad name answers a status, not GARBAGE_ARGS. */
type Decoded<A> = { ok: true; args: A } | { ok: false; status: nfsstat3 };

/**
 * NFS version 3 (RFC 1813) over the filesystem engine: every call's handle is
 * checked (MAC, export), the export rules decide who the caller is (squash)
 * and whether it may write, then the engine does the work with that
 * credential. Errors become nfsstat3 in one function (nfs3-status.ts).
 */
export function nfs3Program(shares: Nfs3Shares, counters: NfsCounters = emptyNfsCounters()): RpcProgram {
  const failed = (status: nfsstat3): void => {
    countName(counters.errors, NFSSTAT3_NAMES[status] ?? `status ${status}`);
  };
  // READ data in reused buffers, given back once the reply is written; read-ahead for sequential readers.
  const reads = new ReadAhead(new BufferPool(NFS3_MAX_IO, 16));
  const handles = new HandleCache();
  const handle = (exportId: number, node: NodeId, entry: ExportEntry): nfs_fh3 => handles.encode({ exportId, snapshotId: node.snap ?? 0, ino: node.ino, generation: node.gen }, entry.secretKey);

  function target(fh: nfs_fh3, ctx: RpcContext, mutates: boolean): Target {
    const h = handles.decode(fh, (id) => shares.byExportId(id)?.secretKey);
    const entry = shares.byExportId(h.exportId)!;
    const sys = authSys(ctx.cred);
    const decision = shares.decide(h.exportId, { address: ctx.remoteAddress, port: ctx.remotePort }, sys ? { uid: sys.uid, gid: sys.gid, gids: sys.gids } : null);
    if (!decision.allowed) throw new Nfs3Failure(nfsstat3.NFS3ERR_ACCES, `share '${entry.name}': ${decision.reason}`);
    if (mutates && decision.access === 'ro') throw new Nfs3Failure(nfsstat3.NFS3ERR_ROFS, `share '${entry.name}' is exported read-only to ${ctx.remoteAddress}`);
    const fs = shares.filesystem(h.exportId);
    if (!fs) {
      // Being opened (or reopened after a grow): JUKEBOX tells the client to retry shortly, not to fail.
      if (shares.opening?.(h.exportId)) throw new Nfs3Failure(nfsstat3.NFS3ERR_JUKEBOX, `share '${entry.name}' is being opened`);
      throw new Nfs3Failure(nfsstat3.NFS3ERR_IO, `share '${entry.name}' cannot be served now`);
    }
    const node: NodeId = h.snapshotId === 0 ? { ino: h.ino, gen: h.generation } : { ino: h.ino, gen: h.generation, snap: h.snapshotId };
    // Under /.snapshots/ everything is read-only; a handle into a deleted snapshot is STALE first.
    const snapshot = h.snapshotId !== 0;
    if (snapshot && mutates) {
      fs.getattr(node);
      throw new Nfs3Failure(nfsstat3.NFS3ERR_ROFS, `share '${entry.name}': snapshots are read-only`);
    }
    return { entry, fs, node, cred: decision.credential, readOnly: decision.access === 'ro' || snapshot };
  }

  /** Attributes for a failure reply, if the object can still be seen. */
  function attrsOf(t: Target | undefined): fattr3 | undefined {
    if (!t) return undefined;
    try {
      return fattr(t.fs.getattr(t.node), t.entry.exportId);
    } catch {
      return undefined;
    }
  }

  /**
   * One procedure: decode (names checked by the codec answer their status),
   * run, and turn any error into the status plus what the failure body can
   * carry (`fail` gets the target when it was resolved).
   */
  function proc<P extends Nfs3Proc>(
    p: P,
    run: (args: Nfs3Args<P>, ctx: RpcContext, resolve: (fh: nfs_fh3) => Target) => Promise<Nfs3Res<P>> | Nfs3Res<P>,
    // Failure bodies are built loosely: the status is an error by construction, which the types cannot see.
    fail: (status: nfsstat3, t: Target | undefined) => unknown = (status) => ({ status }),
  ): RpcProcedure<Decoded<Nfs3Args<P>>, Nfs3Res<P>> {
    const codec = NFS3_PROCEDURE[p];
    return {
      name: codec.name,
      idempotent: codec.idempotent,
      mutates: codec.mutates,
      decode(r: XdrReader): Decoded<Nfs3Args<P>> {
        try {
          return { ok: true, args: codec.decode(r) as Nfs3Args<P> };
        } catch (e) {
          if (!(e instanceof Nfs3DecodeError)) throw e;
          // The name was readable but refused (too long, not UTF-8): the call is well-formed, so what follows
          // the name (CREATE's how, RENAME's target) is passed over rather than making the call GARBAGE_ARGS.
          if (r.remaining > 0) r.fixedOpaque(r.remaining, 'arguments after a refused name');
          return { ok: false, status: e.status };
        }
      },
      async handle(d, ctx) {
        if (!d.ok) {
          failed(d.status);
          return fail(d.status, undefined) as Nfs3Res<P>;
        }
        let first: Target | undefined;
        const resolve = (fh: nfs_fh3): Target => {
          const t = target(fh, ctx, codec.mutates);
          first ??= t;
          return t;
        };
        try {
          return await run(d.args, ctx, resolve);
        } catch (e) {
          const { status, fault } = nfs3StatusOf(e);
          if (fault) shares.fault(e, `NFSv3 ${codec.name} from ${ctx.remoteAddress}`);
          failed(status);
          return fail(status, first) as Nfs3Res<P>;
        }
      },
      encode: codec.encode as (w: import('../../protocols/xdr/xdr').XdrWriter, res: Nfs3Res<P>) => void,
    };
  }

  const postOp = (status: nfsstat3, t: Target | undefined) => ({ status, resfail: { obj_attributes: attrsOf(t) } });
  const wccFail = (key: string) => (status: nfsstat3, t: Target | undefined) => ({ status, resfail: { [key]: { after: attrsOf(t) } } });

  /** Same share for both handles of RENAME and LINK; a handle of another share is NFS3ERR_XDEV. */
  const sameShare = (a: Target, b: Target) => {
    if (a.entry.exportId !== b.entry.exportId) throw new Nfs3Failure(nfsstat3.NFS3ERR_XDEV, 'objects are on different shares');
    if ((a.node.snap ?? 0) !== (b.node.snap ?? 0)) throw new Nfs3Failure(nfsstat3.NFS3ERR_XDEV, 'objects are in different snapshots of the share');
  };

  const created = (t: Target, r: { node: NodeId; attr: Attr; dir: Wcc }) => ({
    status: nfsstat3.NFS3_OK as const,
    resok: { obj: handle(t.entry.exportId, r.node, t.entry), obj_attributes: fattr(r.attr, t.entry.exportId), dir_wcc: wcc(r.dir, t.entry.exportId) },
  });

  const v3: Record<number, RpcProcedure<any, any>> = {
    0: NULL_PROCEDURE,

    1: proc(1, (a, _ctx, resolve) => {
      const t = resolve(a.object);
      return { status: nfsstat3.NFS3_OK, resok: { obj_attributes: fattr(t.fs.getattr(t.node), t.entry.exportId) } };
    }),

    2: proc(
      2,
      async (a, _ctx, resolve) => {
        const t = resolve(a.object);
        const guard = a.guard ? { sec: a.guard.seconds, nsec: a.guard.nseconds } : undefined;
        return { status: nfsstat3.NFS3_OK, resok: { obj_wcc: wcc(await t.fs.setattr(t.cred, t.node, setAttrs(a.new_attributes), guard), t.entry.exportId) } };
      },
      wccFail('obj_wcc'),
    ),

    3: proc(
      3,
      (a, _ctx, resolve) => {
        const t = resolve(a.what.dir);
        const r = t.fs.lookup(t.cred, t.node, a.what.name);
        return { status: nfsstat3.NFS3_OK, resok: { object: handle(t.entry.exportId, r.node, t.entry), obj_attributes: fattr(r.attr, t.entry.exportId), dir_attributes: fattr(r.dir, t.entry.exportId) } };
      },
      (status, t) => ({ status, resfail: { dir_attributes: attrsOf(t) } }),
    ),

    4: proc(
      4,
      (a, _ctx, resolve) => {
        const t = resolve(a.object);
        const r = t.fs.access(t.cred, t.node, a.access);
        // A read-only export grants no change, whatever the mode bits say.
        const granted = t.readOnly ? r.granted & ~(ACCESS3_MODIFY | ACCESS3_EXTEND | ACCESS3_DELETE) : r.granted;
        return { status: nfsstat3.NFS3_OK, resok: { obj_attributes: fattr(r.attr, t.entry.exportId), access: granted } };
      },
      postOp,
    ),

    5: proc(
      5,
      (a, _ctx, resolve) => {
        const t = resolve(a.symlink);
        const r = t.fs.readlink(t.cred, t.node);
        return { status: nfsstat3.NFS3_OK, resok: { symlink_attributes: fattr(r.attr, t.entry.exportId), data: r.target } };
      },
      (status, t) => ({ status, resfail: { symlink_attributes: attrsOf(t) } }),
    ),

    6: {
      ...proc(
        6,
        async (a, _ctx, resolve) => {
          const t = resolve(a.file);
          const { result: r, buffer } = await reads.read(t.fs, t.entry.exportId, t.cred, t.node, a.offset, Math.min(a.count, NFS3_MAX_IO));
          const res = { status: nfsstat3.NFS3_OK as const, resok: { file_attributes: fattr(r.attr, t.entry.exportId), count: r.data.length, eof: r.eof, data: r.data } };
          counters.readBytes += r.data.length;
          if (buffer) reads.lend(res, [buffer]);
          return res;
        },
        (status, t) => ({ status, resfail: { file_attributes: attrsOf(t) } }),
      ),
      sent: (res: object) => reads.giveBack(res),
    },

    7: proc(
      7,
      async (a, _ctx, resolve) => {
        const t = resolve(a.file);
        if (a.data.length > NFS3_MAX_IO) throw new Nfs3Failure(nfsstat3.NFS3ERR_INVAL, `WRITE of ${a.data.length} bytes exceeds wtmax ${NFS3_MAX_IO}`);
        // No copy here: the share's write-behind store copies what it keeps past the call.
        const r = await t.fs.write(t.cred, t.node, a.offset, a.data, STABLE[a.stable]);
        counters.writtenBytes += r.count;
        return { status: nfsstat3.NFS3_OK, resok: { file_wcc: wcc(r.wcc, t.entry.exportId), count: r.count, committed: COMMITTED[r.committed], verf: r.verifier.readBigUInt64BE(0) } };
      },
      wccFail('file_wcc'),
    ),

    8: proc(
      8,
      async (a, _ctx, resolve) => {
        const t = resolve(a.where.dir);
        const how =
          a.how.mode === createmode3.EXCLUSIVE
            ? { mode: 'exclusive' as const, verifier: bigintBytes(a.how.verf) }
            : { mode: a.how.mode === createmode3.GUARDED ? ('guarded' as const) : ('unchecked' as const), attrs: setAttrs(a.how.obj_attributes) };
        return created(t, await t.fs.create(t.cred, t.node, a.where.name, how));
      },
      wccFail('dir_wcc'),
    ),

    9: proc(9, async (a, _ctx, resolve) => {
      const t = resolve(a.where.dir);
      return created(t, await t.fs.mkdir(t.cred, t.node, a.where.name, setAttrs(a.attributes)));
    }, wccFail('dir_wcc')),

    10: proc(10, async (a, _ctx, resolve) => {
      const t = resolve(a.where.dir);
      return created(t, await t.fs.symlink(t.cred, t.node, a.where.name, a.symlink.symlink_data, setAttrs(a.symlink.symlink_attributes)));
    }, wccFail('dir_wcc')),

    11: proc(11, async (a, _ctx, resolve) => {
      const t = resolve(a.where.dir);
      const w = a.what;
      if (w.type === ftype3.NF3CHR || w.type === ftype3.NF3BLK) {
        const type = w.type === ftype3.NF3CHR ? FileType.CHR : FileType.BLK;
        return created(t, await t.fs.mknod(t.cred, t.node, a.where.name, type, setAttrs(w.device.dev_attributes), { major: w.device.spec.specdata1, minor: w.device.spec.specdata2 }));
      }
      if (w.type === ftype3.NF3SOCK || w.type === ftype3.NF3FIFO) {
        return created(t, await t.fs.mknod(t.cred, t.node, a.where.name, w.type === ftype3.NF3SOCK ? FileType.SOCK : FileType.FIFO, setAttrs(w.pipe_attributes)));
      }
      throw new Nfs3Failure(nfsstat3.NFS3ERR_BADTYPE, 'MKNOD makes devices, sockets and fifos only');
    }, wccFail('dir_wcc')),

    12: proc(12, async (a, _ctx, resolve) => {
      const t = resolve(a.object.dir);
      const r = await t.fs.remove(t.cred, t.node, a.object.name);
      return { status: nfsstat3.NFS3_OK, resok: { dir_wcc: wcc(r.dir, t.entry.exportId) } };
    }, wccFail('dir_wcc')),

    13: proc(13, async (a, _ctx, resolve) => {
      const t = resolve(a.object.dir);
      const r = await t.fs.rmdir(t.cred, t.node, a.object.name);
      return { status: nfsstat3.NFS3_OK, resok: { dir_wcc: wcc(r.dir, t.entry.exportId) } };
    }, wccFail('dir_wcc')),

    14: proc(14, async (a, _ctx, resolve) => {
      const from = resolve(a.from.dir);
      const to = resolve(a.to.dir);
      sameShare(from, to);
      const r = await from.fs.rename(from.cred, from.node, a.from.name, to.node, a.to.name);
      return { status: nfsstat3.NFS3_OK, resok: { fromdir_wcc: wcc(r.fromDir, from.entry.exportId), todir_wcc: wcc(r.toDir, to.entry.exportId) } };
    }, wccFail('fromdir_wcc')),

    15: proc(15, async (a, _ctx, resolve) => {
      const file = resolve(a.file);
      const dir = resolve(a.link.dir);
      sameShare(file, dir);
      const r = await file.fs.link(file.cred, file.node, dir.node, a.link.name);
      return { status: nfsstat3.NFS3_OK, resok: { file_attributes: fattr(r.attr, file.entry.exportId), linkdir_wcc: wcc(r.dir, dir.entry.exportId) } };
    }, (status, t) => ({ status, resfail: { file_attributes: attrsOf(t) } })),

    16: proc(
      16,
      (a, _ctx, resolve) => {
        const t = resolve(a.dir);
        const dirAttr = fattr(t.fs.getattr(t.node), t.entry.exportId);
        let budget = Math.min(a.count, MAX_DIR_REPLY) - readdir3ResokFixedSize(dirAttr);
        const entries: entry3[] = [];
        const r = t.fs.readdir(t.cred, t.node, Number(a.cookie), a.cookie === 0n ? undefined : bigintBytes(a.cookieverf), {
          accept: (e) => {
            const size = entry3Size(e.name);
            if (size > budget) return false;
            budget -= size;
            entries.push({ fileid: e.node.ino, name: e.name, cookie: BigInt(e.cookie) });
            return true;
          },
        });
        if (entries.length === 0 && !r.eof) throw new Nfs3Failure(nfsstat3.NFS3ERR_TOOSMALL, `count ${a.count} cannot hold one entry`);
        return { status: nfsstat3.NFS3_OK, resok: { dir_attributes: fattr(r.dir, t.entry.exportId), cookieverf: r.verifier.readBigUInt64BE(0), reply: { entries, eof: r.eof } } };
      },
      (status, t) => ({ status, resfail: { dir_attributes: attrsOf(t) } }),
    ),

    17: proc(
      17,
      (a, _ctx, resolve) => {
        const t = resolve(a.dir);
        const id = t.entry.exportId;
        const dirAttr = fattr(t.fs.getattr(t.node), id);
        let budget = Math.min(a.maxcount, MAX_DIR_REPLY) - readdir3ResokFixedSize(dirAttr);
        let dirBudget = a.dircount;
        const entries: entryplus3[] = [];
        const r = t.fs.readdir(t.cred, t.node, Number(a.cookie), a.cookie === 0n ? undefined : bigintBytes(a.cookieverf), {
          accept: (e) => {
            let attrs: fattr3 | undefined;
            try {
              attrs = fattr(t.fs.getattr(e.node), id);
            } catch {
              attrs = undefined; // removed meanwhile: the entry still lists, without attributes
            }
            const plus: entryplus3 = { fileid: e.node.ino, name: e.name, cookie: BigInt(e.cookie), name_attributes: attrs, name_handle: handle(id, e.node, t.entry) };
            const size = entryplus3Size(plus);
            const dirSize = entryplus3DirSize(e.name);
            if (size > budget || (entries.length > 0 && dirSize > dirBudget)) return false;
            budget -= size;
            dirBudget -= dirSize;
            entries.push(plus);
            return true;
          },
        });
        if (entries.length === 0 && !r.eof) throw new Nfs3Failure(nfsstat3.NFS3ERR_TOOSMALL, `maxcount ${a.maxcount} cannot hold one entry`);
        return { status: nfsstat3.NFS3_OK, resok: { dir_attributes: fattr(r.dir, id), cookieverf: r.verifier.readBigUInt64BE(0), reply: { entries, eof: r.eof } } };
      },
      (status, t) => ({ status, resfail: { dir_attributes: attrsOf(t) } }),
    ),

    18: proc(
      18,
      (a, _ctx, resolve) => {
        const t = resolve(a.fsroot);
        const s = t.fs.fsstat(t.node);
        return {
          status: nfsstat3.NFS3_OK,
          resok: { obj_attributes: fattr(t.fs.getattr(t.node), t.entry.exportId), tbytes: s.totalBytes, fbytes: s.freeBytes, abytes: s.availBytes, tfiles: s.totalFiles, ffiles: s.freeFiles, afiles: s.availFiles, invarsec: 0 },
        };
      },
      postOp,
    ),

    19: proc(
      19,
      (a, _ctx, resolve) => {
        const t = resolve(a.fsroot);
        return {
          status: nfsstat3.NFS3_OK,
          resok: {
            obj_attributes: fattr(t.fs.getattr(t.node), t.entry.exportId),
            rtmax: NFS3_MAX_IO,
            rtpref: NFS3_MAX_IO,
            rtmult: 4096,
            wtmax: NFS3_MAX_IO,
            wtpref: NFS3_MAX_IO,
            wtmult: 4096,
            dtpref: 64 * 1024,
            maxfilesize: MAX_FILE_SIZE,
            time_delta: { seconds: 0, nseconds: 1 },
            properties: FSF3_LINK | FSF3_SYMLINK | FSF3_HOMOGENEOUS | FSF3_CANSETTIME,
          },
        };
      },
      postOp,
    ),

    20: proc(
      20,
      (a, _ctx, resolve) => {
        const t = resolve(a.object);
        return {
          status: nfsstat3.NFS3_OK,
          resok: { obj_attributes: fattr(t.fs.getattr(t.node), t.entry.exportId), linkmax: MAX_LINKS, name_max: MAX_NAME_BYTES, no_trunc: true, chown_restricted: true, case_insensitive: false, case_preserving: true },
        };
      },
      postOp,
    ),

    21: proc(
      21,
      async (a, _ctx, resolve) => {
        const t = resolve(a.file);
        const before = t.fs.getattr(t.node);
        const r = await t.fs.commit(t.node);
        return {
          status: nfsstat3.NFS3_OK,
          resok: { file_wcc: wcc({ before: { size: before.size, mtime: before.mtime, ctime: before.ctime }, after: r.attr }, t.entry.exportId), verf: r.verifier.readBigUInt64BE(0) },
        };
      },
      wccFail('file_wcc'),
    ),
  };

  return { prog: NFS_PROGRAM, name: 'nfs', versions: { 3: v3 } };
}

function bigintBytes(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt.asUintN(64, v));
  return b;
}
