import { randomBytes } from 'node:crypto';
import { encodeError } from '../protocols/san/ack';
import { Kind, MIN_DATAGRAM_SIZE, SbpDecodeError, Status, VERSION } from '../protocols/san/constants';
import { decodeDatagram, encodeDatagram, type Datagram } from '../protocols/san/datagram';
import { decodeLogin, encodeLogin, identityRefusal, Security, transcript, type Challenge, type Hello, type LoginMessage, type Proof, type SecurityMode } from '../protocols/san/login';
import { READ_REPLY_PREFIX } from '../protocols/san/message';
import type { VolumeIo } from '../virtualization/mirrored-disk';
import { ReplyBuffers } from './reply-buffers';
import { Reservations } from './reservations';
import { newSanStats, type SanStats } from './san-stats';
import type { SanHost, SanView } from './san-view';
import { ServerSession, type ReplicaHooks } from './server-session';
import { deriveSessionKeys, ephemeral, verifyTranscript, type Ephemeral } from './session-keys';
import type { Clock, TimerHandle } from './transport/clock';
import { datagramsThatFit, SOCKET_BUFFER, type DatagramSocket, type Peer } from './transport/datagram-socket';

export interface SanServerOptions {
  /** The first listener; addSocket() adds more (each gateway address is a path for multipath clients). */
  socket: DatagramSocket;
  clock: Clock;
  view: SanView;
  disk(volumeId: string): VolumeIo | undefined;
  /** Record a login attempt (audit log: action san.login). */
  audit(entry: { host: string; hostId: string | null; address: string; ok: boolean; reason?: string }): void;
  /** A bug met while serving a call. */
  fault(err: unknown, what: string): void;
  /** REPLICA_COMMIT and REPLICA_META into the storage manager (absent: refused with NOT_REPLICA). */
  replicas?: ReplicaHooks;
  /** The largest datagram the gateway agrees to (the client may ask for less). */
  datagramSize: number;
  slots: number;
  maxTransfer: number;
  /** 'encrypt' refuses integrity-only logins of every host; 'integrity' leaves it to each host's own setting. */
  security: SecurityMode;
  idleTimeoutMs: number;
  authFailureDelayMs: number;
  loginTimeoutMs?: number;
  /** Kernel receive buffer of the socket as granted (twice what was asked): credits share it among sessions. */
  receiveBuffer?: number;
}

interface Provisional {
  id: number;
  peer: Peer;
  /** The listener the HELLO came in on: the PROOF must come the same way, and the session lives there. */
  socket: DatagramSocket;
  hello: Hello;
  challenge: Extract<Challenge, { status: Status.OK }>;
  /** The CHALLENGE datagram, resent for a retransmitted HELLO. */
  reply: Buffer;
  key: Ephemeral;
  transcript: Buffer;
  helloKey: string;
  timer: TimerHandle;
  failing: boolean;
}

/** A session heard from this recently takes a share of its listener's credits. */
const ACTIVE_MS = 200;

/** Reply cache per session: bounded, READ replies are dropped first (slot-table.ts). */
const REPLY_CACHE_BYTES = 64 * 2 ** 20;

/**
 * The SAN target on one or more datagram sockets (docs/san-protocol.md):
 * checks every datagram, runs the login exchange, and routes session traffic
 * to its ServerSession, which answers on the socket it logged in on. Nothing
 * a peer sends can throw out of here: what does not check out is counted in
 * `stats` and dropped or answered with ERROR. Sessions, reservations and the
 * boot verifier are shared by all sockets: they are paths to one gateway.
 */
export class SanServer {
  readonly stats: SanStats = newSanStats();
  /** Changes at every start, so clients notice a restart (section 8). */
  readonly bootVerifier: bigint = randomBytes(8).readBigUInt64BE();
  readonly reservations = new Reservations();
  private readonly sessions = new Map<number, ServerSession>();
  private readonly provisional = new Map<number, Provisional>();
  private readonly replyBuffers = new Map<DatagramSocket, ReplyBuffers>();
  /** `address:port/xid` of a HELLO → its provisional session. */
  private readonly hellos = new Map<string, number>();
  private sweepTimer: TimerHandle | undefined;
  /** Active sessions per listener as last counted (see credits). */
  private active: { at: number; counts: Map<DatagramSocket, number> } = { at: -Infinity, counts: new Map() };
  private closed = false;
  private readonly sockets = new Set<DatagramSocket>();

  constructor(private readonly o: SanServerOptions) {
    this.addSocket(o.socket);
    this.armSweep();
  }

  /** Serve another listener (another address or port of this gateway). */
  addSocket(socket: DatagramSocket): void {
    if (this.sockets.has(socket)) return;
    this.sockets.add(socket);
    socket.onMessage((buf, from) => this.onDatagram(buf, from, socket));
  }

  /**
   * Stop serving a listener before its socket closes: its sessions and logins
   * in progress end (their clients log in again on another path, or here once
   * it is back). Returns how many sessions ended.
   */
  removeSocket(socket: DatagramSocket): number {
    if (!this.sockets.delete(socket)) return 0;
    this.replyBuffers.delete(socket);
    for (const p of [...this.provisional.values()]) if (p.socket === socket) this.dropProvisional(p);
    const gone = [...this.sessions.values()].filter((s) => s.socket === socket);
    for (const s of gone) s.end();
    return gone.length;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /**
   * Credits for a session on `socket`: an equal share of the datagrams its
   * receive buffer (as the kernel granted it) holds, among the sessions on
   * that socket that are active, heard from in the last ACTIVE_MS.
   * Sessions of idle hosts (a NOP now and then) take no share: with 21
   * idle sessions logged in beside a busy host's two, an equal share among
   * all of them (4 datagrams of 65,000 bytes) held the busy host's 1 MiB
   * writes to 377-464 MB/s, against 726-776 with a share among the active
   * two (45 each; loopback, 4 MiB buffer). A session that wakes
   * up may still hold a larger grant from before; what it sends past the
   * buffer is lost and resent, and its congestion window halves (section 6).
   */
  credits(datagramSize: number, socket: DatagramSocket): number {
    const buffer = this.o.receiveBuffer ?? 2 * SOCKET_BUFFER;
    return Math.max(4, Math.floor(datagramsThatFit(buffer, datagramSize) / this.activeOn(socket)));
  }

  /** Active sessions on `socket` (at least 1: the one asking), counted again at most every ACTIVE_MS / 4. */
  private activeOn(socket: DatagramSocket): number {
    const now = this.o.clock.now();
    if (now - this.active.at >= ACTIVE_MS / 4) {
      const counts = new Map<DatagramSocket, number>();
      for (const s of this.sessions.values()) if (now - s.lastHeard < ACTIVE_MS) counts.set(s.socket, (counts.get(s.socket) ?? 0) + 1);
      this.active = { at: now, counts };
    }
    return Math.max(1, this.active.counts.get(socket) ?? 0);
  }

  /** End every session and stop the timers; the owner closes the socket. */
  close(): void {
    this.closed = true;
    if (this.sweepTimer) this.o.clock.clearTimer(this.sweepTimer);
    for (const p of this.provisional.values()) this.o.clock.clearTimer(p.timer);
    this.provisional.clear();
    for (const s of [...this.sessions.values()]) s.end();
  }

  onDatagram(buf: Buffer, from: Peer, via: DatagramSocket = this.o.socket): void {
    if (this.closed || !this.sockets.has(via)) return;
    const stats = this.stats;
    stats.datagramsIn++;
    stats.bytesIn += buf.length;
    let d: Datagram;
    try {
      d = decodeDatagram(buf);
    } catch (e) {
      const status = e instanceof SbpDecodeError ? e.status : Status.GARBAGE;
      if (status === Status.BAD_VERSION || status === Status.BAD_KIND) {
        stats.badVersionOrKind++;
        // Only an intact datagram gets here (the CRC is checked first): tell the sender what we speak.
        this.sendError(via, from, buf.readUInt32BE(8), buf.readUInt32BE(12), status, (e as Error).message);
      } else stats.malformed++;
      return;
    }
    try {
      if (d.header.kind === Kind.LOGIN) return this.onLogin(d, from, via);
      if (d.header.kind !== Kind.CALL_SEG && d.header.kind !== Kind.ACK && d.header.kind !== Kind.BUNDLE) {
        stats.unexpected++;
        return;
      }
      const session = this.sessions.get(d.header.sessionId);
      if (!session) {
        stats.noSession++;
        this.sendError(via, from, d.header.sessionId, d.header.xid, Status.NO_SESSION, 'no such session (expired, or the gateway restarted): log in again');
        return;
      }
      session.onDatagram(d, buf, from);
    } catch (e) {
      // A bug, not the peer's fault; one bad datagram must not take the server down.
      stats.serverFaults++;
      this.o.fault(e, `datagram from ${from.address}:${from.port}`);
    }
  }

  private onLogin(d: Datagram, from: Peer, via: DatagramSocket): void {
    let m: LoginMessage;
    try {
      m = decodeLogin(d.payload);
    } catch (e) {
      this.stats.malformed++;
      this.sendError(via, from, d.header.sessionId, d.header.xid, Status.GARBAGE, (e as Error).message);
      return;
    }
    if (m.step === 1 && d.header.sessionId === 0) return this.onHello(m, d.header.xid, from, via);
    if (m.step === 3) return this.onProof(m, d.header.sessionId, d.header.xid, from, via);
    this.stats.unexpected++;
  }

  /** HELLO → CHALLENGE. Unknown hosts get a challenge too, so the answer does not tell which host names exist. */
  private onHello(hello: Hello, xid: number, from: Peer, via: DatagramSocket): void {
    const helloKey = `${from.address}:${from.port}/${xid}`;
    const known = this.provisional.get(this.hellos.get(helloKey) ?? -1);
    if (known && known.socket === via) {
      this.sendRaw(via, known.reply, from);
      return;
    }
    const refuse = (status: Exclude<Status, Status.OK>, message: string) =>
      this.sendRaw(via, this.loginDatagram(0, xid, encodeLogin({ step: 2, status, message })), from);
    if (hello.minVersion > VERSION || hello.maxVersion < VERSION) return refuse(Status.BAD_VERSION, `this gateway speaks SBP version ${VERSION} only`);
    if (hello.datagramSize < MIN_DATAGRAM_SIZE) return refuse(Status.GARBAGE, `datagram size ${hello.datagramSize} is below the minimum ${MIN_DATAGRAM_SIZE}`);
    if (hello.security === Security.INTEGRITY && this.o.security === 'encrypt') {
      return refuse(Status.AUTH_FAILED, 'this gateway encrypts every session (san.security is encrypt): log in with security ENCRYPT');
    }
    const id = this.newSessionId();
    const key = ephemeral();
    const challenge: Extract<Challenge, { status: Status.OK }> = {
      step: 2,
      status: Status.OK,
      sessionId: id,
      serverNonce: randomBytes(32),
      serverKey: key.publicKey,
      bootVerifier: this.bootVerifier,
      datagramSize: Math.min(hello.datagramSize, this.o.datagramSize),
      slots: this.o.slots,
      maxTransfer: this.o.maxTransfer,
    };
    const reply = this.loginDatagram(id, xid, encodeLogin(challenge));
    const p: Provisional = {
      id,
      peer: from,
      socket: via,
      hello: { ...hello, clientNonce: Buffer.from(hello.clientNonce), clientKey: Buffer.from(hello.clientKey) },
      challenge,
      reply,
      key,
      transcript: transcript(hello, challenge),
      helloKey,
      failing: false,
      // A login that does not complete in time is forgotten (section 4).
      timer: this.o.clock.setTimer(this.o.loginTimeoutMs ?? 10_000, () => this.dropProvisional(p)),
    };
    this.provisional.set(id, p);
    this.hellos.set(helloKey, id);
    this.sendRaw(via, reply, from);
  }

  /** PROOF → WELCOME, sealed under the new keys; or AUTH_FAILED after a fixed delay, audited either way. */
  private onProof(proof: Proof, id: number, xid: number, from: Peer, via: DatagramSocket): void {
    const established = this.sessions.get(id);
    if (established?.welcome && established.socket === via && established.peer.address === from.address && established.peer.port === from.port) {
      this.sendRaw(via, established.welcome, from);
      return;
    }
    const p = this.provisional.get(id);
    if (!p || p.socket !== via || p.peer.address !== from.address || p.peer.port !== from.port) {
      this.stats.noSession++;
      this.sendError(via, from, id, xid, Status.NO_SESSION, 'no login in progress for this session id: start with HELLO');
      return;
    }
    if (p.failing) return;
    const host = this.o.view.hostByName(p.hello.host);
    const address = `${from.address}:${from.port}`;
    let reason: string | undefined;
    if (!host) reason = 'unknown host';
    else if (!verifyTranscript(host.key, p.transcript, proof.signature)) reason = 'signature does not match the registered key';
    let keys;
    if (!reason) {
      try {
        keys = deriveSessionKeys(p.key.privateKey, p.hello.clientKey, p.hello.clientNonce, p.challenge.serverNonce, p.transcript);
      } catch {
        reason = 'unusable X25519 key';
      }
    }
    if (reason || !host || !keys) {
      this.stats.loginsRefused++;
      this.o.audit({ host: p.hello.host, hostId: host?.id ?? null, address, ok: false, reason });
      p.failing = true;
      this.o.clock.clearTimer(p.timer);
      // The same answer and the same delay for every failure: no oracle for names or keys, and guessing is slow.
      p.timer = this.o.clock.setTimer(this.o.authFailureDelayMs, () => {
        this.dropProvisional(p);
        if (this.closed) return;
        if (!this.sockets.has(via)) return;
        this.sendRaw(via, this.loginDatagram(id, xid, encodeLogin({ step: 4, status: Status.AUTH_FAILED, message: identityRefusal(p.hello.host) })), from);
      });
      return;
    }
    this.dropProvisional(p);
    if (p.hello.security === Security.INTEGRITY && host.security !== 'integrity') {
      // The host proved who it is: it may be told why, at once.
      this.stats.loginsRefused++;
      this.o.audit({ host: host.name, hostId: host.id, address, ok: false, reason: 'integrity only asked, host set to encrypt' });
      const message = `host '${host.name}' must encrypt: integrity-only sessions are not enabled for it (strata host update ${host.name} --security integrity)`;
      this.sendRaw(via, this.loginDatagram(id, xid, encodeLogin({ step: 4, status: Status.AUTH_FAILED, message })), from);
      return;
    }
    const session = new ServerSession(id, host, from, keys, p.hello.security, p.challenge.datagramSize, this.o.slots, {
      clock: this.o.clock,
      socket: via,
      stats: this.stats,
      view: this.o.view,
      disk: this.o.disk,
      reservations: this.reservations,
      bootVerifier: this.bootVerifier,
      maxTransfer: this.o.maxTransfer,
      replyCacheBytes: REPLY_CACHE_BYTES,
      replyBuffers: this.replyBuffersFor(via),
      credits: () => this.credits(p.challenge.datagramSize, via),
      fault: this.o.fault,
      ended: (s) => this.sessions.delete(s.id),
      replicas: this.o.replicas,
    });
    this.sessions.set(id, session);
    session.welcome = session.sealed(Kind.LOGIN_REPLY, xid, encodeLogin({ step: 4, status: Status.OK, credits: this.credits(p.challenge.datagramSize, via) }));
    this.stats.loginsAccepted++;
    this.o.audit({ host: host.name, hostId: host.id, address, ok: true });
    this.sendRaw(via, session.welcome, from);
  }

  /** One pool per listener: a buffer is reused only when that socket has no send queued. */
  private replyBuffersFor(socket: DatagramSocket): ReplyBuffers {
    let pool = this.replyBuffers.get(socket);
    if (!pool) this.replyBuffers.set(socket, (pool = new ReplyBuffers(this.stats, READ_REPLY_PREFIX, () => socket.queuedSends())));
    return pool;
  }

  private dropProvisional(p: Provisional): void {
    this.o.clock.clearTimer(p.timer);
    this.provisional.delete(p.id);
    if (this.hellos.get(p.helloKey) === p.id) this.hellos.delete(p.helloKey);
  }

  private newSessionId(): number {
    for (;;) {
      const id = randomBytes(4).readUInt32BE();
      if (id !== 0 && !this.sessions.has(id) && !this.provisional.has(id)) return id;
    }
  }

  /** Sessions silent for longer than the idle timeout end, and their reservations with them. */
  private armSweep(): void {
    this.sweepTimer = this.o.clock.setTimer(Math.max(50, this.o.idleTimeoutMs / 4), () => {
      const now = this.o.clock.now();
      for (const s of [...this.sessions.values()]) {
        if (now - s.lastHeard >= this.o.idleTimeoutMs) {
          this.stats.sessionsExpired++;
          s.end();
        }
      }
      if (!this.closed) this.armSweep();
    });
  }

  private loginDatagram(sessionId: number, xid: number, payload: Buffer): Buffer {
    return encodeDatagram(
      { version: VERSION, kind: Kind.LOGIN_REPLY, flags: 0, sessionId, xid, segment: 0, segments: 1, messageLength: payload.length, packetNumber: 0n, credits: 0 },
      payload,
    );
  }

  private sendError(via: DatagramSocket, to: Peer, sessionId: number, xid: number, status: Status, message: string): void {
    const payload = encodeError({ status, minVersion: VERSION, maxVersion: VERSION, message: message.slice(0, 400) });
    this.sendRaw(
      via,
      encodeDatagram(
        { version: VERSION, kind: Kind.ERROR, flags: 0, sessionId, xid, segment: 0, segments: 1, messageLength: payload.length, packetNumber: 0n, credits: 0 },
        payload,
      ),
      to,
    );
  }

  private sendRaw(via: DatagramSocket, buf: Buffer, to: Peer): void {
    this.stats.datagramsOut++;
    this.stats.bytesOut += buf.length;
    via.send(buf, to.port, to.address);
  }
}
