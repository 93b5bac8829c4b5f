import { fork, type ChildProcess } from 'node:child_process';
import { createSocket, type RemoteInfo } from 'node:dgram';
import { join } from 'node:path';
import { HEADER_SIZE, MAX_DATAGRAM_SIZE, TAG_SIZE } from '../src/protocols/san/constants';

/*
 * What node:dgram itself moves on this machine, with no protocol on top: the
 * SAN bench's two traffic shapes between two processes of their own, as our
 * client library and the gateway are, on loopback.
 *
 * - echo: each request a small datagram, each reply one datagram of 4 KiB
 *   plus the protocol's header and tag, 32 requests in flight: the shape of
 *   4 KiB random reads, one datagram each way per operation.
 * - stream: datagrams of 65,000 bytes one way, a window of 48 in flight, an
 *   acknowledgement every 8, each datagram copied into a 1 MiB buffer as
 *   reassembly must: the shape of 1 MiB sequential writes.
 *
 * No authentication, retransmission, reply cache or disk: whatever the SAN
 * path adds to this costs CPU on top of it, so neither figure is a target.
 * They are ceilings: a SAN figure above them would be an error in the bench.
 */

const ECHO_DEPTH = 32;
const ECHO_REQUEST = 64;
export const ECHO_REPLY = HEADER_SIZE + 4096 + TAG_SIZE;
const STREAM_WINDOW = 48;
const STREAM_ACK_EVERY = 8;
const SOCKET_BUFFER = 4 * 2 ** 20;
/** A sender whose window stayed full this long takes the missing datagrams as lost (loopback drops under overload) and goes on. */
const STALL_MS = 5;
const ENV = 'STRATA_DGRAM_FLOOR';
/** The compiled child script (tests run this file from source; npm test builds first). */
const SCRIPT = __filename.endsWith('.ts') ? join(__dirname, '../dist/bench/dgram-floor.js') : __filename;

type Role = 'echo-server' | 'echo-client' | 'stream-receiver' | 'stream-sender';

/** Parent → child: where to send (clients and senders), then start/stop of the measured part. */
type Command = { peer: number } | { mark: true } | { report: true };

/** Child → parent. `count`: replies (echo client), bytes (stream receiver), datagrams given up (stream sender). */
type Report = { port: number } | { cpu: number; count: number };

export interface DgramFloor {
  echo: { opsPerSec: number; serverCpu: number; clientCpu: number };
  stream: { mbps: number; receiverCpu: number; senderCpu: number; lostDatagrams: number };
}

/** Both shapes, each measured for `seconds` after a second of warm-up. */
export async function dgramFloor(seconds: number): Promise<DgramFloor> {
  const echo = await pair('echo-server', 'echo-client', seconds);
  const stream = await pair('stream-receiver', 'stream-sender', seconds);
  return {
    echo: { opsPerSec: echo.other.count / seconds, serverCpu: echo.first.cpu, clientCpu: echo.other.cpu },
    stream: { mbps: stream.first.count / seconds / 1e6, receiverCpu: stream.first.cpu, senderCpu: stream.other.cpu, lostDatagrams: stream.other.count },
  };
}

/** Start `bound` (it reports its port), then `other` aimed at it; measure both over the same `seconds`. */
async function pair(bound: Role, other: Role, seconds: number): Promise<{ first: { cpu: number; count: number }; other: { cpu: number; count: number } }> {
  const children: Child[] = [];
  try {
    const a = new Child(bound);
    children.push(a);
    const { port } = (await a.next()) as { port: number };
    const b = new Child(other);
    children.push(b);
    await b.next();
    b.send({ peer: port });
    await sleep(1000);
    a.send({ mark: true });
    b.send({ mark: true });
    await sleep(seconds * 1000);
    a.send({ report: true });
    b.send({ report: true });
    const [ra, rb] = (await Promise.all([a.next(), b.next()])) as Array<{ cpu: number; count: number }>;
    return { first: ra, other: rb };
  } finally {
    for (const c of children) c.kill();
  }
}

class Child {
  private readonly proc: ChildProcess;
  private readonly queue: Report[] = [];
  private waiter: { resolve: (r: Report) => void; reject: (e: Error) => void } | undefined;
  private failed: Error | undefined;

  constructor(role: Role) {
    this.proc = fork(SCRIPT, [], { env: { ...process.env, [ENV]: role }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.proc.on('message', (m) => {
      const w = this.waiter;
      this.waiter = undefined;
      if (w) w.resolve(m as Report);
      else this.queue.push(m as Report);
    });
    this.proc.on('exit', (code, signal) => {
      this.failed = new Error(`dgram floor ${role} process exited (${signal ?? code})`);
      this.waiter?.reject(this.failed);
      this.waiter = undefined;
    });
  }

  next(): Promise<Report> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  send(c: Command): void {
    this.proc.send(c);
  }

  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A child: one socket, one role; counts from the parent's mark, reports its CPU share and count on request. */
function child(role: Role): void {
  const socket = createSocket({ type: 'udp4', recvBufferSize: SOCKET_BUFFER, sendBufferSize: SOCKET_BUFFER });
  let count = 0;
  let peer = 0;
  let mark = { at: performance.now(), cpu: process.cpuUsage() };
  const report = () => {
    const used = process.cpuUsage(mark.cpu);
    process.send!({ cpu: (used.user + used.system) / 1000 / (performance.now() - mark.at), count } satisfies Report);
  };
  const handlers: Record<Role, { message: (m: Buffer, from: RemoteInfo) => void; start: () => void }> = {
    'echo-server': (() => {
      const reply = Buffer.alloc(ECHO_REPLY, 7);
      return {
        message: (m, from) => {
          m.copy(reply, 0, 0, 8);
          socket.send(reply, from.port, from.address);
        },
        start: () => undefined,
      };
    })(),
    'echo-client': (() => {
      const request = Buffer.alloc(ECHO_REQUEST);
      let seq = 0;
      const ask = () => {
        request.writeUInt32BE(seq++ >>> 0, 0);
        socket.send(request, peer, '127.0.0.1');
      };
      return {
        message: () => {
          count++;
          ask();
        },
        // A lost request or reply would shrink the depth for good: top it up while running.
        start: () => {
          for (let i = 0; i < ECHO_DEPTH; i++) ask();
          let seen = -1;
          setInterval(() => {
            if (seq === seen) for (let i = 0; i < ECHO_DEPTH; i++) ask();
            seen = seq;
          }, STALL_MS * 20).unref();
        },
      };
    })(),
    'stream-receiver': (() => {
      const assembly = Buffer.allocUnsafe(2 ** 20);
      const ack = Buffer.alloc(8);
      let received = 0;
      let at = 0;
      return {
        message: (m, from) => {
          if (at + m.length > assembly.length) at = 0;
          m.copy(assembly, at);
          at += m.length;
          count += m.length;
          if (++received % STREAM_ACK_EVERY === 0) {
            ack.writeUInt32BE(received >>> 0, 0);
            socket.send(ack, from.port, from.address);
          }
        },
        start: () => undefined,
      };
    })(),
    'stream-sender': (() => {
      const datagram = Buffer.alloc(MAX_DATAGRAM_SIZE, 1);
      let sent = 0;
      let acked = 0;
      /** Taken as lost after a stall: the receiver's count (what it acknowledges) never includes them. */
      let lost = 0;
      const inFlight = () => sent - lost - acked;
      const pump = () => {
        while (inFlight() < STREAM_WINDOW) {
          sent++;
          socket.send(datagram, peer, '127.0.0.1');
        }
      };
      return {
        message: (m) => {
          acked = Math.max(acked, m.readUInt32BE(0));
          // Some taken as lost were only late.
          if (inFlight() < 0) lost = sent - acked;
          pump();
        },
        start: () => {
          pump();
          let last = -1;
          setInterval(() => {
            if (inFlight() >= STREAM_WINDOW && acked === last) {
              count += inFlight();
              lost = sent - acked;
              pump();
            }
            last = acked;
          }, STALL_MS).unref();
        },
      };
    })(),
  };
  const h = handlers[role];
  socket.on('message', h.message);
  process.on('message', (c: Command) => {
    if ('peer' in c) {
      peer = c.peer;
      h.start();
    } else if ('mark' in c) {
      count = 0;
      mark = { at: performance.now(), cpu: process.cpuUsage() };
    } else report();
  });
  process.on('disconnect', () => process.exit(0));
  socket.bind(0, '127.0.0.1', () => process.send!({ port: socket.address().port } satisfies Report));
}

if (require.main === module) {
  const role = process.env[ENV] as Role | undefined;
  if (!role) throw new Error(`dgram-floor.js is started by the bench with ${ENV} set`);
  child(role);
}
