import { performance } from 'node:perf_hooks';
import { LatencyHistogram } from '../../common/latency-histogram';
import { AcceptStat, AuthFlavor, AuthStat, RejectStat } from '../../protocols/oncrpc/constants';
import { type CallHeader, decodeCallHeader, encodeReplyHeader, type ReplyStatus, RpcCallRejected, SUCCESS } from '../../protocols/oncrpc/message';
import { XdrDecodeError, XdrReader, XdrWriter } from '../../protocols/xdr/xdr';
import { DuplicateRequestCache } from './duplicate-request-cache';
import { type RpcContext, RpcAuthError, RpcDropReply, RpcGarbageArgs, type RpcProcedure, type RpcProgram } from './rpc-program';

/** Where a call came from and arrived at. */
export interface RpcPeer {
  transport: RpcContext['transport'];
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
  connectionId: number;
}

export interface RpcLog {
  debug(message: string): void;
  warn(message: string): void;
  error(message: string, err?: unknown): void;
}

/** Counters for metrics; monotonic except the gauges noted. */
export interface RpcStats {
  /** Calls with a readable header. */
  calls: number;
  /** Calls run, by "<program>v<version>.<procedure>" (e.g. "NFSv3.READ"). */
  byProc: Record<string, number>;
  /**
   * Time from a call's dispatch to its reply ready to send (decode, run,
   * encode), by the same names as byProc; calls that never ran (GARBAGE_ARGS,
   * replies from the duplicate request cache) are not counted.
   */
  latency: Record<string, LatencyHistogram>;
  /** Unreadable headers (dropped) and GARBAGE_ARGS replies. */
  garbage: number;
  /** SYSTEM_ERR replies (a handler failed unexpectedly). */
  errors: number;
  progUnavail: number;
  progMismatch: number;
  procUnavail: number;
  /** MSG_DENIED replies: RPC_MISMATCH and AUTH_ERROR. */
  denied: number;
  /** Calls a handler chose not to answer. */
  dropped: number;
  drcHits: number;
  drcInProgressDrops: number;
  /** Connections accepted (TCP and local sockets). */
  connections: number;
  /** Gauge: connections open now. */
  activeConnections: number;
  /** Connections closed for breaking record marking (oversized or unframed records). */
  recordErrors: number;
}

export function emptyStats(): RpcStats {
  return {
    calls: 0,
    byProc: {},
    latency: {},
    garbage: 0,
    errors: 0,
    progUnavail: 0,
    progMismatch: 0,
    procUnavail: 0,
    denied: 0,
    dropped: 0,
    drcHits: 0,
    drcInProgressDrops: 0,
    connections: 0,
    activeConnections: 0,
    recordErrors: 0,
  };
}

const DEFAULT_FLAVORS: readonly number[] = [AuthFlavor.AUTH_NONE, AuthFlavor.AUTH_SYS];

interface ProcedureEntry {
  proc: RpcProcedure;
  /** "<program>v<version>.<procedure>", made once for stats and logs. */
  name: string;
  latency: LatencyHistogram;
}

interface ProgramEntry {
  program: RpcProgram;
  versions: Map<number, Map<number, ProcedureEntry>>;
  low: number;
  high: number;
  flavors: ReadonlySet<number>;
}

/** A reply as buffers for one writev (payloads kept by reference), and what to call once they are written or dropped. */
export interface RpcReply {
  buffers: Buffer[];
  sent?: () => void;
}

export const peerName = (p: RpcPeer): string => (p.transport === 'local' ? `local#${p.connectionId}` : `${p.remoteAddress}:${p.remotePort}`);

/**
 * Turns one RPC message into its reply through the program table:
 * programs → versions → procedures. Transport-free: TCP, UDP and local
 * sockets hand it records and send back what it returns (null: no reply).
 * The reply comes as buffers for one writev, payloads kept by reference.
 */
export class RpcDispatcher {
  readonly stats: RpcStats = emptyStats();
  private readonly programs = new Map<number, ProgramEntry>();

  constructor(
    programs: readonly RpcProgram[],
    private readonly log: RpcLog,
    private readonly drc: DuplicateRequestCache | null,
  ) {
    for (const p of programs) this.add(p);
  }

  add(program: RpcProgram): void {
    const numbers = Object.keys(program.versions).map(Number);
    if (numbers.length === 0) throw new Error(`program ${program.name} has no versions`);
    if (this.programs.has(program.prog)) throw new Error(`program ${program.prog} is already served`);
    const versions = new Map<number, Map<number, ProcedureEntry>>();
    for (const v of numbers) {
      const table = program.versions[v];
      for (const proc of Object.values(table)) {
        if (proc.sent && !proc.idempotent) throw new Error(`${program.name}v${v}.${proc.name}: a reply the duplicate request cache keeps cannot release its buffers`);
      }
      const procs = new Map<number, ProcedureEntry>();
      for (const [n, proc] of Object.entries(table)) {
        const name = `${program.name}v${v}.${proc.name}`;
        const latency = (this.stats.latency[name] ??= new LatencyHistogram());
        procs.set(Number(n), { proc, name, latency });
      }
      versions.set(v, procs);
    }
    this.programs.set(program.prog, {
      program,
      versions,
      low: Math.min(...numbers),
      high: Math.max(...numbers),
      flavors: new Set(program.authFlavors ?? DEFAULT_FLAVORS),
    });
  }

  /** Programs and versions served, for registering with a portmapper. */
  served(): Array<{ prog: number; vers: number }> {
    return [...this.programs.values()].flatMap((e) => [...e.versions.keys()].map((vers) => ({ prog: e.program.prog, vers })));
  }

  async dispatch(record: Buffer, peer: RpcPeer): Promise<RpcReply | null> {
    const started = performance.now();
    const r = new XdrReader(record);
    let call: CallHeader;
    try {
      call = decodeCallHeader(r);
    } catch (e) {
      if (e instanceof RpcCallRejected) {
        this.stats.denied++;
        this.log.debug(`denied call ${e.xid} from ${peerName(peer)}: ${e.message}`);
        return this.reply(e.xid, e.status);
      }
      if (e instanceof XdrDecodeError) {
        this.stats.garbage++;
        this.log.debug(`dropped an unreadable message from ${peerName(peer)}: ${e.message}`);
        return null;
      }
      throw e;
    }
    this.stats.calls++;
    const entry = this.programs.get(call.prog);
    if (!entry) {
      this.stats.progUnavail++;
      return this.reply(call.xid, { accept_stat: AcceptStat.PROG_UNAVAIL });
    }
    const table = entry.versions.get(call.vers);
    if (!table) {
      this.stats.progMismatch++;
      return this.reply(call.xid, { accept_stat: AcceptStat.PROG_MISMATCH, mismatch_info: { low: entry.low, high: entry.high } });
    }
    const found = table.get(call.proc);
    if (!found) {
      this.stats.procUnavail++;
      return this.reply(call.xid, { accept_stat: AcceptStat.PROC_UNAVAIL });
    }
    const flavor = call.cred.flavor;
    if (!entry.flavors.has(flavor)) {
      // A flavor we cannot even verify (RPCSEC_GSS, AUTH_DH) is a bad credential, as Linux's nfsd answers,
      // even for NULL; a known but unaccepted one is too weak, except for NULL which needs none.
      const understood = flavor === AuthFlavor.AUTH_NONE || flavor === AuthFlavor.AUTH_SYS;
      if (!understood || call.proc !== 0) {
        this.stats.denied++;
        return this.reply(call.xid, { reject_stat: RejectStat.AUTH_ERROR, auth_stat: understood ? AuthStat.AUTH_TOOWEAK : AuthStat.AUTH_BADCRED });
      }
    }
    const { proc, name } = found;
    this.stats.byProc[name] = (this.stats.byProc[name] ?? 0) + 1;

    const argsAt = r.offset;
    let args: unknown;
    try {
      args = proc.decode(r);
      r.done('arguments');
    } catch (e) {
      if (e instanceof XdrDecodeError || e instanceof RpcGarbageArgs) {
        this.stats.garbage++;
        this.log.debug(`GARBAGE_ARGS for ${name} xid ${call.xid} from ${peerName(peer)}: ${(e as Error).message}`);
        return this.reply(call.xid, { accept_stat: AcceptStat.GARBAGE_ARGS });
      }
      return this.systemError(call, name, peer, e);
    }

    let drcKey: string | null = null;
    if (!proc.idempotent && this.drc) {
      drcKey = DuplicateRequestCache.key(peer.remoteAddress, call.xid, call.prog, call.vers, call.proc, record.subarray(argsAt));
      const seen = this.drc.begin(drcKey);
      if (seen.state === 'in-progress') {
        this.stats.drcInProgressDrops++;
        return null;
      }
      if (seen.state === 'done') {
        this.stats.drcHits++;
        return { buffers: [...seen.reply] };
      }
    }

    const ctx: RpcContext = {
      xid: call.xid,
      prog: call.prog,
      vers: call.vers,
      proc: call.proc,
      procName: proc.name,
      cred: call.cred,
      transport: peer.transport,
      remoteAddress: peer.remoteAddress,
      remotePort: peer.remotePort,
      localAddress: peer.localAddress,
      localPort: peer.localPort,
      connectionId: peer.connectionId,
    };
    const out = await this.run(proc, args, ctx, call, name, peer);
    found.latency.since(started);
    if (drcKey) {
      if (out) this.drc!.complete(drcKey, out.buffers);
      else this.drc!.forget(drcKey);
    }
    return out;
  }

  private async run(proc: RpcProcedure, args: unknown, ctx: RpcContext, call: CallHeader, name: string, peer: RpcPeer): Promise<RpcReply | null> {
    let res: unknown;
    let handled = false;
    try {
      res = await proc.handle(args, ctx);
      handled = true;
      const w = encodeReplyHeader(new XdrWriter(), call.xid, SUCCESS);
      proc.encode(w, res);
      const buffers = w.toBuffers();
      return proc.sent ? { buffers, sent: () => proc.sent!(res) } : { buffers };
    } catch (e) {
      // A result that could not be encoded is never sent: its buffers are free now.
      if (handled) proc.sent?.(res);
      if (e instanceof RpcAuthError) {
        this.stats.denied++;
        return this.reply(call.xid, { reject_stat: RejectStat.AUTH_ERROR, auth_stat: e.authStat });
      }
      if (e instanceof RpcDropReply) {
        this.stats.dropped++;
        return null;
      }
      if (e instanceof RpcGarbageArgs) {
        this.stats.garbage++;
        return this.reply(call.xid, { accept_stat: AcceptStat.GARBAGE_ARGS });
      }
      return this.systemError(call, name, peer, e);
    }
  }

  private systemError(call: CallHeader, name: string, peer: RpcPeer, err: unknown): RpcReply {
    this.stats.errors++;
    this.log.error(`${name} xid ${call.xid} from ${peerName(peer)} failed: ${err instanceof Error ? err.message : String(err)}`, err);
    return this.reply(call.xid, { accept_stat: AcceptStat.SYSTEM_ERR });
  }

  private reply(xid: number, status: ReplyStatus): RpcReply {
    return { buffers: encodeReplyHeader(new XdrWriter(32), xid, status).toBuffers() };
  }
}
