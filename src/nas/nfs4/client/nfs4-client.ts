import { randomBytes } from 'node:crypto';
import { RpcClient, RpcReplyError } from '../../rpc/rpc-client';
import type { channel_attrs4, stateid4 } from '../../../protocols/nfs4/common.codec';
import { type COMPOUND4res, type nfs_argop4, type nfs_resop4, readCompound4res, writeArgop } from '../../../protocols/nfs4/compound.codec';
import { NFS4_PROGRAM, nfs_opnum4 as OP, nfsstat4 } from '../../../protocols/nfs4/constants';
import { bitmapOf, type Fattr4 } from '../../../protocols/nfs4/fattr4.codec';
import type { CREATE_SESSION4args, CREATE_SESSION4resok, EXCHANGE_ID4args, OPEN4args, Res } from '../../../protocols/nfs4/ops.codec';
import { AcceptStat, AuthFlavor } from '../../../protocols/oncrpc/constants';
import type { Credential } from '../../../protocols/oncrpc/message';
import { XdrWriter } from '../../../protocols/xdr/xdr';

/** A failed operation in a COMPOUND, with the status the server gave. */
export class Nfs4Error extends Error {
  constructor(
    readonly status: nfsstat4,
    readonly op: number,
    readonly reply: COMPOUND4res,
  ) {
    super(`${OP[op] ?? op}: ${nfsstat4[status] ?? status}`);
  }
}

/** AUTH_SYS for a uid and gid (root by default). */
export const rootCred = (uid = 0, gid = 0, gids: number[] = [], machinename = 'test-client'): Credential => ({ flavor: AuthFlavor.AUTH_SYS, sys: { stamp: 1, machinename, uid, gid, gids } });

export const CHANNEL = { ca_headerpadsize: 0, ca_maxrequestsize: 1049600, ca_maxresponsesize: 1049600, ca_maxresponsesize_cached: 65536, ca_maxoperations: 16, ca_maxrequests: 8, ca_rdma_ird: [] };

/** An operation given as its number and its arguments' XDR, for operations our codec has no arguments for (LAYOUTGET and such). */
export interface RawArgop {
  argop: number;
  xdr: Buffer;
}

/** One COMPOUND as this client saw it: the call's xid, the operation numbers sent, the reply as our codec decoded it. */
export interface Nfs4Exchange {
  xid: number;
  ops: number[];
  reply: COMPOUND4res;
}

/** The result body of an operation in a reply, by operation number (the first one of that number). */
export function resultOf<T>(reply: COMPOUND4res, op: number): T {
  const r = reply.resarray.find((x) => x.resop === op);
  if (!r) throw new Error(`no ${OP[op]} result in the reply`);
  return (r.res as Res<T>).resok as T;
}

/**
 * A minimal NFSv4.1 client, for the tests and the NAS bench (no kernel NFS client runs here): one TCP
 * connection, one session. Each call sends SEQUENCE then the given operations in the lowest free slot
 * of the session (slot 0 when calls go one at a time; a call waits while every slot the server granted
 * is busy); `raw` sends any COMPOUND as given. No callbacks, no delegations, no recovery.
 */
export class Nfs4Client {
  clientid = 0n;
  sessionid: Buffer = Buffer.alloc(16);
  /** The fore channel's limits as CREATE_SESSION granted them (request and reply sizes, slots). */
  foreChannel: channel_attrs4 | undefined;
  /** Each slot's last sequence id (RFC 8881 section 2.10.6.1), as many as CREATE_SESSION granted. */
  private slotSeqids = [0];
  private busy = [false];
  /** Calls waiting for a free slot, first come first served. */
  private readonly waiting: Array<() => void> = [];
  /** When set, every COMPOUND exchanged is appended (to compare with a capture of the same traffic). */
  log?: Nfs4Exchange[];
  readonly ownerId: Buffer;
  readonly verifier = randomBytes(8);

  private constructor(
    readonly rpc: RpcClient,
    public cred: Credential,
    ownerId?: Buffer,
  ) {
    this.ownerId = ownerId ?? randomBytes(12);
  }

  static async connect(port: number, opts: { cred?: Credential; ownerId?: Buffer; host?: string; localPort?: number } = {}): Promise<Nfs4Client> {
    const rpc = await RpcClient.connect({ host: opts.host ?? '127.0.0.1', port }, { localPort: opts.localPort });
    return new Nfs4Client(rpc, opts.cred ?? rootCred(), opts.ownerId);
  }

  /** Send a COMPOUND as given (any minor version), with an explicit xid when retransmitting. */
  async raw(ops: Array<nfs_argop4 | RawArgop>, opts: { minorversion?: number; tag?: string; xid?: number } = {}): Promise<COMPOUND4res> {
    /* struct COMPOUND4args { utf8str_cs tag; uint32_t minorversion; nfs_argop4 argarray<>; }; */
    const encode = (w: XdrWriter) => {
      w.varOpaque(Buffer.from(opts.tag ?? '')).uint32(opts.minorversion ?? 1).uint32(ops.length);
      for (const op of ops) {
        if ('xdr' in op) w.uint32(op.argop).raw(op.xdr);
        else writeArgop(w, op);
      }
    };
    const reply = await this.rpc.call(NFS4_PROGRAM, 4, 1, encode, { cred: this.cred, xid: opts.xid });
    if (!('accept_stat' in reply.status) || reply.status.accept_stat !== AcceptStat.SUCCESS) throw new RpcReplyError(reply.status, { prog: NFS4_PROGRAM, vers: 4, proc: 1, xid: reply.xid });
    const res = readCompound4res(reply.body);
    reply.body.done('COMPOUND4res');
    this.log?.push({ xid: reply.xid, ops: ops.map((o) => o.argop), reply: res });
    return res;
  }

  /** EXCHANGE_ID's operation for this client's owner and verifier; fields may be replaced. */
  exchangeIdOp(args: Partial<EXCHANGE_ID4args> = {}): nfs_argop4 {
    return { argop: OP.OP_EXCHANGE_ID, args: { eia_clientowner: { co_verifier: this.verifier, co_ownerid: this.ownerId }, eia_flags: 0, eia_state_protect: { spa_how: 0 }, eia_client_impl_id: [], ...args } };
  }

  /** CREATE_SESSION's operation for a client id and sequence, with CHANNEL both ways unless replaced. */
  static createSessionOp(clientid: bigint, sequence: number, args: Partial<CREATE_SESSION4args> = {}): nfs_argop4 {
    return {
      argop: OP.OP_CREATE_SESSION,
      args: { csa_clientid: clientid, csa_sequence: sequence, csa_flags: 0, csa_fore_chan_attrs: CHANNEL, csa_back_chan_attrs: CHANNEL, csa_cb_program: 0x40000000, csa_sec_parms: [{ cb_secflavor: 0 }], ...args },
    };
  }

  /** EXCHANGE_ID, CREATE_SESSION and RECLAIM_COMPLETE: what a client does before its first open. */
  async mount(opts: { reclaimComplete?: boolean; session?: Partial<CREATE_SESSION4args> } = {}): Promise<void> {
    const eid = await this.check(this.raw([this.exchangeIdOp()]));
    const e = resultOf<{ eir_clientid: bigint; eir_sequenceid: number }>(eid, OP.OP_EXCHANGE_ID);
    this.clientid = e.eir_clientid;
    const cs = await this.check(this.raw([Nfs4Client.createSessionOp(e.eir_clientid, e.eir_sequenceid, opts.session)]));
    const session = resultOf<CREATE_SESSION4resok>(cs, OP.OP_CREATE_SESSION);
    this.sessionid = session.csr_sessionid;
    this.foreChannel = session.csr_fore_chan_attrs;
    this.slotSeqids = Array.from({ length: session.csr_fore_chan_attrs.ca_maxrequests }, () => 0);
    this.busy = this.slotSeqids.map(() => false);
    if (opts.reclaimComplete !== false) await this.call([{ argop: OP.OP_RECLAIM_COMPLETE, args: false }]);
  }

  /** Slot 0's last sequence id; tests set it by hand around requests they send with an explicit one. */
  get seqid(): number {
    return this.slotSeqids[0];
  }

  set seqid(v: number) {
    this.slotSeqids[0] = v;
  }

  /** How many slots the session has. */
  get slots(): number {
    return this.slotSeqids.length;
  }

  /**
   * SEQUENCE then `ops`; resolves with the reply whatever the statuses. With `slot` or `seqid` the
   * request goes exactly as told (slot 0 by default, the slot's next sequence id by default) and
   * leaves the slot table alone; otherwise it takes the lowest free slot and its next sequence id.
   */
  async send(ops: Array<nfs_argop4 | RawArgop>, opts: { slot?: number; seqid?: number; xid?: number; cachethis?: boolean } = {}): Promise<COMPOUND4res> {
    if (opts.slot !== undefined || opts.seqid !== undefined) {
      const slot = opts.slot ?? 0;
      return this.raw([this.sequenceOp(slot, opts.seqid ?? (this.slotSeqids[slot] ?? 0) + 1, opts.cachethis), ...ops], { xid: opts.xid });
    }
    const slot = await this.takeSlot();
    try {
      return await this.raw([this.sequenceOp(slot, ++this.slotSeqids[slot], opts.cachethis), ...ops], { xid: opts.xid });
    } finally {
      this.busy[slot] = false;
      this.waiting.shift()?.();
    }
  }

  private sequenceOp(slot: number, seqid: number, cachethis = false): nfs_argop4 {
    // sa_highest_slotid: the highest slot this client has a request in (RFC 8881 section 18.46.3).
    const highest = Math.max(slot, this.busy.lastIndexOf(true));
    return { argop: OP.OP_SEQUENCE, args: { sa_sessionid: this.sessionid, sa_sequenceid: seqid, sa_slotid: slot, sa_highest_slotid: highest, sa_cachethis: cachethis } };
  }

  private async takeSlot(): Promise<number> {
    for (;;) {
      const free = this.busy.indexOf(false);
      if (free >= 0) {
        this.busy[free] = true;
        return free;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  /** send() and throw Nfs4Error unless every operation succeeded. */
  call(ops: nfs_argop4[]): Promise<COMPOUND4res> {
    return this.check(this.send(ops));
  }

  async check(p: Promise<COMPOUND4res>): Promise<COMPOUND4res> {
    const r = await p;
    if (r.status !== nfsstat4.NFS4_OK) {
      const failed = r.resarray[r.resarray.length - 1] as nfs_resop4;
      throw new Nfs4Error(r.status, failed?.resop ?? 0, r);
    }
    return r;
  }

  /** PUTROOTFH and LOOKUPs down a path ('/share/dir'): the ops to put its handle first. */
  static path(path: string): nfs_argop4[] {
    return [{ argop: OP.OP_PUTROOTFH, args: undefined }, ...path.split('/').filter(Boolean).map((name): nfs_argop4 => ({ argop: OP.OP_LOOKUP, args: name }))];
  }

  async fh(path: string): Promise<Buffer> {
    const r = await this.call([...Nfs4Client.path(path), { argop: OP.OP_GETFH, args: undefined }]);
    return resultOf<Buffer>(r, OP.OP_GETFH);
  }

  async getattr(fh: Buffer, attrs: number[]): Promise<Fattr4> {
    const r = await this.call([{ argop: OP.OP_PUTFH, args: fh }, { argop: OP.OP_GETATTR, args: bitmapOf(attrs) }]);
    return resultOf<Fattr4>(r, OP.OP_GETATTR);
  }

  openArgs(name: string, opts: { create?: boolean; access?: number; deny?: number; owner?: Buffer; attrs?: Fattr4 } = {}): OPEN4args {
    return {
      seqid: 0,
      share_access: opts.access ?? 3,
      share_deny: opts.deny ?? 0,
      owner: { clientid: this.clientid, owner: opts.owner ?? Buffer.from('owner-1') },
      openhow: opts.create ? { opentype: 1, how: { mode: 0, createattrs: opts.attrs ?? { mode: 0o644 } } } : { opentype: 0 },
      claim: { claim: 0, file: name },
    };
  }

  /** OPEN in a directory; the file's handle and open stateid. */
  async open(dir: Buffer, name: string, opts: Parameters<Nfs4Client['openArgs']>[1] = {}): Promise<{ fh: Buffer; stateid: stateid4 }> {
    const r = await this.call([{ argop: OP.OP_PUTFH, args: dir }, { argop: OP.OP_OPEN, args: this.openArgs(name, opts) }, { argop: OP.OP_GETFH, args: undefined }]);
    return { fh: resultOf<Buffer>(r, OP.OP_GETFH), stateid: resultOf<{ stateid: stateid4 }>(r, OP.OP_OPEN).stateid };
  }

  async write(fh: Buffer, stateid: stateid4, offset: number, data: Buffer, stable = 2): Promise<{ count: number; committed: number; writeverf: Buffer }> {
    const r = await this.call([{ argop: OP.OP_PUTFH, args: fh }, { argop: OP.OP_WRITE, args: { stateid, offset, stable, data } }]);
    return resultOf(r, OP.OP_WRITE);
  }

  async read(fh: Buffer, stateid: stateid4, offset: number, count: number): Promise<{ eof: boolean; data: Buffer }> {
    const r = await this.call([{ argop: OP.OP_PUTFH, args: fh }, { argop: OP.OP_READ, args: { stateid, offset, count } }]);
    const res = resultOf<{ eof: boolean; data: Buffer }>(r, OP.OP_READ);
    return { eof: res.eof, data: Buffer.from(res.data) };
  }

  async close(fh: Buffer, stateid: stateid4): Promise<void> {
    await this.call([{ argop: OP.OP_PUTFH, args: fh }, { argop: OP.OP_CLOSE, args: { seqid: 0, open_stateid: stateid } }]);
  }

  /** Every name in a directory, following cookies. */
  async readdir(dir: Buffer, attrs: number[] = [], maxcount = 8192): Promise<Array<{ name: string; cookie: number; attrs: Fattr4 }>> {
    const out: Array<{ name: string; cookie: number; attrs: Fattr4 }> = [];
    let cookie = 0;
    let verf = Buffer.alloc(8);
    const mask = bitmapOf(attrs);
    for (;;) {
      const r = await this.call([{ argop: OP.OP_PUTFH, args: dir }, { argop: OP.OP_READDIR, args: { cookie, cookieverf: verf, dircount: maxcount, maxcount, attr_request: mask } }]);
      const res = resultOf<{ cookieverf: Buffer; reply: { entries: Array<{ name: string; cookie: number; attrs: Fattr4 }>; eof: boolean } }>(r, OP.OP_READDIR);
      out.push(...res.reply.entries);
      if (res.reply.eof || res.reply.entries.length === 0) return out;
      cookie = res.reply.entries[res.reply.entries.length - 1].cookie;
      verf = Buffer.from(res.cookieverf);
    }
  }

  async destroy(): Promise<void> {
    try {
      await this.raw([{ argop: OP.OP_DESTROY_SESSION, args: this.sessionid }]);
      await this.raw([{ argop: OP.OP_DESTROY_CLIENTID, args: this.clientid }]);
    } finally {
      await this.rpc.close();
    }
  }
}
