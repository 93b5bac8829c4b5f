import { fork, type ChildProcess } from 'node:child_process';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { join } from 'node:path';
import { BusyPoll, SAN_BUSY_POLL_MICROS } from '../src/common/busy-poll';
import { HEADER_SIZE, MAX_DATAGRAM_SIZE, TAG_SIZE } from '../src/protocols/san/constants';

/*
 * What node:dgram itself moves on this machine, with no protocol on top: the
 * SAN bench's two traffic shapes between two processes of their own, as our
 * client library and the gateway are, on loopback, each side busy-polling
 * after it sends as both SAN ends do.
 *
 * - echo: each request a small datagram, each reply one datagram of 4 KiB
 *   plus the protocol's header and tag, 32 requests in flight: the shape of
 *   4 KiB random reads, one datagram each way per operation.
 * - stream: datagrams of 65,000 bytes one way, a window of 48 in flight, an
 *   acknowledgement every 8, each datagram copied into a 1 MiB buffer as
 *   reassembly must: the shape of 1 MiB sequential writes.
 *
 * No authentication, retransmission, reply cache or disk: whatever the SAN
 * path adds costs CPU on top of this, so neither figure is a target but a
 * ceiling. The echo does not bundle replies as the SAN protocol does
 * (bundled, a 4 KiB reply cost 16.7 µs of CPU a side here against 19), so
 * its ceiling is the looser of the two.
 */

export const ECHO_DEPTH = 32;
const ECHO_REQUEST = 64;
export const ECHO_REPLY = HEADER_SIZE + 4096 + TAG_SIZE;
/** A request unanswered this long was lost (loopback drops under overload): another takes its place. */
const ECHO_EXPIRE_MS = 50;
const STREAM_WINDOW = 48;
const STREAM_ACK_EVERY = 8;
/** A full window with no acknowledgement for this long was lost; the sender moves on. */
const STREAM_STALL_MS = 20;
const SOCKET_BUFFER = 4 * 2 ** 20;
const ENV = 'STRATA_DGRAM_FLOOR';
/** The compiled child script (tests run this file from source; npm test builds first). */
const SCRIPT = __filename.endsWith('.ts') ? join(__dirname, '../dist/bench/dgram-floor.js') : __filename;

type Role = 'echo-server' | 'echo-client' | 'stream-receiver' | 'stream-sender';

/** Parent → child: where to send (clients and senders), then start and end of the measured part. */
type Command = { peer: number } | { mark: true } | { report: true };

/** What a child counted over the measured part; each role fills in what it sees. */
export interface Measured {
  seconds: number;
  /** Share of one core. */
  cpu: number;
  /** Answered requests (echo client). */
  replies: number;
  /** Datagrams and their bytes received (stream receiver). */
  datagrams: number;
  bytes: number;
  /** Requests given up on (echo client); gaps in the sequence (stream receiver). */
  lost: number;
}

type Report = { port: number } | { measured: Measured };

export interface DgramFloor {
  echo: { opsPerSec: number; serverCpu: number; clientCpu: number; lost: number };
  stream: { mbps: number; datagrams: number; bytes: number; receiverCpu: number; senderCpu: number; lost: number };
}

/** Both shapes, each measured for `seconds` after a second of warm-up. */
export async function dgramFloor(seconds: number): Promise<DgramFloor> {
  const echo = await pair('echo-server', 'echo-client', seconds);
  const stream = await pair('stream-receiver', 'stream-sender', seconds);
  return {
    echo: { opsPerSec: echo.client.replies / echo.client.seconds, serverCpu: echo.server.cpu, clientCpu: echo.client.cpu, lost: echo.client.lost },
    stream: {
      mbps: stream.server.bytes / stream.server.seconds / 1e6,
      datagrams: stream.server.datagrams,
      bytes: stream.server.bytes,
      receiverCpu: stream.server.cpu,
      senderCpu: stream.client.cpu,
      lost: stream.server.lost,
    },
  };
}

/**
 * The echo client's requests in flight: a reply counts once, for a request
 * still waiting; one waiting too long is dropped, and the caller sends
 * another in its place, so the depth stays what it was.
 */
export class EchoDepth {
  private readonly waiting = new Map<number, number>();
  private next = 0;
  replies = 0;
  lost = 0;

  /** A new request: its sequence number. */
  issue(now: number): number {
    const seq = this.next;
    this.next = (this.next + 1) >>> 0;
    this.waiting.set(seq, now);
    return seq;
  }

  /** A reply came: whether it answered a request still waiting (the caller then sends the next). */
  answered(seq: number): boolean {
    if (!this.waiting.delete(seq)) return false;
    this.replies++;
    return true;
  }

  /** Requests waiting since before `now - maxAgeMs`, dropped: how many to send in their place. */
  expire(now: number, maxAgeMs: number): number {
    let n = 0;
    for (const [seq, at] of this.waiting) {
      if (now - at < maxAgeMs) continue;
      this.waiting.delete(seq);
      n++;
    }
    this.lost += n;
    return n;
  }

  /** Counting starts over; the requests in flight carry on. */
  restartCounts(): void {
    this.replies = 0;
    this.lost = 0;
  }

  get inFlight(): number {
    return this.waiting.size;
  }
}

/**
 * The stream sender's window, by sequence number: the receiver acknowledges
 * the highest it has seen (plus one), so a lost datagram below it never
 * holds the window; a full window whose acknowledgements stopped is given up
 * on at the next stall check.
 */
export class StreamWindow {
  sent = 0;
  private acked = 0;
  private ackedAtLastCheck = -1;

  constructor(private readonly size: number) {}

  /** How many may go now. */
  room(): number {
    return Math.max(0, this.size - (this.sent - this.acked));
  }

  /** Sequence number for the next datagram. */
  send(): number {
    return this.sent++;
  }

  /** Everything below `through` arrived or is lost; an older acknowledgement changes nothing. */
  ack(through: number): void {
    if (through > this.acked) this.acked = Math.min(through, this.sent);
  }

  /** Called every stall interval: true when the window was full and nothing was acknowledged since the last call; the window is then reopened. */
  stalled(): boolean {
    const stuck = this.room() === 0 && this.acked === this.ackedAtLastCheck;
    if (stuck) this.acked = this.sent;
    this.ackedAtLastCheck = this.acked;
    return stuck;
  }
}

/** Start `server` (it reports its port), then `client` aimed at it; measure both over the same `seconds`. */
async function pair(server: Role, client: Role, seconds: number): Promise<{ server: Measured; client: Measured }> {
  const children: Child[] = [];
  try {
    const a = new Child(server);
    children.push(a);
    const port = portOf(await a.next());
    const b = new Child(client);
    children.push(b);
    portOf(await b.next());
    b.send({ peer: port });
    await sleep(1000);
    a.send({ mark: true });
    b.send({ mark: true });
    await sleep(seconds * 1000);
    a.send({ report: true });
    b.send({ report: true });
    const [ra, rb] = await Promise.all([a.next(), b.next()]);
    return { server: measuredOf(ra), client: measuredOf(rb) };
  } finally {
    for (const c of children) c.kill();
  }
}

function portOf(r: Report): number {
  if ('port' in r) return r.port;
  throw new Error('dgram floor: a child reported figures before its port');
}

function measuredOf(r: Report): Measured {
  if ('measured' in r) return r.measured;
  throw new Error('dgram floor: a child reported a port when asked for figures');
}

/** The parent's handle on one child: its reports in order, and its end as an error. */
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
    this.proc.on('exit', (code, signal) => this.fail(new Error(`dgram floor ${role} process exited (${signal ?? code})`)));
    // A fork that failed, or a send after the child died.
    this.proc.on('error', (e) => this.fail(new Error(`dgram floor ${role} process: ${e.message}`)));
  }

  next(): Promise<Report> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  send(c: Command): void {
    if (this.failed) return;
    this.proc.send(c);
  }

  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }

  private fail(e: Error): void {
    this.failed ??= e;
    this.waiter?.reject(this.failed);
    this.waiter = undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a role does with a datagram, once it knows its peer, and what it has counted. */
interface RoleHandler {
  message(m: Buffer, from: RemoteInfo): void;
  start(peer: number): void;
  mark(): void;
  counted(): Omit<Measured, 'seconds' | 'cpu'>;
}

const none = { replies: 0, datagrams: 0, bytes: 0, lost: 0 };

/** Each role's handler, made only in the child that plays it. */
const ROLES: Record<Role, (socket: Socket, poll: BusyPoll) => RoleHandler> = {
  'echo-server': (socket, poll) => {
    // Sent as [sequence, body]: the body is never written after this, so a send still queued reads what it should.
    const body = Buffer.alloc(ECHO_REPLY - 8, 7);
    return {
      message: (m, from) => {
        socket.send([m.subarray(0, 8), body], from.port, from.address);
        poll.touch();
      },
      start: () => undefined,
      mark: () => undefined,
      counted: () => none,
    };
  },
  'echo-client': (socket, poll) => {
    const depth = new EchoDepth();
    let peer = 0;
    const ask = () => {
      const request = Buffer.alloc(ECHO_REQUEST);
      request.writeUInt32BE(depth.issue(performance.now()), 0);
      socket.send(request, peer, '127.0.0.1');
      poll.touch();
    };
    return {
      message: (m) => {
        if (depth.answered(m.readUInt32BE(0))) ask();
      },
      start: (p) => {
        peer = p;
        for (let i = 0; i < ECHO_DEPTH; i++) ask();
        setInterval(() => {
          for (let n = depth.expire(performance.now(), ECHO_EXPIRE_MS); n > 0; n--) ask();
        }, ECHO_EXPIRE_MS / 2).unref();
      },
      mark: () => depth.restartCounts(),
      counted: () => ({ ...none, replies: depth.replies, lost: depth.lost }),
    };
  },
  'stream-receiver': (socket, poll) => {
    const assembly = Buffer.allocUnsafe(2 ** 20);
    const ack = Buffer.alloc(8);
    let at = 0;
    let highest = -1;
    let base = 0;
    let datagrams = 0;
    let bytes = 0;
    let sinceAck = 0;
    return {
      message: (m, from) => {
        if (at + m.length > assembly.length) at = 0;
        m.copy(assembly, at);
        at += m.length;
        datagrams++;
        bytes += m.length;
        highest = Math.max(highest, m.readUInt32BE(0));
        if (++sinceAck === STREAM_ACK_EVERY) {
          sinceAck = 0;
          ack.writeUInt32BE(highest + 1, 0);
          socket.send(ack, from.port, from.address);
          poll.touch();
        }
      },
      start: () => undefined,
      mark: () => {
        base = highest + 1;
        datagrams = 0;
        bytes = 0;
      },
      // Late datagrams from before the mark can make up for gaps after it: never below zero.
      counted: () => ({ ...none, datagrams, bytes, lost: Math.max(0, highest + 1 - base - datagrams) }),
    };
  },
  'stream-sender': (socket, poll) => {
    const body = Buffer.alloc(MAX_DATAGRAM_SIZE - 4, 1);
    const window = new StreamWindow(STREAM_WINDOW);
    let peer = 0;
    const pump = () => {
      for (let n = window.room(); n > 0; n--) {
        const seq = Buffer.allocUnsafe(4);
        seq.writeUInt32BE(window.send(), 0);
        socket.send([seq, body], peer, '127.0.0.1');
      }
      poll.touch();
    };
    return {
      message: (m) => {
        window.ack(m.readUInt32BE(0));
        pump();
      },
      start: (p) => {
        peer = p;
        pump();
        setInterval(() => {
          if (window.stalled()) pump();
        }, STREAM_STALL_MS).unref();
      },
      mark: () => undefined,
      counted: () => none,
    };
  },
};

/** A child: one socket, one role; counts from the parent's mark, reports on request. */
function child(role: Role): void {
  const socket = createSocket({ type: 'udp4', recvBufferSize: SOCKET_BUFFER, sendBufferSize: SOCKET_BUFFER });
  socket.on('error', (e) => {
    console.error(`dgram floor ${role}: ${e.message}`);
    process.exit(1);
  });
  const h = ROLES[role](socket, new BusyPoll(SAN_BUSY_POLL_MICROS));
  let mark = { at: performance.now(), cpu: process.cpuUsage() };
  socket.on('message', h.message);
  process.on('message', (c: Command) => {
    if ('peer' in c) return h.start(c.peer);
    if ('mark' in c) {
      h.mark();
      mark = { at: performance.now(), cpu: process.cpuUsage() };
      return;
    }
    const seconds = (performance.now() - mark.at) / 1000;
    const used = process.cpuUsage(mark.cpu);
    process.send!({ measured: { seconds, cpu: (used.user + used.system) / 1e6 / seconds, ...h.counted() } } satisfies Report);
  });
  process.on('disconnect', () => process.exit(0));
  socket.bind(0, '127.0.0.1', () => process.send!({ port: socket.address().port } satisfies Report));
}

if (require.main === module) {
  const role = process.env[ENV] as Role | undefined;
  if (!role || !(role in ROLES)) throw new Error(`dgram-floor.js is started by the bench with ${ENV} set to a role`);
  child(role);
}
