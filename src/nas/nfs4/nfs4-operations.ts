import type { change_info4, stateid4 } from '../../protocols/nfs4/common.codec';
import {
  ACCESS4_DELETE,
  ACCESS4_EXECUTE,
  ACCESS4_EXTEND,
  ACCESS4_LOOKUP,
  ACCESS4_MODIFY,
  ACCESS4_READ,
  nfs_opnum4 as OP,
  nfsstat4,
  OPEN4_RESULT_LOCKTYPE_POSIX,
  OPEN4_SHARE_ACCESS_READ,
  OPEN4_SHARE_ACCESS_WANT_DELEG_MASK,
  OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
  OPEN4_SHARE_ACCESS_WANT_PUSH_DELEG_WHEN_UNCONTENDED,
  OPEN4_SHARE_ACCESS_WANT_SIGNAL_DELEG_WHEN_RESRC_AVAIL,
  OPEN4_SHARE_ACCESS_WRITE,
} from '../../protocols/nfs4/constants';
import { bitmapAttrs, encodeAttrlist, FATTR4, type Fattr4, fattrMask } from '../../protocols/nfs4/fattr4.codec';
import type { entry4, open_delegation4, secinfo4 } from '../../protocols/nfs4/ops.codec';
import { AuthFlavor } from '../../protocols/oncrpc/constants';
import { type Attr, type CreateHow, FileType, FsError, type StableHow } from '../fs';
import type { Client } from './client-table';
import { type AttrSource, fattrOf, NFS4_MAX_IO, setAttrsOf, SUPPATTR_EXCLCREAT, WRITABLE } from './nfs4-attrs';
import {
  checkName,
  child,
  fromHandle,
  handleOf,
  isRoot,
  type Obj,
  PSEUDO,
  PSEUDO_FILEID_BASE,
  pseudoAttr,
  requireDir,
  requireFile,
  sameNode,
  shareRoot,
  type ShareObj,
  writableDir,
} from './nfs4-objects';
import type { CompoundContext, Nfs4Server, OpTable } from './nfs4-server';
import { fail } from './nfs4-status';
import { INVALID_STATEID, isAnonymousStateid, isBypassStateid, isCurrentStateid, type LockState, lockOwnerKey, lockRange, type OpenState, type State } from './state-table';

const STABLE: Record<number, StableHow> = { 0: 'unstable', 1: 'data_sync', 2: 'file_sync' };
const COMMITTED: Record<StableHow, number> = { unstable: 0, data_sync: 1, file_sync: 2 };
const ACCESS_ALL = ACCESS4_READ | ACCESS4_LOOKUP | ACCESS4_MODIFY | ACCESS4_EXTEND | ACCESS4_DELETE | ACCESS4_EXECUTE;
const WANT_BITS = OPEN4_SHARE_ACCESS_WANT_DELEG_MASK | OPEN4_SHARE_ACCESS_WANT_SIGNAL_DELEG_WHEN_RESRC_AVAIL | OPEN4_SHARE_ACCESS_WANT_PUSH_DELEG_WHEN_UNCONTENDED;
/** What SECINFO offers: the flavors the RPC layer accepts for NFS (AUTH_SYS first, as Linux lists it). */
const FLAVORS: secinfo4[] = [{ flavor: AuthFlavor.AUTH_SYS }, { flavor: AuthFlavor.AUTH_NONE }];
/** READDIR4resok without entries: status, verifier, the list's final FALSE, eof. */
const READDIR_FIXED = 4 + 8 + 4 + 4;

const need = (c: CompoundContext): Obj => c.cur ?? fail(nfsstat4.NFS4ERR_NOFILEHANDLE, 'no current filehandle');
const clientOf = (c: CompoundContext): Client => c.client ?? fail(nfsstat4.NFS4ERR_OP_NOT_IN_SESSION, 'no session');
const pad4 = (n: number) => (n + 3) & ~3;

function setCurrent(c: CompoundContext, o: Obj | undefined, sid?: stateid4): void {
  c.cur = o;
  c.curSid = sid;
}

const cinfo = (before: Attr | number, after: Attr | number): change_info4 => ({
  atomic: true,
  before: BigInt(typeof before === 'number' ? before : before.change),
  after: BigInt(typeof after === 'number' ? after : after.change),
});

/**
 * The operations of a COMPOUND, one entry per operation (RFC 8881 section 18), over the pseudo root,
 * the shares' filesystems and the client, open and lock state. Each throws for a failure; the COMPOUND
 * loop turns the error into the status in one place (nfs4-status.ts).
 */
export function nfs4Operations(server: Nfs4Server): OpTable {
  const { shares, clients, state } = server;

  function sourceOf(o: Obj): AttrSource {
    if (o.kind === 'pseudo') {
      const list = shares.list();
      return {
        attr: pseudoAttr(list, server.started),
        exportId: 0,
        fsid: { major: 0, minor: 0 },
        handle: () => handleOf(o, server.handles),
        fsstat: () => ({ totalBytes: 0, freeBytes: 0, availBytes: 0, totalFiles: 0, freeFiles: 0, availFiles: 0 }),
        leaseSeconds: clients.leaseSeconds,
      };
    }
    return {
      attr: o.fs.getattr(o.node),
      exportId: o.entry.exportId,
      handle: () => handleOf(o, server.handles),
      fsstat: () => o.fs.fsstat(o.node),
      leaseSeconds: clients.leaseSeconds,
      mountedOn: isRoot(o) ? PSEUDO_FILEID_BASE + o.entry.exportId : undefined,
    };
  }

  /** The file a stateid may act on, and the state it names (none for the special stateids). */
  function stateFor(c: CompoundContext, sid: stateid4): State | undefined {
    if (isCurrentStateid(sid)) sid = c.curSid ?? fail(nfsstat4.NFS4ERR_BAD_STATEID, 'no current stateid');
    if (isAnonymousStateid(sid) || isBypassStateid(sid)) return undefined;
    return state.find(sid, clientOf(c));
  }

  const fileRef = (o: ShareObj) => ({ exportId: o.entry.exportId, fs: o.fs, node: o.node });
  const sameFile = (s: State, o: ShareObj) => {
    const r = s.file.ref;
    if (r.exportId !== o.entry.exportId || !sameNode(r.node, o.node)) fail(nfsstat4.NFS4ERR_BAD_STATEID, 'the stateid is for another file');
  };

  /* RFC 8881 section 9.1.2 and 18.22.3: READ, WRITE and SETATTR(size) check the stateid against the file and its share modes. */
  function checkIo(c: CompoundContext, o: ShareObj, sid: stateid4, write: boolean): void {
    const s = stateFor(c, sid);
    if (!s) {
      if (state.deniedByOthers(fileRef(o), write ? OPEN4_SHARE_ACCESS_WRITE : OPEN4_SHARE_ACCESS_READ)) fail(nfsstat4.NFS4ERR_LOCKED, 'an open denies this access');
      return;
    }
    sameFile(s, o);
    const open: OpenState = s.kind === 'open' ? s : s.open;
    if (write && (open.access & OPEN4_SHARE_ACCESS_WRITE) === 0) fail(nfsstat4.NFS4ERR_OPENMODE, 'the file is not open for writing');
  }

  /** Non-reclaim state during the grace period, or before this client's RECLAIM_COMPLETE, waits (RFC 8881 section 18.51.3). */
  function noGrace(client: Client): void {
    if (clients.inGrace()) fail(nfsstat4.NFS4ERR_GRACE, 'the server is in its grace period');
    if (!client.reclaimComplete) fail(nfsstat4.NFS4ERR_GRACE, 'RECLAIM_COMPLETE has not been done');
  }

  function readdirPseudo(c: CompoundContext, a: { cookie: number; maxcount: number; attr_request: number[] }, cutByLimit: boolean) {
    const list = shares
      .list()
      .filter((e) => shares.decide(e.exportId, { address: c.caller.address, port: c.caller.port }, c.caller.cred).allowed)
      .sort((x, y) => x.exportId - y.exportId);
    let budget = a.maxcount - READDIR_FIXED;
    const entries: entry4[] = [];
    let eof = true;
    for (const e of list) {
      const cookie = e.exportId + 2;
      if (cookie <= a.cookie) continue;
      let root: ShareObj;
      try {
        root = shareRoot(shares, e, c.caller);
      } catch {
        continue;
      }
      const attrs = fattrOf(sourceOf(root), a.attr_request);
      const size = entrySize(e.name, attrs);
      if (size > budget) {
        eof = false;
        break;
      }
      budget -= size;
      entries.push({ cookie, name: e.name, attrs });
    }
    if (entries.length === 0 && !eof) fail(cutByLimit ? nfsstat4.NFS4ERR_REP_TOO_BIG : nfsstat4.NFS4ERR_TOOSMALL, `maxcount ${a.maxcount} cannot hold one entry`);
    return { status: nfsstat4.NFS4_OK, resok: { cookieverf: Buffer.alloc(8), reply: { entries, eof } } };
  }

  const ops: OpTable = {
    // ---- client ids and sessions -----------------------------------------------------------------

    [OP.OP_EXCHANGE_ID]: { run: (a, c) => ({ status: nfsstat4.NFS4_OK, resok: clients.exchangeId(a, c.principal) }) },
    [OP.OP_CREATE_SESSION]: { run: (a, c) => ({ status: nfsstat4.NFS4_OK, resok: clients.createSession(a, c.principal) }) },
    [OP.OP_DESTROY_SESSION]: {
      run: (a, c) => {
        // Destroying the session this COMPOUND runs in must be its last operation (RFC 8881 section 18.37.3).
        if (c.session?.id.equals(a) && c.index !== c.numops - 1) fail(nfsstat4.NFS4ERR_NOT_ONLY_OP, 'DESTROY_SESSION of the current session is not the last operation');
        clients.destroySession(a);
        return { status: nfsstat4.NFS4_OK };
      },
    },
    [OP.OP_DESTROY_CLIENTID]: {
      run: (a) => {
        clients.destroyClientId(a);
        return { status: nfsstat4.NFS4_OK };
      },
    },
    [OP.OP_BIND_CONN_TO_SESSION]: {
      // One TCP connection serves every session here; binding only names the directions (no callbacks are ever sent).
      run: (a) => {
        const s = clients.session(a.bctsa_sessid);
        clients.renew(s.client);
        const dir = a.bctsa_dir === 1 ? 1 : a.bctsa_dir === 2 ? 2 : 3;
        return { status: nfsstat4.NFS4_OK, resok: { bctsr_sessid: s.id, bctsr_dir: dir, bctsr_use_conn_in_rdma_mode: false } };
      },
    },
    [OP.OP_BACKCHANNEL_CTL]: {
      run: (_a, c) => {
        if (!c.session) fail(nfsstat4.NFS4ERR_OP_NOT_IN_SESSION, 'no session');
        return { status: nfsstat4.NFS4_OK };
      },
    },
    [OP.OP_RECLAIM_COMPLETE]: {
      run: (oneFs, c) => {
        const client = clientOf(c);
        // One filesystem at a time is the migration case; every share here recovers with the server (as Linux's nfsd).
        if (oneFs) {
          need(c);
          return { status: nfsstat4.NFS4_OK };
        }
        clients.reclaimComplete(client);
        return { status: nfsstat4.NFS4_OK };
      },
    },
    [OP.OP_TEST_STATEID]: { run: (a, c) => ({ status: nfsstat4.NFS4_OK, resok: a.map((s) => state.test(s, clientOf(c))) }) },
    [OP.OP_FREE_STATEID]: {
      run: (a, c) => {
        // The current stateid (seqid 1, other all zeros) names the one the COMPOUND last set (RFC 8881 section 16.2.3.1.2).
        const client = clientOf(c);
        const sid = isCurrentStateid(a) ? (c.curSid ?? fail(nfsstat4.NFS4ERR_BAD_STATEID, 'no current stateid')) : a;
        state.free(state.find(sid, client));
        return { status: nfsstat4.NFS4_OK };
      },
    },

    // ---- file handles --------------------------------------------------------------------------------

    [OP.OP_PUTROOTFH]: { run: (_a, c) => (setCurrent(c, PSEUDO), { status: nfsstat4.NFS4_OK }) },
    [OP.OP_PUTPUBFH]: { run: (_a, c) => (setCurrent(c, PSEUDO), { status: nfsstat4.NFS4_OK }) },
    [OP.OP_PUTFH]: {
      run: (fh, c) => {
        setCurrent(c, fromHandle(shares, server.handles, fh, c.caller));
        return { status: nfsstat4.NFS4_OK };
      },
    },
    [OP.OP_GETFH]: { run: (_a, c) => ({ status: nfsstat4.NFS4_OK, resok: handleOf(need(c), server.handles) }) },
    [OP.OP_SAVEFH]: {
      run: (_a, c) => {
        c.saved = need(c);
        c.savedSid = c.curSid;
        return { status: nfsstat4.NFS4_OK };
      },
    },
    [OP.OP_RESTOREFH]: {
      run: (_a, c) => {
        setCurrent(c, c.saved ?? fail(nfsstat4.NFS4ERR_NOFILEHANDLE, 'no saved filehandle'), c.savedSid);
        return { status: nfsstat4.NFS4_OK };
      },
    },
    [OP.OP_LOOKUP]: {
      run: (name, c) => {
        const dir = requireDir(need(c));
        checkName(name);
        if (dir.kind === 'pseudo') {
          const entry = shares.byShareName(name) ?? fail(nfsstat4.NFS4ERR_NOENT, `no share '${name}'`);
          setCurrent(c, shareRoot(shares, entry, c.caller));
        } else {
          const r = dir.fs.lookup(dir.cred, dir.node, name);
          setCurrent(c, child(dir, r.node, r.attr));
        }
        return { status: nfsstat4.NFS4_OK };
      },
    },
    [OP.OP_LOOKUPP]: {
      run: (_a, c) => {
        const dir = requireDir(need(c));
        if (dir.kind === 'pseudo') fail(nfsstat4.NFS4ERR_NOENT, 'the pseudo root has no parent');
        if (isRoot(dir)) setCurrent(c, PSEUDO);
        else {
          const r = dir.fs.lookup(dir.cred, dir.node, '..');
          setCurrent(c, child(dir, r.node, r.attr));
        }
        return { status: nfsstat4.NFS4_OK };
      },
    },
    [OP.OP_SECINFO]: {
      run: (name, c) => {
        const dir = requireDir(need(c));
        checkName(name);
        if (dir.kind === 'pseudo') shareRoot(shares, shares.byShareName(name) ?? fail(nfsstat4.NFS4ERR_NOENT, `no share '${name}'`), c.caller);
        else dir.fs.lookup(dir.cred, dir.node, name);
        // SECINFO consumes the current filehandle (RFC 8881 section 2.6.3.1.1.8).
        setCurrent(c, undefined);
        return { status: nfsstat4.NFS4_OK, resok: FLAVORS };
      },
    },
    [OP.OP_SECINFO_NO_NAME]: {
      run: (style, c) => {
        const o = need(c);
        if (style === 1) {
          if (o.kind === 'pseudo') fail(nfsstat4.NFS4ERR_NOENT, 'the pseudo root has no parent');
          if (!isRoot(o)) {
            requireDir(o);
            o.fs.lookup(o.cred, o.node, '..');
          }
        }
        setCurrent(c, undefined);
        return { status: nfsstat4.NFS4_OK, resok: FLAVORS };
      },
    },

    // ---- attributes ----------------------------------------------------------------------------------

    [OP.OP_GETATTR]: { run: (req, c) => ({ status: nfsstat4.NFS4_OK, resok: fattrOf(sourceOf(need(c)), req) }) },
    [OP.OP_SETATTR]: {
      run: async (a, c) => {
        const o = need(c);
        const { attrs, set } = setAttrsOf(a.obj_attributes);
        if (o.kind === 'pseudo') fail(nfsstat4.NFS4ERR_ROFS, 'the pseudo root cannot change');
        if (o.readOnly) fail(nfsstat4.NFS4ERR_ROFS, `share '${o.entry.name}' is exported read-only to this client`);
        if (attrs.size !== undefined) {
          if (o.type === FileType.DIR) fail(nfsstat4.NFS4ERR_ISDIR, 'a directory has no size to set');
          if (o.type !== FileType.REG) fail(nfsstat4.NFS4ERR_INVAL, 'only a regular file has a size to set');
          checkIo(c, o, a.stateid, true);
        }
        if (Object.keys(attrs).length > 0) await o.fs.setattr(o.cred, o.node, attrs);
        return { status: nfsstat4.NFS4_OK, attrsset: set };
      },
      fail: (status) => ({ status, attrsset: [] }),
    },
    [OP.OP_VERIFY]: { run: (f, c) => (sameAttrs(f, c) ? { status: nfsstat4.NFS4_OK } : fail(nfsstat4.NFS4ERR_NOT_SAME, 'attributes differ')) },
    [OP.OP_NVERIFY]: { run: (f, c) => (sameAttrs(f, c) ? fail(nfsstat4.NFS4ERR_SAME, 'attributes are the same') : { status: nfsstat4.NFS4_OK }) },
    [OP.OP_ACCESS]: {
      run: (want, c) => {
        const o = need(c);
        if ((want & ~ACCESS_ALL) !== 0) fail(nfsstat4.NFS4ERR_INVAL, `access bits 0x${want.toString(16)} are not defined`);
        if (o.kind === 'pseudo') return { status: nfsstat4.NFS4_OK, resok: { supported: want, access: want & (ACCESS4_READ | ACCESS4_LOOKUP | ACCESS4_EXECUTE) } };
        const r = o.fs.access(o.cred, o.node, want);
        const granted = o.readOnly ? r.granted & ~(ACCESS4_MODIFY | ACCESS4_EXTEND | ACCESS4_DELETE) : r.granted;
        return { status: nfsstat4.NFS4_OK, resok: { supported: want, access: granted & want } };
      },
    },

    // ---- directories ---------------------------------------------------------------------------------------

    [OP.OP_READDIR]: {
      run: (a, c) => {
        const dir = requireDir(need(c));
        if (a.cookie === 1 || a.cookie === 2) fail(nfsstat4.NFS4ERR_BAD_COOKIE, `cookie ${a.cookie} is reserved`);
        // Not even an empty list with eof fits: NFS4ERR_TOOSMALL (RFC 8881 section 18.23.3), as for an entry that does not fit.
        if (a.maxcount < READDIR_FIXED) fail(nfsstat4.NFS4ERR_TOOSMALL, `maxcount ${a.maxcount} cannot hold a READDIR reply`);
        // The reply holds no more than the client's maxcount, nor than is left under the session's response limit.
        const room = c.room();
        const maxcount = Math.min(a.maxcount, room, NFS4_MAX_IO);
        if (dir.kind === 'pseudo') return readdirPseudo(c, { ...a, maxcount }, room < a.maxcount);
        let budget = maxcount - READDIR_FIXED;
        const entries: entry4[] = [];
        const wantsError = bitmapAttrs(a.attr_request).includes(FATTR4.RDATTR_ERROR);
        const r = dir.fs.readdir(dir.cred, dir.node, a.cookie, a.cookie === 0 ? undefined : a.cookieverf, {
          dots: false,
          accept: (e) => {
            let attrs: Fattr4;
            try {
              attrs = fattrOf(sourceOf(child(dir, e.node, { type: e.type } as Attr)), a.attr_request);
            } catch (err) {
              if (!wantsError) throw err;
              attrs = { rdattr_error: nfsstat4.NFS4ERR_STALE };
            }
            const size = entrySize(e.name, attrs);
            if (size > budget) return false;
            budget -= size;
            entries.push({ cookie: e.cookie, name: e.name, attrs });
            return true;
          },
        });
        if (entries.length === 0 && !r.eof) fail(room < a.maxcount ? nfsstat4.NFS4ERR_REP_TOO_BIG : nfsstat4.NFS4ERR_TOOSMALL, `maxcount ${maxcount} cannot hold one entry`);
        return { status: nfsstat4.NFS4_OK, resok: { cookieverf: r.verifier, reply: { entries, eof: r.eof } } };
      },
    },
    [OP.OP_READLINK]: {
      run: (_a, c) => {
        const o = need(c);
        if (o.kind === 'pseudo' || o.type !== FileType.LNK) fail(nfsstat4.NFS4ERR_INVAL, 'not a symbolic link');
        return { status: nfsstat4.NFS4_OK, resok: o.fs.readlink(o.cred, o.node).target };
      },
    },
    [OP.OP_CREATE]: {
      run: async (a, c) => {
        const dir = writableDir(need(c));
        checkName(a.objname);
        const { attrs, set } = setAttrsOf(a.createattrs, new Set([...WRITABLE].filter((n) => n !== FATTR4.SIZE)));
        const before = dir.fs.getattr(dir.node);
        const t = a.objtype;
        let r;
        if (t.type === FileType.DIR) r = await dir.fs.mkdir(dir.cred, dir.node, a.objname, attrs);
        else if ('linkdata' in t) r = await dir.fs.symlink(dir.cred, dir.node, a.objname, t.linkdata, attrs);
        else if ('devdata' in t) r = await dir.fs.mknod(dir.cred, dir.node, a.objname, t.type as FileType, attrs, { major: t.devdata.specdata1, minor: t.devdata.specdata2 });
        else if (t.type === FileType.SOCK || t.type === FileType.FIFO) r = await dir.fs.mknod(dir.cred, dir.node, a.objname, t.type as FileType, attrs);
        else return fail(nfsstat4.NFS4ERR_BADTYPE, `CREATE does not make objects of type ${t.type} (regular files are made by OPEN)`);
        setCurrent(c, child(dir, r.node, r.attr));
        return { status: nfsstat4.NFS4_OK, resok: { cinfo: cinfo(before, r.dir.after), attrset: set } };
      },
    },
    [OP.OP_REMOVE]: {
      run: async (name, c) => {
        const dir = writableDir(need(c));
        checkName(name);
        const before = dir.fs.getattr(dir.node);
        const target = dir.fs.lookup(dir.cred, dir.node, name);
        const r = target.attr.type === FileType.DIR ? await dir.fs.rmdir(dir.cred, dir.node, name) : await dir.fs.remove(dir.cred, dir.node, name);
        return { status: nfsstat4.NFS4_OK, resok: cinfo(before, r.dir.after) };
      },
    },
    [OP.OP_RENAME]: {
      run: async (a, c) => {
        const from = c.saved ?? fail(nfsstat4.NFS4ERR_NOFILEHANDLE, 'no saved filehandle');
        const to = need(c);
        if (from.kind !== to.kind || (from.kind === 'share' && to.kind === 'share' && from.entry.exportId !== to.entry.exportId)) fail(nfsstat4.NFS4ERR_XDEV, 'the directories are on different shares');
        const src = writableDir(from);
        const dst = writableDir(to);
        checkName(a.oldname);
        checkName(a.newname);
        const srcBefore = src.fs.getattr(src.node);
        const dstBefore = dst.fs.getattr(dst.node);
        const r = await src.fs.rename(src.cred, src.node, a.oldname, dst.node, a.newname);
        return { status: nfsstat4.NFS4_OK, resok: { source_cinfo: cinfo(srcBefore, r.fromDir.after), target_cinfo: cinfo(dstBefore, r.toDir.after) } };
      },
    },
    [OP.OP_LINK]: {
      run: async (name, c) => {
        const obj = c.saved ?? fail(nfsstat4.NFS4ERR_NOFILEHANDLE, 'no saved filehandle');
        const to = need(c);
        if (obj.kind === 'pseudo' || to.kind === 'pseudo') return fail(to.kind === 'pseudo' ? nfsstat4.NFS4ERR_ROFS : nfsstat4.NFS4ERR_ISDIR, 'the pseudo root cannot be linked');
        if (obj.entry.exportId !== to.entry.exportId) fail(nfsstat4.NFS4ERR_XDEV, 'the object and the directory are on different shares');
        const dir = writableDir(to);
        if (obj.type === FileType.DIR) fail(nfsstat4.NFS4ERR_ISDIR, 'directories cannot be hard-linked');
        checkName(name);
        const before = dir.fs.getattr(dir.node);
        const r = await dir.fs.link(dir.cred, obj.node, dir.node, name);
        return { status: nfsstat4.NFS4_OK, resok: cinfo(before, r.dir.after) };
      },
    },

    // ---- opens ---------------------------------------------------------------------------------------------

    [OP.OP_OPEN]: {
      run: async (a, c) => {
        const client = clientOf(c);
        const o = need(c);
        if ((a.share_access & ~(3 | WANT_BITS)) !== 0 || (a.share_access & 3) === 0 || a.share_deny > 3) fail(nfsstat4.NFS4ERR_INVAL, 'share_access or share_deny out of range');
        const access = a.share_access & 3;
        const deny = a.share_deny;
        let file: ShareObj;
        let change: change_info4 = { atomic: true, before: 0n, after: 0n };
        let attrset: number[] = [];
        let created = false;
        const claim = a.claim;
        if (claim.claim === 0) {
          const dir = requireDir(o);
          checkName(claim.file);
          noGrace(client);
          if (a.openhow.opentype === 1) {
            const w = writableDir(dir);
            const h = a.openhow.how;
            let how: CreateHow;
            if ('createattrs' in h) {
              const s = setAttrsOf(h.createattrs);
              how = { mode: h.mode === 0 ? 'unchecked' : 'guarded', attrs: s.attrs };
              attrset = s.set;
            } else if ('createverf' in h) how = { mode: 'exclusive', verifier: Buffer.from(h.createverf) };
            else {
              const s = setAttrsOf(h.ch_createboth.cva_attrs, new Set(bitmapAttrs(SUPPATTR_EXCLCREAT)));
              how = { mode: 'exclusive', verifier: Buffer.from(h.ch_createboth.cva_verf), attrs: s.attrs };
              attrset = s.set;
            }
            const before = w.fs.getattr(w.node);
            const r = await w.fs.create(w.cred, w.node, claim.file, how).catch((e: unknown) => {
              // UNCHECKED4 over an existing non-regular object is an OPEN of it: ISDIR, SYMLINK or INVAL, as Linux's nfsd answers.
              if (!(e instanceof FsError) || e.code !== 'EXIST' || how.mode !== 'unchecked') throw e;
              const l = w.fs.lookup(w.cred, w.node, claim.file);
              requireFile(child(w, l.node, l.attr));
              throw e;
            });
            created = !r.existed;
            if (r.existed && how.mode === 'unchecked') attrset = how.attrs?.size !== undefined ? [1 << FATTR4.SIZE] : [];
            file = child(w, r.node, r.attr);
            change = cinfo(before, r.dir.after);
          } else {
            if (dir.kind === 'pseudo') {
              const entry = shares.byShareName(claim.file) ?? fail(nfsstat4.NFS4ERR_NOENT, `no share '${claim.file}'`);
              requireFile(shareRoot(shares, entry, c.caller));
            }
            const d = dir as ShareObj;
            const before = d.fs.getattr(d.node);
            const r = d.fs.lookup(d.cred, d.node, claim.file);
            file = child(d, r.node, r.attr);
            change = cinfo(before, r.dir);
          }
        } else if (claim.claim === 4 || claim.claim === 1) {
          if (a.openhow.opentype === 1) fail(nfsstat4.NFS4ERR_INVAL, 'this claim cannot create');
          if (claim.claim === 1) {
            if (!clients.mayReclaim(client)) fail(nfsstat4.NFS4ERR_NO_GRACE, 'nothing to reclaim now');
            if (claim.delegate_type !== 0) fail(nfsstat4.NFS4ERR_RECLAIM_BAD, 'no delegation was ever granted');
          } else noGrace(client);
          file = requireFile(o);
        } else if (claim.claim === 2 || claim.claim === 5) {
          return fail(nfsstat4.NFS4ERR_BAD_STATEID, 'no delegation was granted');
        } else return fail(nfsstat4.NFS4ERR_NOTSUPP, 'delegations are not reclaimed here');
        requireFile(file);
        if (!created) {
          if ((access & OPEN4_SHARE_ACCESS_WRITE) !== 0 && file.readOnly) fail(nfsstat4.NFS4ERR_ROFS, `share '${file.entry.name}' is exported read-only to this client`);
          const want = (access & OPEN4_SHARE_ACCESS_READ ? ACCESS4_READ : 0) | (access & OPEN4_SHARE_ACCESS_WRITE ? ACCESS4_MODIFY : 0);
          const granted = file.fs.access(file.cred, file.node, want).granted;
          if ((granted & want) !== want) fail(nfsstat4.NFS4ERR_ACCESS, 'the mode does not allow this open');
        }
        const open = state.open(client, a.owner.owner, fileRef(file), access, deny);
        const sid = state.stateidOf(open);
        setCurrent(c, file, sid);
        return { status: nfsstat4.NFS4_OK, resok: { stateid: sid, cinfo: change, rflags: OPEN4_RESULT_LOCKTYPE_POSIX, attrset, delegation: noDelegation(a.share_access) } };
      },
    },
    [OP.OP_CLOSE]: {
      run: async (a, c) => {
        const o = requireFile(need(c));
        const s = stateFor(c, a.open_stateid) ?? fail(nfsstat4.NFS4ERR_BAD_STATEID, 'CLOSE needs an open stateid');
        if (s.kind !== 'open') fail(nfsstat4.NFS4ERR_BAD_STATEID, 'CLOSE needs an open stateid');
        sameFile(s, o);
        await state.close(s);
        c.curSid = undefined;
        return { status: nfsstat4.NFS4_OK, resok: INVALID_STATEID };
      },
    },
    [OP.OP_OPEN_DOWNGRADE]: {
      run: (a, c) => {
        const o = requireFile(need(c));
        const s = stateFor(c, a.open_stateid) ?? fail(nfsstat4.NFS4ERR_BAD_STATEID, 'OPEN_DOWNGRADE needs an open stateid');
        if (s.kind !== 'open') fail(nfsstat4.NFS4ERR_BAD_STATEID, 'OPEN_DOWNGRADE needs an open stateid');
        sameFile(s, o);
        if ((a.share_access & ~WANT_BITS & ~3) !== 0 || (a.share_access & 3) === 0 || a.share_deny > 3) fail(nfsstat4.NFS4ERR_INVAL, 'share_access or share_deny out of range');
        state.downgrade(s, a.share_access & 3, a.share_deny);
        const sid = state.stateidOf(s);
        c.curSid = sid;
        return { status: nfsstat4.NFS4_OK, resok: sid };
      },
    },
    [OP.OP_DELEGRETURN]: {
      run: (sid, c) => {
        need(c);
        stateFor(c, sid);
        return fail(nfsstat4.NFS4ERR_BAD_STATEID, 'no delegation was granted');
      },
    },

    // ---- data ------------------------------------------------------------------------------------------------

    [OP.OP_READ]: {
      run: async (a, c) => {
        const o = requireFile(need(c));
        checkIo(c, o, a.stateid, false);
        // A READ returns what fits the session's response limit after the results before it (eof, data length: 8 bytes, padding: 3).
        const limit = Math.max(0, c.room() - 11);
        const { result: r, buffer } = await server.reads.read(o.fs, o.entry.exportId, o.cred, o.node, a.offset, Math.min(a.count, NFS4_MAX_IO, limit));
        // The reply references the data: the buffer goes back to the pool once the whole COMPOUND's reply is written.
        if (buffer) c.lent.push(buffer);
        server.counters.readBytes += r.data.length;
        return { status: nfsstat4.NFS4_OK, resok: { eof: r.eof, data: r.data } };
      },
    },
    [OP.OP_WRITE]: {
      run: async (a, c) => {
        const o = requireFile(need(c));
        if (o.readOnly) fail(nfsstat4.NFS4ERR_ROFS, `share '${o.entry.name}' is exported read-only to this client`);
        checkIo(c, o, a.stateid, true);
        if (a.data.length > NFS4_MAX_IO) fail(nfsstat4.NFS4ERR_INVAL, `WRITE of ${a.data.length} bytes exceeds maxwrite`);
        // No copy here (as in NFSv3): the share's write-behind store copies what it keeps past the call.
        const r = await o.fs.write(o.cred, o.node, a.offset, a.data, STABLE[a.stable]);
        server.counters.writtenBytes += r.count;
        return { status: nfsstat4.NFS4_OK, resok: { count: r.count, committed: COMMITTED[r.committed], writeverf: r.verifier } };
      },
    },
    [OP.OP_COMMIT]: {
      run: async (_a, c) => {
        const o = requireFile(need(c));
        return { status: nfsstat4.NFS4_OK, resok: (await o.fs.commit(o.node)).verifier };
      },
    },

    // ---- byte-range locks ---------------------------------------------------------------------------------

    [OP.OP_LOCK]: {
      run: (a, c) => {
        const client = clientOf(c);
        const o = requireFile(need(c));
        const { start, end } = lockRange(a.offset, a.length);
        let lock: LockState;
        if (a.locker.new_lock_owner) {
          const s = stateFor(c, a.locker.open_owner.open_stateid) ?? fail(nfsstat4.NFS4ERR_BAD_STATEID, 'LOCK needs an open stateid');
          if (s.kind !== 'open') fail(nfsstat4.NFS4ERR_BAD_STATEID, 'LOCK with a new lock owner needs an open stateid');
          sameFile(s, o);
          lock = state.lockStateFor(s, a.locker.open_owner.lock_owner);
        } else {
          const s = stateFor(c, a.locker.lock_owner.lock_stateid) ?? fail(nfsstat4.NFS4ERR_BAD_STATEID, 'LOCK needs a lock stateid');
          if (s.kind !== 'lock') fail(nfsstat4.NFS4ERR_BAD_STATEID, 'LOCK with an existing lock owner needs a lock stateid');
          sameFile(s, o);
          lock = s;
        }
        if (a.reclaim) {
          if (!clients.mayReclaim(client)) fail(nfsstat4.NFS4ERR_NO_GRACE, 'nothing to reclaim now');
        } else noGrace(client);
        const write = a.locktype === 2 || a.locktype === 4;
        if ((lock.open.access & (write ? OPEN4_SHARE_ACCESS_WRITE : OPEN4_SHARE_ACCESS_READ)) === 0) fail(nfsstat4.NFS4ERR_OPENMODE, `the file is not open for ${write ? 'writing' : 'reading'}`);
        const denied = state.conflict(fileRef(o), lock.ownerKey, a.locktype, start, end);
        if (denied) return { status: nfsstat4.NFS4ERR_DENIED, denied };
        state.lock(lock, a.locktype, start, end);
        const sid = state.stateidOf(lock);
        c.curSid = sid;
        return { status: nfsstat4.NFS4_OK, resok: sid };
      },
    },
    [OP.OP_LOCKT]: {
      run: (a, c) => {
        const client = clientOf(c);
        const o = requireFile(need(c));
        const { start, end } = lockRange(a.offset, a.length);
        if (clients.inGrace()) fail(nfsstat4.NFS4ERR_GRACE, 'the server is in its grace period');
        const denied = state.conflict(fileRef(o), lockOwnerKey(client, a.owner.owner), a.locktype, start, end);
        return denied ? { status: nfsstat4.NFS4ERR_DENIED, denied } : { status: nfsstat4.NFS4_OK };
      },
    },
    [OP.OP_LOCKU]: {
      run: (a, c) => {
        const o = requireFile(need(c));
        const { start, end } = lockRange(a.offset, a.length);
        const s = stateFor(c, a.lock_stateid) ?? fail(nfsstat4.NFS4ERR_BAD_STATEID, 'LOCKU needs a lock stateid');
        if (s.kind !== 'lock') fail(nfsstat4.NFS4ERR_BAD_STATEID, 'LOCKU needs a lock stateid');
        sameFile(s, o);
        state.unlock(s, start, end);
        const sid = state.stateidOf(s);
        c.curSid = sid;
        return { status: nfsstat4.NFS4_OK, resok: sid };
      },
    },
  };

  /* VERIFY / NVERIFY (RFC 8881 section 18.31.3): compare as the server would encode them; rdattr_error and write-only attributes are NFS4ERR_INVAL. */
  function sameAttrs(f: Fattr4, c: CompoundContext): boolean {
    const o = need(c);
    const mask = fattrMask(f);
    for (const n of bitmapAttrs(mask)) if (n === FATTR4.RDATTR_ERROR || n === FATTR4.TIME_ACCESS_SET || n === FATTR4.TIME_MODIFY_SET) fail(nfsstat4.NFS4ERR_INVAL, `attribute ${n} cannot be verified`);
    const ours = encodeAttrlist(fattrOf(sourceOf(o), mask));
    return ours.vals.equals(encodeAttrlist(f).vals);
  }

  return ops;
}

/** An entry4's bytes in the reply: the list's TRUE, cookie, name, fattr4. */
function entrySize(name: string, attrs: Fattr4): number {
  const { mask, vals } = encodeAttrlist(attrs);
  return 4 + 8 + 4 + pad4(Buffer.byteLength(name, 'utf8')) + 4 + 4 * mask.length + 4 + pad4(vals.length);
}

/* RFC 8881 section 10.4.1: a client that asked for a delegation is told why it has none; no delegation is ever granted. */
function noDelegation(shareAccess: number): open_delegation4 {
  const want = shareAccess & OPEN4_SHARE_ACCESS_WANT_DELEG_MASK;
  if (want === 0) return { delegation_type: 0 };
  if (want === OPEN4_SHARE_ACCESS_WANT_NO_DELEG) return { delegation_type: 3, od_whynone: { ond_why: 0 } };
  return { delegation_type: 3, od_whynone: { ond_why: 2, flag: false } };
}
