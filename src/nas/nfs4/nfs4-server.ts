import { hostname } from 'node:os';
import { crc32 } from 'node:zlib';
import { performance } from 'node:perf_hooks';
import { LatencyHistogram } from '../../common/latency-histogram';
import type { stateid4 } from '../../protocols/nfs4/common.codec';
import { isImplemented, opInMinorVersion, readCompoundHeader, readOpArgs, writeCompoundResHeader, writeResop, type nfs_resop4, type CompoundHeader } from '../../protocols/nfs4/compound.codec';
import { NFS4_PROGRAM, Nfs4DecodeError, nfs_opnum4 as OP, nfsstat4 } from '../../protocols/nfs4/constants';
import { type Nfs4Opnum, opName, type OpArgs, type OpRes, type SEQUENCE4resok } from '../../protocols/nfs4/ops.codec';
import { authSys } from '../../protocols/oncrpc/message';
import { XdrDecodeError, XdrReader, XdrWriter } from '../../protocols/xdr/xdr';
import type { ExportChange } from '../exports/export-table';
import { HandleCache } from '../handle-cache';
import { countName, emptyNfsCounters, type NfsCounters } from '../nfs-counters';
import type { RpcContext, RpcProcedure } from '../rpc/rpc-program';
import { NULL_PROCEDURE } from '../rpc/rpc-program';
import { BufferPool } from '../../common/buffer-pool';
import { ReadAhead } from '../read-ahead';
import { type Client, ClientTable, MemoryRecoveryStore, type RecoveryStore, type Session, type Slot } from './client-table';
import { NFS4_MAX_IO } from './nfs4-attrs';
import { nfs4Operations } from './nfs4-operations';
import type { Caller, Nfs4Shares, Obj } from './nfs4-objects';
import { fail, nfs4StatusOf } from './nfs4-status';
import { StateTable } from './state-table';

/** The state of one COMPOUND as its operations run (RFC 8881 section 16.2.3). */
export interface CompoundContext {
  rpc: RpcContext;
  minorversion: number;
  caller: Caller;
  /** Who set up the client id: AUTH_SYS uid (or none), compared by EXCHANGE_ID and CREATE_SESSION. */
  principal: string;
  cur?: Obj;
  saved?: Obj;
  curSid?: stateid4;
  savedSid?: stateid4;
  session?: Session;
  client?: Client;
  /** Bytes of the request's arguments (for ca_maxrequestsize). */
  requestSize: number;
  numops: number;
  /** The position of the operation running now (DESTROY_SESSION must be last in its own session's COMPOUND). */
  index: number;
  /** Bytes the running operation's result body may take before the reply passes the session's limit (READ and READDIR shrink to it). */
  room(): number;
  /** Pooled buffers READ data of this COMPOUND lies in: given back to the pool once its reply is written or dropped. */
  lent: Buffer[];
}

/** One operation's handler: runs with the compound's context, throws for a failure status. */
export interface OpHandler<K extends Nfs4Opnum> {
  run(args: OpArgs<K>, c: CompoundContext): Promise<OpRes<K>> | OpRes<K>;
  /** The result body for a failure (most are the status alone). */
  fail?(status: nfsstat4, c: CompoundContext): OpRes<K>;
}

export type OpTable = { [K in Nfs4Opnum]?: OpHandler<K> };

export interface Nfs4ServerOptions {
  shares: Nfs4Shares;
  /** Lease time in seconds (RFC 8881 section 8.3). Default 90, as Linux's nfsd. */
  leaseSeconds?: number;
  /** Milliseconds clock, injectable for lease and grace tests. */
  now?: () => number;
  store?: RecoveryStore;
  /** eir_server_owner / scope; default the host name, so clients see one server across restarts. */
  serverOwner?: string;
  /** Where operations, failures, replays and file bytes are counted (shared with NFSv3 for metrics). */
  counters?: NfsCounters;
  /** Where READ data is read: pooled buffers of NFS4_MAX_IO bytes, read-ahead for a front-to-back reader. */
  reads?: ReadAhead;
}

/** Operations a COMPOUND may start with instead of SEQUENCE, alone (RFC 8881 section 2.10.6.1 and 18.x). */
const SESSIONLESS = new Set<number>([OP.OP_EXCHANGE_ID, OP.OP_CREATE_SESSION, OP.OP_DESTROY_SESSION, OP.OP_BIND_CONN_TO_SESSION, OP.OP_DESTROY_CLIENTID]);

interface Decoded {
  header: CompoundHeader;
  /** The operations' bytes (a view of the request, read as they run). */
  ops: XdrReader;
  /** The same bytes as a buffer: a retry is told from a false retry by what follows SEQUENCE. */
  opsBytes: Buffer;
  size: number;
}

/**
 * NFSv4.1 (RFC 8881) on the RPC server: NULL and COMPOUND of program 100003 version 4. The COMPOUND runs
 * its operations in order through the table in nfs4-operations.ts, stops at the first failure, and goes
 * through the session's slot so a retransmission is answered from the reply cache, never run twice.
 */
export class Nfs4Server {
  readonly clients: ClientTable;
  readonly state: StateTable;
  readonly shares: Nfs4Shares;
  private readonly ops: OpTable;
  readonly started = { sec: Math.floor(Date.now() / 1000), nsec: 0 };
  readonly counters: NfsCounters;
  /** Handles made and checked recently, so a PUTFH of a known handle needs no HMAC (as in NFSv3). */
  readonly handles = new HandleCache();
  /** READ data in reused buffers, given back once the reply is written (as NFSv3's READ); read-ahead for sequential readers. */
  readonly reads: ReadAhead;
  /** Expires leases in the background; stopped by close(). */
  private readonly sweeper: NodeJS.Timeout;

  constructor(opts: Nfs4ServerOptions) {
    this.shares = opts.shares;
    this.counters = opts.counters ?? emptyNfsCounters();
    const now = opts.now ?? Date.now;
    this.clients = new ClientTable({
      leaseSeconds: opts.leaseSeconds ?? 90,
      now,
      store: opts.store ?? new MemoryRecoveryStore(),
      serverOwner: Buffer.from(opts.serverOwner ?? `strata:${hostname()}`),
      onExpire: (client) => {
        this.state.dropClient(client).catch((e) => this.shares.fault(e, 'dropping the state of an expired NFSv4 client'));
      },
    });
    this.state = new StateTable(this.clients.boot);
    this.reads = opts.reads ?? new ReadAhead(new BufferPool(NFS4_MAX_IO, 16));
    this.ops = nfs4Operations(this);
    // Leases also run out on a quiet server: a crashed client's opens, locks and sessions go within a second of it.
    this.sweeper = setInterval(() => {
      try {
        this.clients.sweep();
      } catch (e) {
        this.shares.fault(e, 'expiring NFSv4 leases');
      }
    }, 1000);
    this.sweeper.unref();
  }

  /** Stop expiring leases in the background (at shutdown). */
  close(): void {
    clearInterval(this.sweeper);
  }

  /** A share changed: state of a removed share is forgotten. */
  exportChanged(change: ExportChange): void {
    if (change.kind === 'removed') this.state.dropExport(change.entry.exportId);
  }

  /** Version 4 of the NFS program, to serve beside version 3. */
  version(): Record<number, RpcProcedure<any, any>> {
    const compound: RpcProcedure<Decoded, Buffer[]> = {
      name: 'COMPOUND',
      // Exactly-once comes from the session's slots, not the RPC duplicate request cache.
      idempotent: true,
      mutates: true,
      decode: (r) => {
        const size = r.remaining;
        const header = readCompoundHeader(r);
        const rest = r.fixedOpaque(r.remaining, 'operations');
        return { header, ops: new XdrReader(rest), opsBytes: rest, size };
      },
      handle: (d, ctx) => this.compound(d, ctx),
      encode: (w, pieces) => {
        for (const p of pieces) w.raw(p);
      },
      // The writer keeps READ data by reference (raw): only once the reply is out may its buffers be read into again.
      sent: (pieces) => this.reads.giveBack(pieces),
    };
    return { 0: NULL_PROCEDURE, 1: compound };
  }


  /** Run one COMPOUND; the reply is COMPOUND4res as buffers (also what a slot keeps). */
  async compound(d: Decoded, ctx: RpcContext): Promise<Buffer[]> {
    // The tag is echoed; copy it, since a cached reply outlives the request buffer.
    const tag = Buffer.from(d.header.tag);
    const { minorversion, numops } = d.header;
    if (minorversion !== 1 && minorversion !== 2) {
      countName(this.counters.errors, nfsstat4[nfsstat4.NFS4ERR_MINOR_VERS_MISMATCH]);
      return this.encode(nfsstat4.NFS4ERR_MINOR_VERS_MISMATCH, tag, []);
    }
    this.clients.sweep();
    const sys = authSys(ctx.cred);
    const c: CompoundContext = {
      rpc: ctx,
      minorversion,
      caller: { address: ctx.remoteAddress, port: ctx.remotePort, cred: sys ? { uid: sys.uid, gid: sys.gid, gids: sys.gids } : null },
      principal: sys ? `sys:${sys.uid}` : `flavor:${ctx.cred.flavor}`,
      requestSize: d.size,
      numops,
      index: 0,
      // The result's resop and status words come on top of the body.
      room: () => reply.limit - reply.size - 8,
      lent: [],
    };
    const reply = new ReplyBuilder(tag);
    let slot: Slot | undefined;
    let seqRes: SEQUENCE4resok | undefined;
    let cachethis = false;
    // What a result may not push the reply past (RFC 8881 section 2.10.6.4): the session's limits, once SEQUENCE named it.
    const fits = (r: nfs_resop4): nfs_resop4 => {
      if (!slot || reply.sizeWith(r) <= reply.limit) return r;
      return { resop: r.resop, res: this.failure(r.resop, reply.tooBig, c) } as nfs_resop4;
    };
    try {
      for (let i = 0; i < numops; i++) {
        c.index = i;
        const r = d.ops;
        let op: number;
        try {
          op = r.uint32('argop');
        } catch {
          reply.add({ resop: OP.OP_ILLEGAL, res: { status: nfsstat4.NFS4ERR_BADXDR } });
          break;
        }
        if (!opInMinorVersion(op, minorversion)) {
          reply.add(fits({ resop: OP.OP_ILLEGAL, res: { status: nfsstat4.NFS4ERR_OP_ILLEGAL } }));
          break;
        }
        const positional = this.positionError(op, i, numops);
        if (positional !== undefined) {
          reply.add(fits({ resop: op, res: this.failure(op, positional, c) } as nfs_resop4));
          break;
        }
        if (!isImplemented(op) || (op !== OP.OP_SEQUENCE && !this.ops[op])) {
          reply.add(fits({ resop: op, res: { status: nfsstat4.NFS4ERR_NOTSUPP } } as nfs_resop4));
          break;
        }
        let args: unknown;
        try {
          args = readOpArgs(op, r);
        } catch (e) {
          if (!(e instanceof XdrDecodeError)) throw e;
          reply.add(fits({ resop: op, res: this.failure(op, e instanceof Nfs4DecodeError ? e.status : nfsstat4.NFS4ERR_BADXDR, c) } as nfs_resop4));
          break;
        }
        if (op === OP.OP_SEQUENCE) {
          const a = args as OpArgs<OP.OP_SEQUENCE>;
          const fingerprint = requestFingerprint(d.opsBytes.subarray(r.offset), a.sa_cachethis, c.principal);
          const started = performance.now();
          let outcome: ReturnType<ClientTable['sequence']>;
          try {
            outcome = this.sequenceChecks(a, c, reply, fingerprint);
          } catch (e) {
            reply.add({ resop: op, res: { status: nfs4StatusOf(e).status } });
            break;
          }
          if (outcome.kind === 'replay') {
            this.counters.nfs4Replays++;
            return this.replay(outcome.reply.bytes, outcome.slot, tag, a);
          }
          slot = outcome.slot;
          slot.fingerprint = fingerprint;
          cachethis = a.sa_cachethis;
          c.session = outcome.session;
          c.client = outcome.session.client;
          c.client.busy++;
          seqRes = {
            sr_sessionid: outcome.session.id,
            sr_sequenceid: a.sa_sequenceid,
            sr_slotid: a.sa_slotid,
            sr_highest_slotid: outcome.session.slots.length - 1,
            sr_target_highest_slotid: outcome.session.slots.length - 1,
            sr_status_flags: 0,
          };
          reply.add({ resop: op, res: { status: nfsstat4.NFS4_OK, resok: seqRes } });
          this.latencyOf(op).since(started);
          continue;
        }
        const started = performance.now();
        const res = await this.run(op, args, c);
        const added = fits({ resop: op, res } as nfs_resop4);
        reply.add(added);
        this.latencyOf(op).since(started);
        if (added.res.status !== nfsstat4.NFS4_OK) break;
      }
      const bytes = reply.finish();
      this.count(reply);
      if (slot) {
        const size = bytes.reduce((n, b) => n + b.length, 0);
        // Kept when asked (sa_cachethis), or unasked when small and in budget; else a retry learns it was not.
        // A kept reply outlives the pooled READ buffers it references, so it is kept as a copy when there are any
        // (never with the default ReadAhead, which pools READs of 64 KiB and more: no kept reply is that large).
        const kept = this.clients.keepReply(c.session!, slot, bytes, size, cachethis, c.lent.length > 0);
        if (!kept.bytes) this.uncached.set(slot, { seqRes: seqRes!, second: reply.resops[1] ?? OP.OP_SEQUENCE });
      }
      // From here the reply carries READ's buffers: they go back once it is written (the sent hook).
      this.reads.lend(bytes, c.lent.splice(0));
      return bytes;
    } finally {
      // Left when no reply carries them (the COMPOUND failed past its operations): free now.
      for (const b of c.lent) this.reads.pool.give(b);
      // Whatever happened, the slot is free again (a failure without a reply leaves nothing to replay).
      if (slot) slot.inProgress = false;
      if (c.client) {
        c.client.busy--;
        this.clients.renew(c.client);
      }
    }
  }

  /** The latency histogram of an operation, made on its first run. */
  private latencyOf(op: number): LatencyHistogram {
    return (this.counters.nfs4OperationLatency[op] ??= new LatencyHistogram());
  }

  /** Every result of a COMPOUND under its operation (run or refused), and a failed COMPOUND under its status. */
  private count(reply: ReplyBuilder): void {
    for (const op of reply.resops) countName(this.counters.nfs4Operations, op);
    if (reply.status !== nfsstat4.NFS4_OK) countName(this.counters.errors, nfsstat4[reply.status] ?? `NFS4 status ${reply.status}`);
  }

  /** What a retry of an uncached reply is told (RFC 8881 section 2.10.6.1.3): the SEQUENCE again, then NFS4ERR_RETRY_UNCACHED_REP. */
  private readonly uncached = new WeakMap<Slot, { seqRes: SEQUENCE4resok; second: number }>();

  private replay(bytes: Buffer[] | null, slot: Slot, tag: Buffer, a: OpArgs<OP.OP_SEQUENCE>): Buffer[] {
    if (bytes) return bytes;
    countName(this.counters.errors, nfsstat4[nfsstat4.NFS4ERR_RETRY_UNCACHED_REP]);
    const u = this.uncached.get(slot);
    const seq: nfs_resop4 = { resop: OP.OP_SEQUENCE, res: { status: nfsstat4.NFS4_OK, resok: u?.seqRes ?? { sr_sessionid: a.sa_sessionid, sr_sequenceid: a.sa_sequenceid, sr_slotid: a.sa_slotid, sr_highest_slotid: 0, sr_target_highest_slotid: 0, sr_status_flags: 0 } } };
    return this.encode(nfsstat4.NFS4ERR_RETRY_UNCACHED_REP, tag, [seq, { resop: u?.second ?? OP.OP_SEQUENCE, res: { status: nfsstat4.NFS4ERR_RETRY_UNCACHED_REP } }]);
  }

  /* RFC 8881 section 2.10.6.1, 2.10.6.4 and 18.46.3: SEQUENCE's checks before the slot is taken. */
  private sequenceChecks(a: OpArgs<OP.OP_SEQUENCE>, c: CompoundContext, reply: ReplyBuilder, fingerprint: string): ReturnType<ClientTable['sequence']> {
    const session = this.clients.session(a.sa_sessionid);
    const fore = session.fore;
    if (c.numops > fore.ca_maxoperations) fail(nfsstat4.NFS4ERR_TOO_MANY_OPS, `${c.numops} operations, the session allows ${fore.ca_maxoperations}`);
    if (c.requestSize > fore.ca_maxrequestsize) fail(nfsstat4.NFS4ERR_REQ_TOO_BIG, `request of ${c.requestSize} bytes`);
    // A reply to be cached must fit ca_maxresponsesize_cached, any other ca_maxresponsesize (as Linux's nfsd).
    reply.limit = a.sa_cachethis ? Math.min(fore.ca_maxresponsesize_cached, fore.ca_maxresponsesize) : fore.ca_maxresponsesize;
    reply.tooBig = a.sa_cachethis ? nfsstat4.NFS4ERR_REP_TOO_BIG_TO_CACHE : nfsstat4.NFS4ERR_REP_TOO_BIG;
    if (reply.size + SEQUENCE_RESULT_BYTES > reply.limit) fail(reply.tooBig, `not even SEQUENCE's reply fits ${reply.limit} bytes`);
    const outcome = this.clients.sequence(a);
    // The same slot and sequence id with other operations is not a retry (RFC 8881 section 2.10.6.2).
    if (outcome.kind === 'replay' && outcome.slot.fingerprint !== fingerprint) fail(nfsstat4.NFS4ERR_SEQ_FALSE_RETRY, `slot ${a.sa_slotid} sequence id ${a.sa_sequenceid} carried another request`);
    return outcome;
  }

  /** Where an operation may stand: SEQUENCE first, or one of the session-less operations alone. */
  private positionError(op: number, index: number, numops: number): nfsstat4 | undefined {
    if (index === 0) {
      if (op === OP.OP_SEQUENCE) return undefined;
      if (SESSIONLESS.has(op)) return numops > 1 ? nfsstat4.NFS4ERR_NOT_ONLY_OP : undefined;
      return nfsstat4.NFS4ERR_OP_NOT_IN_SESSION;
    }
    if (op === OP.OP_SEQUENCE) return nfsstat4.NFS4ERR_SEQUENCE_POS;
    if (op === OP.OP_BIND_CONN_TO_SESSION) return nfsstat4.NFS4ERR_NOT_ONLY_OP;
    return undefined;
  }

  private async run(op: Nfs4Opnum, args: unknown, c: CompoundContext): Promise<{ status: nfsstat4 }> {
    const h = this.ops[op] as OpHandler<Nfs4Opnum>;
    try {
      return (await h.run(args as never, c)) as { status: nfsstat4 };
    } catch (e) {
      const { status, fault } = nfs4StatusOf(e);
      if (fault) this.shares.fault(e, `NFSv4 ${opName(op)} from ${c.rpc.remoteAddress}`);
      return this.failure(op, status, c);
    }
  }

  /** An operation's failure result: the status, plus what its union carries for failures (SETATTR's attrsset). */
  private failure(op: number, status: nfsstat4, c: CompoundContext): { status: nfsstat4 } {
    const h = isImplemented(op) ? (this.ops[op] as OpHandler<Nfs4Opnum> | undefined) : undefined;
    return (h?.fail ? h.fail(status, c) : { status }) as { status: nfsstat4 };
  }

  private encode(status: nfsstat4, tag: Buffer, results: nfs_resop4[]): Buffer[] {
    // Used for replies built whole (version mismatch, uncached retries); a COMPOUND's own reply goes through ReplyBuilder.
    const w = new XdrWriter(512);
    writeCompoundResHeader(w, status, tag, results.length);
    for (const r of results) writeResop(w, r);
    return w.toBuffers();
  }
}

/**
 * What tells a retry from a false retry (RFC 8881 section 2.10.6.2): a retransmission carries the same
 * operations after SEQUENCE, the same sa_cachethis and credential. The checksum covers the operations' start
 * (numbers, handles, stateids, offsets) and end rather than all of a large WRITE's data, which would cost
 * about half a millisecond per MiB on every request for a check the RFC leaves optional.
 */
function requestFingerprint(ops: Buffer, cachethis: boolean, principal: string): string {
  const sum = ops.length <= FINGERPRINT_HEAD + FINGERPRINT_TAIL ? crc32(ops) : crc32(ops.subarray(ops.length - FINGERPRINT_TAIL), crc32(ops.subarray(0, FINGERPRINT_HEAD)));
  return `${sum}:${ops.length}:${cachethis}:${principal}`;
}
const FINGERPRINT_HEAD = 4096;
const FINGERPRINT_TAIL = 256;

/** The encoded size every successful SEQUENCE result has (the session id is 16 bytes), to check before the slot is taken. */
const SEQUENCE_RESULT_BYTES = (() => {
  const sized: SEQUENCE4resok = { sr_sessionid: Buffer.alloc(16), sr_sequenceid: 0, sr_slotid: 0, sr_highest_slotid: 0, sr_target_highest_slotid: 0, sr_status_flags: 0 };
  const w = new XdrWriter(64);
  writeResop(w, { resop: OP.OP_SEQUENCE, res: { status: nfsstat4.NFS4_OK, resok: sized } });
  return w.length;
})();

/** COMPOUND4res built one result at a time, so each result's size is known before it joins the reply. */
class ReplyBuilder {
  readonly resops: number[] = [];
  private readonly pieces: Buffer[] = [];
  private bytes = 0;
  /** The COMPOUND's status: the last result's (RFC 8881 section 16.2.3). */
  status = nfsstat4.NFS4_OK;
  private readonly headerSize: number;
  /** The session's response size limit and the status for going past it (set once SEQUENCE named the session). */
  limit = Number.POSITIVE_INFINITY;
  tooBig = nfsstat4.NFS4ERR_REP_TOO_BIG;
  private pending: { r: nfs_resop4; w: XdrWriter } | undefined;

  constructor(private readonly tag: Buffer) {
    this.headerSize = 4 + 4 + ((tag.length + 3) & ~3) + 4;
  }

  /** The reply's size so far. */
  get size(): number {
    return this.headerSize + this.bytes;
  }

  /** The reply's size with this result added (the result is encoded once and kept for add()). */
  sizeWith(r: nfs_resop4): number {
    return this.headerSize + this.bytes + this.encoded(r).length;
  }

  add(r: nfs_resop4): void {
    const w = this.encoded(r);
    this.pending = undefined;
    this.pieces.push(...w.toBuffers());
    this.bytes += w.length;
    this.resops.push(r.resop);
    this.status = r.res.status;
  }

  finish(): Buffer[] {
    const w = new XdrWriter(16 + this.tag.length);
    writeCompoundResHeader(w, this.status, this.tag, this.resops.length);
    return [...w.toBuffers(), ...this.pieces];
  }

  private encoded(r: nfs_resop4): XdrWriter {
    if (this.pending?.r === r) return this.pending.w;
    const w = new XdrWriter(64);
    writeResop(w, r);
    this.pending = { r, w };
    return w;
  }
}
