import { randomInt } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { AcceptStat } from '../../protocols/oncrpc/constants';
import { type Credential, decodeReplyHeader, describeStatus, encodeCallHeader, type Reply, type ReplyStatus } from '../../protocols/oncrpc/message';
import { frameRecord, RecordDecoder } from '../../protocols/oncrpc/record';
import { XdrReader, XdrWriter } from '../../protocols/xdr/xdr';
import { DEFAULT_MAX_RECORD } from './rpc-server';

/** A reply whose status is not SUCCESS, in the RFC's words. */
export class RpcReplyError extends Error {
  override name = 'RpcReplyError';
  constructor(
    readonly status: ReplyStatus,
    readonly call: { prog: number; vers: number; proc: number; xid: number },
  ) {
    super(`RPC ${call.prog}/${call.vers}/${call.proc} xid ${call.xid}: ${describeStatus(status)}`);
  }
}

/** No reply in time, or the connection went away before one came. */
export class RpcCallFailed extends Error {
  override name = 'RpcCallFailed';
}

/** A reply as received; for SUCCESS `body` stands at the results. */
export interface RpcReply extends Reply {
  body: XdrReader;
  /** The whole reply message. */
  record: Buffer;
}

export interface RpcCallOptions {
  cred?: Credential;
  /** Fail with RpcCallFailed after this long without a reply (default: the client's). */
  timeoutMs?: number;
  /** Use this xid instead of the next one (a retransmission, for tests of the duplicate request cache). */
  xid?: number;
}

export type ArgsEncoder = (w: XdrWriter) => void;

interface Pending {
  resolve(r: RpcReply): void;
  reject(e: Error): void;
  timer?: NodeJS.Timeout;
}

/** xids, replies and timeouts, shared by the stream and datagram clients. */
abstract class RpcCaller {
  protected readonly pending = new Map<number, Pending>();
  private xid = randomInt(1, 2 ** 31);
  /** Replies that matched no call in flight (late, duplicated or garbage). */
  unmatched = 0;

  constructor(protected readonly timeoutMs: number) {}

  nextXid(): number {
    this.xid = (this.xid + 1) >>> 0;
    return this.xid;
  }

  /** Send one message (a CALL without framing) to the peer. */
  protected abstract transmit(message: Buffer[]): void;

  /** Encode and send a call; resolves with the reply whatever its status. */
  call(prog: number, vers: number, proc: number, args?: ArgsEncoder, opts: RpcCallOptions = {}): Promise<RpcReply> {
    const xid = opts.xid ?? this.nextXid();
    const w = encodeCallHeader(new XdrWriter(), { xid, prog, vers, proc, cred: opts.cred });
    args?.(w);
    return this.exchange(xid, w.toBuffers(), opts.timeoutMs);
  }

  /** Call and decode SUCCESS results (all of them: trailing bytes are an error); other statuses throw RpcReplyError. */
  async callOk<T>(prog: number, vers: number, proc: number, args: ArgsEncoder | undefined, decode: (r: XdrReader) => T, opts: RpcCallOptions = {}): Promise<T> {
    const reply = await this.call(prog, vers, proc, args, opts);
    if (!('accept_stat' in reply.status) || reply.status.accept_stat !== AcceptStat.SUCCESS) {
      throw new RpcReplyError(reply.status, { prog, vers, proc, xid: reply.xid });
    }
    const res = decode(reply.body);
    reply.body.done('results');
    return res;
  }

  /** Send a prepared message (any bytes after the xid) and wait for the reply carrying `xid`. */
  exchange(xid: number, message: Buffer[], timeoutMs = this.timeoutMs): Promise<RpcReply> {
    if (this.pending.has(xid)) return Promise.reject(new RpcCallFailed(`xid ${xid} is already in flight`));
    return new Promise<RpcReply>((resolve, reject) => {
      const p: Pending = { resolve, reject };
      if (timeoutMs > 0) {
        p.timer = setTimeout(() => {
          this.pending.delete(xid);
          reject(new RpcCallFailed(`no reply to xid ${xid} within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.pending.set(xid, p);
      try {
        this.transmit(message);
      } catch (e) {
        this.settle(xid);
        reject(e as Error);
      }
    });
  }

  /** Wait for a reply to `xid` without sending anything (the call went out raw). */
  awaitReply(xid: number, timeoutMs = this.timeoutMs): Promise<RpcReply> {
    return this.exchange(xid, [], timeoutMs);
  }

  protected onMessage(record: Buffer): void {
    let reply: Reply;
    const body = new XdrReader(record);
    try {
      reply = decodeReplyHeader(body);
    } catch {
      this.unmatched++;
      return;
    }
    const p = this.settle(reply.xid);
    if (!p) {
      this.unmatched++;
      return;
    }
    p.resolve({ ...reply, body, record });
  }

  private settle(xid: number): Pending | undefined {
    const p = this.pending.get(xid);
    if (!p) return undefined;
    this.pending.delete(xid);
    clearTimeout(p.timer);
    return p;
  }

  protected failAll(e: Error): void {
    for (const [xid, p] of this.pending) {
      this.pending.delete(xid);
      clearTimeout(p.timer);
      p.reject(e);
    }
  }

  get inFlight(): number {
    return this.pending.size;
  }
}

export interface RpcClientOptions {
  /** Largest reply record accepted. */
  maxRecord?: number;
  /** Default per-call timeout; 0 waits forever. */
  timeoutMs?: number;
  /** Bind this local port (a privileged one for servers that require it). */
  localPort?: number;
}

/**
 * ONC RPC client over a record-marked stream (TCP or a local socket): many
 * calls in flight, replies matched by xid in whatever order they come, and
 * a raw mode (`writeRaw`, `sendRecord`) for sending malformed input.
 */
export class RpcClient extends RpcCaller {
  readonly closed: Promise<void>;
  private readonly decoder: RecordDecoder;
  /** Set when the server broke record marking or the stream failed. */
  error: Error | null = null;

  constructor(
    readonly stream: Duplex,
    opts: RpcClientOptions = {},
  ) {
    super(opts.timeoutMs ?? 30_000);
    this.decoder = new RecordDecoder(opts.maxRecord ?? DEFAULT_MAX_RECORD);
    stream.on('data', (chunk: Buffer) => {
      let records: Buffer[];
      try {
        records = this.decoder.push(chunk);
      } catch (e) {
        this.error = e as Error;
        stream.destroy();
        return;
      }
      for (const r of records) this.onMessage(r);
    });
    stream.on('error', (e) => (this.error ??= e));
    this.closed = new Promise((resolve) =>
      stream.once('close', () => {
        this.failAll(new RpcCallFailed(`connection closed${this.error ? `: ${this.error.message}` : ''}`));
        resolve();
      }),
    );
  }

  static connect(target: { host: string; port: number } | { path: string }, opts: RpcClientOptions = {}): Promise<RpcClient> {
    return new Promise((resolve, reject) => {
      const sock: Socket =
        'path' in target ? connect({ path: target.path }) : connect({ host: target.host, port: target.port, localPort: opts.localPort, noDelay: true });
      sock.once('error', reject);
      sock.once('connect', () => {
        sock.off('error', reject);
        resolve(new RpcClient(sock, opts));
      });
    });
  }

  protected transmit(message: Buffer[]): void {
    if (message.length === 0) return;
    this.sendRecord(message);
  }

  /** Send a message as one record, or as fragments of at most `maxFragment` bytes. */
  sendRecord(message: Buffer | Buffer[], maxFragment?: number): void {
    if (this.stream.destroyed) throw new RpcCallFailed('connection closed');
    const parts = frameRecord(Array.isArray(message) ? message : [message], maxFragment);
    this.stream.cork();
    for (const p of parts) this.stream.write(p);
    this.stream.uncork();
  }

  /** Write bytes exactly as given (no record marking): for malformed input. */
  writeRaw(bytes: Buffer): void {
    this.stream.write(bytes);
  }

  /** Close our side and wait for the connection to go away. */
  async close(): Promise<void> {
    this.stream.end();
    const timer = setTimeout(() => this.stream.destroy(), 1000);
    await this.closed;
    clearTimeout(timer);
  }

  destroy(): void {
    this.stream.destroy();
  }
}

/**
 * ONC RPC client over UDP: one datagram per message, retransmitted every
 * `retransmitMs` until the reply or the timeout (the same xid, so the
 * server's duplicate request cache recognises it).
 */
export class RpcUdpClient extends RpcCaller {
  private constructor(
    private readonly sock: UdpSocket,
    private readonly host: string,
    private readonly port: number,
    timeoutMs: number,
    private readonly retransmitMs: number,
  ) {
    super(timeoutMs);
    sock.on('message', (msg: Buffer) => this.onMessage(msg));
  }

  static async open(host: string, port: number, opts: { timeoutMs?: number; retransmitMs?: number } = {}): Promise<RpcUdpClient> {
    const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(0, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    return new RpcUdpClient(sock, host, port, opts.timeoutMs ?? 5000, opts.retransmitMs ?? 500);
  }

  protected transmit(message: Buffer[]): void {
    if (message.length === 0) return;
    const buf = Buffer.concat(message);
    const xid = buf.readUInt32BE(0);
    const send = () => this.sock.send(buf, this.port, this.host);
    send();
    const timer = setInterval(() => (this.pending.has(xid) ? send() : clearInterval(timer)), this.retransmitMs);
    timer.unref();
  }

  /** Send one datagram exactly as given. */
  sendRaw(bytes: Buffer): void {
    this.sock.send(bytes, this.port, this.host);
  }

  private closing: Promise<void> | null = null;

  close(): Promise<void> {
    this.failAll(new RpcCallFailed('client closed'));
    return (this.closing ??= new Promise((r) => this.sock.close(() => r())));
  }
}
