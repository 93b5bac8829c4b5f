import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Logger } from '@nestjs/common';
import { onreadSocket } from '../../common/onread-socket';
import type { Touch } from '../../common/busy-poll';
import { encodeFragmentHeader, RecordDecoder, RecordMarkingError } from '../../protocols/oncrpc/record';
import { DuplicateRequestCache, type DrcOptions } from './duplicate-request-cache';
import { type RpcLog, type RpcPeer, type RpcReply, RpcDispatcher, type RpcStats, peerName } from './rpc-dispatcher';
import type { RpcProgram } from './rpc-program';

/** A 1 MiB NFS WRITE or READ plus the largest RPC and NFS headers (credentials are at most 400 bytes each). */
export const DEFAULT_MAX_RECORD = 2 ** 20 + 4096;
/** Calls of one connection running at once; reading pauses beyond it. */
export const DEFAULT_MAX_INFLIGHT = 64;
/** Each connection's read buffer: the kernel copies into it, records are copied out of it. */
const READ_BUFFER = 64 * 1024;
/** The largest UDP payload (65,535 minus the IP and UDP headers). */
const MAX_UDP_PAYLOAD = 65507;

export interface RpcServerOptions {
  /** Largest record accepted, in bytes; a larger one closes the connection. */
  maxRecord?: number;
  /** Calls in flight per connection before reading pauses. */
  maxInflight?: number;
  /** Datagrams in flight per UDP socket; more are dropped (UDP clients retransmit). */
  maxUdpInflight?: number;
  /** Duplicate request cache bounds, or false for none. */
  drc?: DrcOptions | false;
  log?: RpcLog;
  /** Keeps the event loop polling for a while after each reply (common/busy-poll); none by default. */
  busyPoll?: Touch;
}

function nestLog(context: string): RpcLog {
  const l = new Logger(context);
  return {
    debug: (m) => l.debug(m),
    warn: (m) => l.warn(m),
    error: (m, e) => l.error(m, e instanceof Error ? e.stack : undefined),
  };
}

/** A listener's bound address. */
export interface RpcAddress {
  host: string;
  port: number;
}

interface Conn {
  stream: Duplex;
  peer: RpcPeer;
  inflight: number;
  queue: Buffer[];
  /** Reading paused for lack of in-flight slots or a full socket buffer. */
  writeBlocked: boolean;
  ended: boolean;
  idle: Set<() => void>;
}

/**
 * ONC RPC server: record-marked TCP (and local stream sockets) and UDP,
 * dispatching through a program table. `handle(stream)` serves any duplex
 * stream, so tests and other transports can inject one. Calls on a
 * connection run concurrently and are answered as they complete; at most
 * `maxInflight` run at once per connection, beyond that (or while the
 * client does not read its replies) reading pauses, which pushes back
 * through TCP flow control.
 */
export class RpcServer {
  readonly dispatcher: RpcDispatcher;
  private readonly log: RpcLog;
  private readonly maxRecord: number;
  private readonly maxInflight: number;
  private readonly maxUdpInflight: number;
  private readonly busyPoll: Touch | undefined;
  private readonly listeners: Server[] = [];
  private readonly udpSockets: UdpSocket[] = [];
  private readonly conns = new Set<Conn>();
  private nextConnId = 1;
  private closing = false;

  constructor(programs: readonly RpcProgram[], opts: RpcServerOptions = {}) {
    this.log = opts.log ?? nestLog('RPC');
    this.maxRecord = opts.maxRecord ?? DEFAULT_MAX_RECORD;
    this.maxInflight = opts.maxInflight ?? DEFAULT_MAX_INFLIGHT;
    this.maxUdpInflight = opts.maxUdpInflight ?? 256;
    this.busyPoll = opts.busyPoll;
    const drc = opts.drc === false ? null : new DuplicateRequestCache(opts.drc ?? {});
    this.dispatcher = new RpcDispatcher(programs, this.log, drc);
  }

  get stats(): RpcStats {
    return this.dispatcher.stats;
  }

  /** Serve another program (before or after listening). */
  addProgram(program: RpcProgram): void {
    this.dispatcher.add(program);
  }

  /** Listen on TCP; port 0 picks a free port. */
  listen(port: number, host = '0.0.0.0'): Promise<RpcAddress> {
    const server = this.streamServer();
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        server.on('error', (e) => this.log.error(`RPC listener on ${host}:${port} failed: ${e.message}`, e));
        this.listeners.push(server);
        const a = server.address() as { port: number; address: string };
        resolve({ host: a.address, port: a.port });
      });
    });
  }

  /** Listen on a local (Unix domain) stream socket, as rpcbind does on /run/rpcbind.sock. */
  listenLocal(path: string): Promise<void> {
    const server = this.streamServer();
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        this.listeners.push(server);
        resolve();
      });
    });
  }

  /** Listen on UDP: one datagram is one message, no record marking. */
  listenUdp(port: number, host = '0.0.0.0'): Promise<RpcAddress> {
    const sock = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
    const connectionId = this.nextConnId++;
    let inflight = 0;
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(port, host, () => {
        sock.off('error', reject);
        sock.on('error', (e) => this.log.warn(`UDP socket ${host}:${port}: ${e.message}`));
        const local = sock.address();
        sock.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
          if (inflight >= this.maxUdpInflight) return;
          inflight++;
          const peer: RpcPeer = { transport: 'udp', remoteAddress: rinfo.address, remotePort: rinfo.port, localAddress: local.address, localPort: local.port, connectionId };
          this.dispatcher
            .dispatch(msg, peer)
            .then((out) => {
              if (!out) return;
              const size = out.buffers.reduce((n, b) => n + b.length, 0);
              if (this.closing || size > MAX_UDP_PAYLOAD) {
                if (!this.closing) this.log.warn(`reply of ${size} bytes to ${peerName(peer)} does not fit a UDP datagram; dropped`);
                out.sent?.();
                return;
              }
              sock.send(out.buffers, rinfo.port, rinfo.address, () => out.sent?.());
              this.busyPoll?.touch();
            })
            .catch((e) => this.log.error(`UDP call from ${peerName(peer)} failed: ${(e as Error).message}`, e))
            .finally(() => inflight--);
        });
        this.udpSockets.push(sock);
        resolve({ host: local.address, port: local.port });
      });
    });
  }

  private streamServer(): Server {
    // allowHalfOpen: a client may shut down its side after its last call and still read the replies.
    // Paused, so that no byte is read before the socket reads into its own buffer (onread).
    return createServer({ noDelay: true, allowHalfOpen: true, pauseOnConnect: true }, (accepted: Socket) => {
      // The socket exists before the connection it feeds.
      let feed: (chunk: Buffer) => void = () => undefined;
      const callback = (n: number, buf: Buffer): boolean => {
        feed(buf.subarray(0, n));
        return true;
      };
      const socket = onreadSocket(accepted, { buffer: Buffer.allocUnsafeSlow(READ_BUFFER), callback }, { allowHalfOpen: true });
      if (!socket) {
        void this.handle(accepted.resume());
        return;
      }
      feed = this.serve(socket, {}, true).feed;
      socket.resume();
    });
  }

  /** Serve one connection; resolves when it closes. `peer` fills in what the stream cannot tell. */
  handle(stream: Duplex, peer: Partial<Omit<RpcPeer, 'connectionId'>> = {}): Promise<void> {
    return this.serve(stream, peer, false).closed;
  }

  /**
   * Serve one connection: `feed` takes its bytes, from 'data' events, or with
   * `reusedChunks` from a read buffer that is read into again once feed
   * returns (a socket's onread); `closed` resolves when the connection closes.
   */
  private serve(stream: Duplex, peer: Partial<Omit<RpcPeer, 'connectionId'>>, reusedChunks: boolean): { closed: Promise<void>; feed: (chunk: Buffer) => void } {
    const s = stream as Partial<Socket>;
    const local = s.remoteAddress === undefined && peer.remoteAddress === undefined;
    const conn: Conn = {
      stream,
      peer: {
        transport: peer.transport ?? (local ? 'local' : 'tcp'),
        remoteAddress: peer.remoteAddress ?? s.remoteAddress ?? 'local',
        remotePort: peer.remotePort ?? s.remotePort ?? 0,
        localAddress: peer.localAddress ?? s.localAddress ?? 'local',
        localPort: peer.localPort ?? s.localPort ?? 0,
        connectionId: this.nextConnId++,
      },
      inflight: 0,
      queue: [],
      writeBlocked: false,
      ended: false,
      idle: new Set(),
    };
    if (this.closing) {
      stream.destroy();
      return { closed: Promise.resolve(), feed: () => undefined };
    }
    this.conns.add(conn);
    this.stats.connections++;
    this.stats.activeConnections++;
    const decoder = new RecordDecoder(this.maxRecord, undefined, reusedChunks);
    const feed = (chunk: Buffer): void => {
      let records: Buffer[];
      try {
        records = decoder.push(chunk);
      } catch (e) {
        if (!(e instanceof RecordMarkingError)) throw e;
        this.stats.recordErrors++;
        this.log.warn(`closing RPC connection from ${peerName(conn.peer)}: ${e.message}`);
        stream.destroy();
        return;
      }
      for (const rec of records) conn.queue.push(rec);
      this.pump(conn);
    };
    if (!reusedChunks) stream.on('data', feed);
    const closed = new Promise<void>((resolve) => {
      stream.on('end', () => {
        conn.ended = true;
        if (!decoder.idle) this.log.debug(`RPC connection from ${peerName(conn.peer)} ended inside a record`);
        this.maybeFinish(conn);
      });
      stream.on('drain', () => {
        conn.writeBlocked = false;
        this.pump(conn);
      });
      stream.on('error', (e) => this.log.debug(`RPC connection from ${peerName(conn.peer)}: ${e.message}`));
      stream.on('close', () => {
        this.conns.delete(conn);
        this.stats.activeConnections--;
        conn.queue.length = 0;
        for (const w of conn.idle) w();
        resolve();
      });
    });
    return { closed, feed };
  }

  /** Start queued calls while slots are free; pause reading while they are not. */
  private pump(conn: Conn): void {
    while (conn.queue.length > 0 && conn.inflight < this.maxInflight && !conn.writeBlocked && !conn.stream.destroyed) {
      const rec = conn.queue.shift()!;
      conn.inflight++;
      this.dispatcher
        .dispatch(rec, conn.peer)
        .then((out) => out && this.send(conn, out))
        .catch((e) => this.log.error(`RPC call from ${peerName(conn.peer)} failed: ${(e as Error).message}`, e))
        .finally(() => {
          conn.inflight--;
          this.pump(conn);
          this.maybeFinish(conn);
        });
    }
    const busy = conn.queue.length > 0 || conn.inflight >= this.maxInflight || conn.writeBlocked;
    if (busy && !conn.stream.isPaused()) conn.stream.pause();
    else if (!busy && conn.stream.isPaused() && !conn.ended) conn.stream.resume();
  }

  private send(conn: Conn, out: RpcReply): void {
    const s = conn.stream;
    if (s.destroyed || s.writableEnded) {
      out.sent?.();
      return;
    }
    const { buffers, sent } = out;
    const size = buffers.reduce((n, b) => n + b.length, 0);
    // cork/uncork turns the header and the pieces into one writev, payloads not copied.
    s.cork();
    s.write(encodeFragmentHeader(size));
    let ok = true;
    // The last piece's callback runs once the writev is done (or failed, if the connection goes first).
    for (let i = 0; i < buffers.length; i++) ok = i === buffers.length - 1 && sent ? s.write(buffers[i], () => sent()) : s.write(buffers[i]);
    s.uncork();
    if (!ok) conn.writeBlocked = true;
    this.busyPoll?.touch();
  }

  /** After the client's end of stream, end ours once every call has answered. */
  private maybeFinish(conn: Conn): void {
    if (conn.inflight > 0 || conn.queue.length > 0) return;
    for (const w of conn.idle) w();
    conn.idle.clear();
    if (conn.ended && !conn.stream.writableEnded) conn.stream.end();
  }

  /**
   * Stop listening and close every connection, after letting calls in
   * flight answer (up to `drainMs`).
   */
  async close(drainMs = 2000): Promise<void> {
    this.closing = true;
    const closed = this.listeners.splice(0).map((srv) => new Promise<void>((r) => srv.close(() => r())));
    for (const u of this.udpSockets.splice(0)) u.close();
    const busy = [...this.conns].filter((c) => c.inflight > 0 || c.queue.length > 0);
    if (busy.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      const drained = Promise.all(busy.map((c) => new Promise<void>((r) => c.idle.add(r))));
      await Promise.race([drained, new Promise<void>((r) => (timer = setTimeout(r, drainMs)))]);
      clearTimeout(timer);
    }
    for (const c of this.conns) c.stream.destroy();
    await Promise.all(closed);
  }
}
