import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { BufferPool } from '../common/buffer-pool';
import type { Touch } from '../common/busy-poll';
import { DomainError } from '../common/errors';
import {
  decodeGoData,
  decodeOptionHeader,
  decodeRequest,
  encodeExportNameReply,
  encodeGreeting,
  encodeInfoBlockSize,
  encodeInfoExport,
  encodeOptionReply,
  encodeServerEntry,
  encodeSimpleReply,
  NbdProtocolError,
  type Request,
} from '../protocols/nbd/codec';
import {
  CLIENT_FIXED_NEWSTYLE,
  CLIENT_NO_ZEROES,
  Cmd,
  CmdFlag,
  Info,
  NbdErrno,
  Opt,
  OPTION_HEADER,
  Rep,
  REQUEST_HEADER,
  TxFlag,
} from '../protocols/nbd/constants';
import { ByteQueue, type FrameInput } from './byte-queue';
import { directSocket, SCRATCH } from './direct-input';

/** What an NBD export needs from the storage below it (a LogicalDisk fits). */
export interface NbdExport {
  readonly name: string;
  readonly size: number;
  readonly readOnly: boolean;
  readInto(offset: number, target: Buffer): Promise<void>;
  /** When the storage hands out its own buffer (a SAN reply), reading into one would cost a copy. */
  read?(offset: number, length: number): Promise<Buffer>;
  write(offset: number, data: Buffer, opts?: { fua?: boolean }): Promise<void>;
  flush(): Promise<void>;
  discard(offset: number, length: number): Promise<void>;
  writeZeroes(offset: number, length: number, opts?: { fua?: boolean }): Promise<void>;
}

export interface NbdExports {
  list(): string[];
  /** The export for a name ('' = the default), or undefined. */
  get(name: string): NbdExport | undefined;
}

/** The largest READ/WRITE accepted (what NBD_INFO_BLOCK_SIZE announces as maximum). */
export const MAX_REQUEST = 32 * 2 ** 20;
/** Requests of one connection executing at once; reading pauses beyond this. */
const MAX_INFLIGHT = 64;
/**
 * READs and WRITEs from this size up to POOLED_MAX use pooled buffers: a READ's
 * given back once the reply is written, a WRITE's once the write succeeded.
 */
const POOLED_MIN = 64 * 1024;
const POOLED_MAX = 2 ** 20;

/**
 * One error → one NBD errno, in one place: domain errors of the gateway's
 * volumes, and the SAN statuses (SanError codes) of strata-client's bridge.
 */
export function nbdErrno(err: unknown): NbdErrno {
  const code = err instanceof DomainError ? err.code : err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  switch (code) {
    case 'NO_SPACE':
      return NbdErrno.ENOSPC;
    case 'OUT_OF_RANGE':
    case 'INVALID_ARGUMENT':
      return NbdErrno.EINVAL;
    case 'FORBIDDEN':
    case 'READ_ONLY':
    case 'RESERVED':
      return NbdErrno.EPERM;
  }
  return NbdErrno.EIO;
}

export interface NbdServerStats {
  connections: number;
  requests: number;
  errors: number;
  protocolErrors: number;
}

/**
 * An NBD server (fixed newstyle, simple replies) over any duplex stream:
 * `handle(stream)` serves one client; `listen()` wraps it in a TCP server.
 * Requests on a connection run concurrently and reply as they finish.
 * CAN_MULTI_CONN holds: a FLUSH on any connection flushes the volume's
 * devices, covering writes completed on every connection.
 */
export class NbdServer {
  readonly stats: NbdServerStats = { connections: 0, requests: 0, errors: 0, protocolErrors: 0 };
  private server: Server | null = null;
  private readonly sockets = new Set<Duplex>();
  /** Connections in transmission, by export name, so an export can be withdrawn. */
  private readonly serving = new Map<string, Set<Duplex>>();
  /** 1 MiB READ and WRITE buffers: a fresh one per request set off a full garbage collection every 64 MB (external memory). */
  private readonly buffers = new BufferPool(POOLED_MAX, 32);

  constructor(
    private readonly exports: NbdExports,
    /** Touched after each batch of replies goes out: the client's next request needs no wake-up (common/busy-poll). */
    private readonly busyPoll?: Touch,
  ) {}

  listen(port: number, host: string): Promise<{ port: number; host: string }> {
    return this.listenOn({ port, host }).then(() => {
      const a = this.server!.address() as { port: number; address: string };
      return { port: a.port, host: a.address };
    });
  }

  /** Serve on a unix socket (nbd+unix:///name?socket=PATH); EADDRINUSE when the path exists. */
  listenPath(path: string): Promise<void> {
    return this.listenOn({ path });
  }

  private listenOn(where: { port: number; host: string } | { path: string }): Promise<void> {
    // Paused, so no byte is read before the socket is re-wrapped to read into payload buffers directly.
    const server = createServer({ noDelay: true, pauseOnConnect: true }, (accepted: Socket) => {
      const direct = directSocket(accepted);
      if (direct) void this.handle(direct.socket, direct.input);
      else void this.handle(accepted.resume());
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(where, () => {
        server.off('error', reject);
        this.server = server;
        resolve();
      });
    });
  }

  /** Cut every connection to an export (volume deleted or no longer exported). */
  disconnect(name: string): number {
    const set = this.serving.get(name);
    for (const s of set ?? []) s.destroy();
    return set?.size ?? 0;
  }

  /** Open connections per export name. */
  connections(): Record<string, number> {
    return Object.fromEntries([...this.serving].map(([name, set]) => [name, set.size]));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    if (this.server) await new Promise<void>((r) => this.server!.close(() => r()));
    this.server = null;
  }

  /** Serve one client on `stream`; `input` reads it (default: a ByteQueue on its 'data' events). */
  async handle(stream: Duplex, input: FrameInput = new ByteQueue(stream)): Promise<void> {
    this.sockets.add(stream);
    this.stats.connections++;
    try {
      const exp = await this.negotiate(stream, input);
      if (exp) {
        let set = this.serving.get(exp.name);
        if (!set) this.serving.set(exp.name, (set = new Set()));
        set.add(stream);
        try {
          await this.transmit(stream, input, exp);
        } finally {
          set.delete(stream);
          if (set.size === 0) this.serving.delete(exp.name);
        }
      }
    } catch (e) {
      if (e instanceof NbdProtocolError) this.stats.protocolErrors++;
      else throw e;
    } finally {
      this.sockets.delete(stream);
      stream.destroy();
    }
  }

  private flagsOf(exp: NbdExport): number {
    let flags = TxFlag.HAS_FLAGS | TxFlag.SEND_FLUSH | TxFlag.SEND_FUA | TxFlag.CAN_MULTI_CONN | TxFlag.SEND_CACHE;
    if (exp.readOnly) flags |= TxFlag.READ_ONLY;
    else flags |= TxFlag.SEND_TRIM | TxFlag.SEND_WRITE_ZEROES;
    return flags;
  }

  /** Option haggling; resolves with the export to serve, or null when the client went away. */
  private async negotiate(out: Duplex, input: FrameInput): Promise<NbdExport | null> {
    out.write(encodeGreeting());
    const clientFlags = await input.read(4);
    if (!clientFlags) return null;
    const flags = clientFlags.readUInt32BE(0);
    if ((flags & CLIENT_FIXED_NEWSTYLE) === 0) throw new NbdProtocolError('client does not speak fixed newstyle');
    const noZeroes = (flags & CLIENT_NO_ZEROES) !== 0;
    for (;;) {
      const head = await input.read(OPTION_HEADER);
      if (!head) return null;
      const { option, length } = decodeOptionHeader(head);
      const data = length > 0 ? await input.read(length) : Buffer.alloc(0);
      if (!data) return null;
      switch (option) {
        case Opt.EXPORT_NAME: {
          // No way to refuse in this option: an unknown name just closes the connection.
          const exp = this.exports.get(data.toString('utf8'));
          if (!exp) return null;
          out.write(encodeExportNameReply(exp.size, this.flagsOf(exp), noZeroes));
          return exp;
        }
        case Opt.GO:
        case Opt.INFO: {
          let request: { name: string; requests: number[] };
          try {
            request = decodeGoData(data);
          } catch (e) {
            out.write(encodeOptionReply(option, Rep.ERR_INVALID, Buffer.from((e as Error).message)));
            continue;
          }
          const exp = this.exports.get(request.name);
          if (!exp) {
            out.write(encodeOptionReply(option, Rep.ERR_UNKNOWN, Buffer.from(`no export named '${request.name}'`)));
            continue;
          }
          out.write(encodeOptionReply(option, Rep.INFO, encodeInfoExport(exp.size, this.flagsOf(exp))));
          if (request.requests.includes(Info.BLOCK_SIZE)) {
            out.write(encodeOptionReply(option, Rep.INFO, encodeInfoBlockSize(1, 4096, MAX_REQUEST)));
          }
          out.write(encodeOptionReply(option, Rep.ACK));
          if (option === Opt.GO) return exp;
          continue;
        }
        case Opt.LIST:
          if (length !== 0) {
            out.write(encodeOptionReply(option, Rep.ERR_INVALID));
            continue;
          }
          for (const name of this.exports.list()) out.write(encodeOptionReply(option, Rep.SERVER, encodeServerEntry(name)));
          out.write(encodeOptionReply(option, Rep.ACK));
          continue;
        case Opt.ABORT:
          out.write(encodeOptionReply(option, Rep.ACK));
          return null;
        case Opt.STARTTLS:
          out.write(encodeOptionReply(option, Rep.ERR_POLICY, Buffer.from('TLS is not offered: the export is bound to loopback')));
          continue;
        default:
          // Structured replies, metadata contexts, …: not offered, so clients use simple replies.
          out.write(encodeOptionReply(option, Rep.ERR_UNSUP));
      }
    }
  }

  private async transmit(out: Duplex, input: FrameInput, exp: NbdExport): Promise<void> {
    let inflight = 0;
    let drained: (() => void) | null = null;
    // Replies finished in one turn of the event loop leave in one writev: a
    // syscall per 4 KiB reply (and the wakeup of the client it causes) was a
    // fifth of the CPU at QD32. setImmediate runs right after this poll phase.
    let corked = false;
    const uncork = () => {
      corked = false;
      if (out.destroyed) return;
      out.uncork();
      this.busyPoll?.touch();
    };
    const done = () => {
      inflight--;
      const d = drained;
      drained = null;
      d?.();
    };
    for (;;) {
      const head = await input.read(REQUEST_HEADER);
      if (!head) return;
      const req = decodeRequest(Buffer.from(head));
      if (req.type === Cmd.DISC) return;
      // After a large WRITE the next is likely one too: read its header alone, so its payload lands whole in its buffer.
      input.readAhead?.(req.type === Cmd.WRITE && req.length >= POOLED_MIN ? REQUEST_HEADER : SCRATCH);
      let data: Buffer | undefined;
      let payload: Buffer | undefined;
      if (req.type === Cmd.WRITE) {
        if (req.length > MAX_REQUEST) throw new NbdProtocolError(`WRITE of ${req.length} bytes exceeds ${MAX_REQUEST}`);
        if (req.length >= POOLED_MIN && req.length <= POOLED_MAX) {
          // Large payloads span socket chunks and are copied anyway: into a reused buffer, not a fresh one.
          payload = this.buffers.take();
          data = payload.subarray(0, req.length);
          if (!(await input.readInto(data))) return;
        } else {
          const body = await input.read(req.length);
          if (!body) return;
          data = body;
        }
      }
      while (inflight >= MAX_INFLIGHT) await new Promise<void>((r) => (drained = r));
      inflight++;
      this.stats.requests++;
      void this.execute(exp, req, data).then((reply) => {
        if (reply.error !== NbdErrno.OK) this.stats.errors++;
        // Every layer below has settled when a write succeeds; after a failure a straggler might still read it, so no reuse.
        else if (payload) this.buffers.give(payload);
        const pooled = reply.pooled;
        if (!out.destroyed) {
          if (!corked) {
            corked = true;
            out.cork();
            setImmediate(uncork);
          }
          out.write(encodeSimpleReply(reply.error, req.handle));
          // The socket is done with the data once the write calls back (written to the kernel, or failed).
          if (reply.data) out.write(reply.data, pooled ? () => this.buffers.give(pooled) : undefined);
        }
        done();
      });
    }
  }

  private async execute(exp: NbdExport, req: Request, data: Buffer | undefined): Promise<{ error: NbdErrno; data?: Buffer; pooled?: Buffer }> {
    const fua = (req.flags & CmdFlag.FUA) !== 0;
    const inRange = req.offset + req.length <= exp.size;
    try {
      switch (req.type) {
        case Cmd.READ: {
          if (req.length > MAX_REQUEST) return { error: NbdErrno.EOVERFLOW };
          if (!inRange) return { error: NbdErrno.EINVAL };
          if (exp.read) return { error: NbdErrno.OK, data: await exp.read(req.offset, req.length) };
          if (req.length >= POOLED_MIN && req.length <= POOLED_MAX) {
            const pooled = this.buffers.take();
            const buf = pooled.subarray(0, req.length);
            try {
              await exp.readInto(req.offset, buf);
            } catch (e) {
              this.buffers.give(pooled);
              throw e;
            }
            return { error: NbdErrno.OK, data: buf, pooled };
          }
          const buf = Buffer.allocUnsafe(req.length);
          await exp.readInto(req.offset, buf);
          return { error: NbdErrno.OK, data: buf };
        }
        case Cmd.WRITE:
          if (exp.readOnly) return { error: NbdErrno.EPERM };
          if (!inRange) return { error: NbdErrno.ENOSPC };
          await exp.write(req.offset, data!, { fua });
          return { error: NbdErrno.OK };
        case Cmd.FLUSH:
          await exp.flush();
          return { error: NbdErrno.OK };
        case Cmd.TRIM:
          if (exp.readOnly) return { error: NbdErrno.EPERM };
          if (!inRange) return { error: NbdErrno.ENOSPC };
          await exp.discard(req.offset, req.length);
          if (fua) await exp.flush();
          return { error: NbdErrno.OK };
        case Cmd.WRITE_ZEROES:
          if (exp.readOnly) return { error: NbdErrno.EPERM };
          if (!inRange) return { error: NbdErrno.ENOSPC };
          await exp.writeZeroes(req.offset, req.length, { fua });
          return { error: NbdErrno.OK };
        case Cmd.CACHE:
          // Pages are read on demand; there is nothing to prefetch into.
          return { error: inRange ? NbdErrno.OK : NbdErrno.EINVAL };
        default:
          return { error: NbdErrno.EINVAL };
      }
    } catch (e) {
      return { error: nbdErrno(e) };
    }
  }
}
