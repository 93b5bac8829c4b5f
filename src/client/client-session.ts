import { randomBytes, type KeyObject } from 'node:crypto';
import { decodeError } from '../protocols/san/ack';
import { decodeBundle } from '../protocols/san/bundle';
import { DEFAULT_DATAGRAM_SIZE, Flag, Kind, Opcode, SbpDecodeError, Status, VERSION } from '../protocols/san/constants';
import { decodeDatagram, encodeDatagram, openDatagram, sealDatagramParts, type Datagram } from '../protocols/san/datagram';
import { decodeLogin, encodeLogin, identityRefusal, Security, securityMode, transcript, type SecurityMode, type Challenge, type Hello, type Welcome } from '../protocols/san/login';
import { decodeReply, encodeCallParts, READ_REPLY_PREFIX, type Call, type Reply, type VolumeEntry } from '../protocols/san/message';
import { segmentCapacity } from '../protocols/san/segments';
import { ReplayWindow } from '../san/replay-window';
import { deriveSessionKeys, ephemeral, signTranscript, type SessionKeys } from '../san/session-keys';
import { Channel, type OutgoingSegment } from '../san/transport/channel';
import { SegmentBatcher } from '../san/transport/segment-batcher';
import type { Clock, TimerHandle } from '../san/transport/clock';
import { datagramsThatFit, SOCKET_BUFFER, type DatagramSocket, type Peer } from '../san/transport/datagram-socket';
import { GatewayUnreachable, PathDown, SanError } from './san-error';

type Distribute<T> = T extends unknown ? Omit<T, 'slot' | 'seq' | 'lun'> : never;
/**
 * A call as the volume layer issues it: the session adds slot and sequence,
 * and turns `volume` into its own LUN. `into` (READ): the buffer the data
 * goes to, straight from the datagrams (the reply's `data` is then `into`).
 */
export type CallRequest = Distribute<Call> & { volume?: string; into?: Buffer };

export interface ClientSessionOptions {
  gateway: Peer;
  host: string;
  key: KeyObject;
  datagramSize: number;
  security: Security;
  socket: DatagramSocket;
  clock: Clock;
  /** How long a first login may take before the gateway counts as unreachable. */
  connectTimeoutMs: number;
  /** An idle session sends NOP this often (keepalive, and boot verifier check). */
  keepaliveMs: number;
  /** The session went down or came back up (`up` changed). */
  onStateChange?(session: ClientSession): void;
}

export interface SessionStats {
  gateway: string;
  localPort: number;
  sessionId: number;
  /** integrity: data in clear, every datagram authenticated; encrypt: AES-256-GCM. */
  security: SecurityMode;
  srtt: number | undefined;
  rttvar: number;
  rto: number;
  retransmits: number;
  timeouts: number;
  bytesSent: number;
  bytesReceived: number;
  ops: number;
  inFlight: number;
  /** Datagrams the gateway lets this session have in flight (its last grant; shared among its active sessions). */
  credits: number | undefined;
  logins: number;
  /** Logged in and carrying calls; false while the path is down and the session logs in again. */
  up: boolean;
  /** Why the path is down, or what the last attempt to bring it back said. */
  lastError?: string;
  /** Milliseconds since the path went down. */
  downForMs?: number;
}

interface PendingCall {
  request: CallRequest;
  resolve(r: Reply): void;
  reject(e: Error): void;
  xid: number;
  slot: number;
  seq: number;
}

interface LoginWait {
  xid: number;
  step: 2 | 4;
  resolve(message: Buffer): void;
  /** close(): stop retransmitting and fail the login at once. */
  cancel(): void;
}

/** Volume id bytes (16) as the hex key volumes are known by on the client side. */
export const idKey = (id: Buffer) => id.toString('hex');

/**
 * One session with one gateway address over one UDP socket: login, sealed
 * datagrams, the transport channel, slots and sequences, and recovery. When
 * the path goes down (the gateway stops answering, restarted: boot verifier
 * changed, or NO_SESSION) every call not yet answered fails with PathDown,
 * for the volume layer to send again on another path or once this one is
 * back; meanwhile the session keeps logging in again until it is closed, and
 * rediscovers its LUNs before it carries calls again.
 */
export class ClientSession {
  readonly address: string;
  private state: 'new' | 'ready' | 'recovering' | 'closed' = 'new';
  private sessionId = 0;
  /** The local UDP port, remembered: a closed socket no longer says. */
  private readonly localPort: number;
  private keys: SessionKeys | undefined;
  private bootVerifier = 0n;
  private packetNumber = 0n;
  private replay = new ReplayWindow();
  private channel: Channel | undefined;
  /** Gathers the channel's small segments into BUNDLE datagrams; one per channel (per login). */
  private batcher: SegmentBatcher | undefined;
  private capacity = 0;
  maxTransfer = 0;
  datagramSize = 0;
  /** Credits granted to the gateway in every datagram; worked out once per login. */
  private grant = 0;
  private seqs = new Uint32Array(0);
  private freeSlots: number[] = [];
  private readonly waiting: PendingCall[] = [];
  private readonly pending = new Map<number, PendingCall>();
  private nextXid = randomBytes(4).readUInt32BE();
  private loginWait: LoginWait | undefined;
  /** Volume id (hex) → this session's LUN. */
  private luns = new Map<string, number>();
  volumes: VolumeEntry[] = [];
  private keepalive: TimerHandle | undefined;
  private lastSent = 0;
  private lastError: string | undefined;
  private downSince = 0;
  private retryTimer: TimerHandle | undefined;
  private readonly totals = { retransmits: 0, timeouts: 0, bytesSent: 0, bytesReceived: 0, ops: 0, logins: 0 };

  constructor(private readonly o: ClientSessionOptions) {
    this.address = `${o.gateway.address}:${o.gateway.port}`;
    o.socket.onMessage((buf, from) => this.onDatagram(buf, from));
    this.localPort = o.socket.local().port;
  }

  /** Log in and discover; AUTH_FAILED, BAD_VERSION or GatewayUnreachable when it cannot. */
  async connect(): Promise<void> {
    await this.login(this.o.connectTimeoutMs);
    await this.discover();
    this.state = 'ready';
    this.armKeepalive();
  }

  /** After a first login that got no answer: keep trying in the background (another path carries the I/O meanwhile). */
  retryInBackground(why: string): void {
    if (this.state !== 'new') return;
    this.enterRecovery(why);
  }

  get inFlight(): number {
    return this.pending.size + this.waiting.length;
  }

  /** Logged in, LUNs known, carrying calls. */
  get up(): boolean {
    return this.state === 'ready' && this.channel !== undefined;
  }

  /** Whether this session's DISCOVER listed the volume (by id, hex). */
  knows(volumeId: string): boolean {
    return this.luns.has(volumeId);
  }

  /** The LUN numbers of this session, by volume id. */
  async discover(): Promise<VolumeEntry[]> {
    const r = await this.issue({ op: Opcode.DISCOVER, flags: 0 });
    if (r.status !== Status.OK || r.op !== Opcode.DISCOVER) throw this.failure(r);
    this.volumes = r.volumes;
    this.luns = new Map(r.volumes.map((v) => [idKey(v.id), v.lun]));
    return r.volumes;
  }

  /** Send a call and wait for its reply (any status); retried across gateway restarts. */
  call(request: CallRequest): Promise<Reply> {
    return this.issue(request);
  }

  stats(): SessionStats {
    const ch = this.channel;
    return {
      gateway: this.address,
      localPort: this.localPort,
      sessionId: this.sessionId,
      security: securityMode(this.o.security),
      srtt: ch?.rtt.srtt,
      rttvar: ch?.rtt.rttvar ?? 0,
      rto: ch?.rtt.rto ?? 0,
      retransmits: this.totals.retransmits + (ch?.stats.retransmits ?? 0),
      timeouts: this.totals.timeouts + (ch?.stats.timeouts ?? 0),
      bytesSent: this.totals.bytesSent,
      bytesReceived: this.totals.bytesReceived,
      ops: this.totals.ops,
      inFlight: this.inFlight,
      credits: ch?.credits,
      logins: this.totals.logins,
      up: this.up,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
      ...(this.state === 'recovering' ? { downForMs: this.o.clock.now() - this.downSince } : {}),
    };
  }

  /** LOGOUT (best effort), then stop; calls still pending fail. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    if (this.up && this.pending.size === 0) {
      await Promise.race([this.issue({ op: Opcode.LOGOUT, flags: 0 }).catch(() => undefined), new Promise((r) => this.o.clock.setTimer(500, () => r(undefined)))]);
    }
    this.state = 'closed';
    if (this.keepalive) this.o.clock.clearTimer(this.keepalive);
    if (this.retryTimer) this.o.clock.clearTimer(this.retryTimer);
    this.loginWait?.cancel();
    this.channel?.close();
    this.batcher?.clear();
    const closed = new Error(`SAN session to ${this.address} closed`);
    for (const p of [...this.pending.values(), ...this.waiting]) p.reject(closed);
    this.pending.clear();
    this.waiting.length = 0;
    await this.o.socket.close();
  }

  private issue(request: CallRequest): Promise<Reply> {
    if (this.state === 'closed') return Promise.reject(new Error(`SAN session to ${this.address} is closed`));
    if (this.state === 'recovering') return Promise.reject(new PathDown(this.address, this.lastError ?? 'logging in again'));
    return new Promise<Reply>((resolve, reject) => {
      this.waiting.push({ request, resolve, reject, xid: 0, slot: -1, seq: 0 });
      this.dispatch();
    });
  }

  /** Give waiting calls free slots and send them, while the session is up. */
  private dispatch(): void {
    if (!this.channel || this.state === 'recovering' || this.state === 'closed') return;
    while (this.waiting.length > 0 && this.freeSlots.length > 0) {
      const p = this.waiting.shift()!;
      const slot = this.freeSlots.pop()!;
      this.send(p, slot);
    }
  }

  private send(p: PendingCall, slot: number): void {
    const lun = p.request.volume === undefined ? 0 : this.luns.get(p.request.volume);
    if (lun === undefined) {
      this.freeSlots.push(slot);
      p.reject(new SanError(Status.NOT_ASSIGNED, `the volume is no longer assigned to host '${this.o.host}' (gateway ${this.address})`, this.address));
      return;
    }
    p.slot = slot;
    p.seq = this.seqs[slot] = (this.seqs[slot] + 1) >>> 0;
    p.xid = this.nextXid = (this.nextXid + 1) >>> 0 || 1;
    // The request becomes the call: LUN, slot and sequence are set on it here (again when it is resent),
    // instead of copying it with rest and spread per call, which made new object shapes at every call site
    // (a tenth of the client's CPU at 4 KiB). encodeCallParts reads the call's fields only, not volume or into.
    const call = p.request as CallRequest & { lun: number; slot: number; seq: number };
    call.lun = lun;
    call.slot = slot;
    call.seq = p.seq;
    const into = call.into;
    // A WRITE's data is not copied: it is segmented and sealed from the caller's buffer (Volume.write says so).
    const message = encodeCallParts(call as unknown as Call);
    this.pending.set(p.xid, p);
    // A READ reply is its 8-byte prefix then the data: the data reassembles in the caller's buffer.
    if (into) this.channel!.expect(p.xid, { skip: READ_REPLY_PREFIX, into });
    for (const piece of message) this.totals.bytesSent += piece.length;
    this.lastSent = this.o.clock.now();
    this.channel!.send(Kind.CALL_SEG, p.xid, message);
  }

  private onReply(xid: number, message: Buffer, placed = false): void {
    const p = this.pending.get(xid);
    this.channel?.settle(xid);
    if (!p) return;
    let reply: Reply;
    try {
      reply = decodeReply(message);
    } catch {
      return; // a damaged reply passed CRC and GCM: impossible short of a bug; the call is retried on timeout
    }
    if (reply.slot !== p.slot || reply.seq !== p.seq) return;
    const into = p.request.into;
    if (into && reply.op === Opcode.READ && reply.status === Status.OK) {
      // Placed: the data is in `into` already. Otherwise (one datagram) it is copied there, if it fits.
      if (!placed && reply.data.length === into.length) reply.data.copy(into);
      if (placed || reply.data.length === into.length) reply.data = into;
    }
    this.pending.delete(xid);
    this.freeSlots.push(p.slot);
    this.totals.ops++;
    this.totals.bytesReceived += message.length;
    if (reply.status === Status.BUSY) {
      // The gateway dropped a cached reply for memory: ask again as a new call.
      this.waiting.unshift(p);
    } else if (reply.status === Status.NO_SESSION) {
      this.waiting.unshift(p);
      this.recover('the gateway lost the session');
    } else if (reply.op === Opcode.NOP && reply.status === Status.OK && reply.bootVerifier !== this.bootVerifier) {
      p.resolve(reply);
      this.recover('the gateway restarted (boot verifier changed)');
    } else {
      p.resolve(reply);
    }
    this.dispatch();
  }

  /** The gateway stopped answering a call: the path is down, or the gateway restarted. */
  private onCallFailed(xid: number): void {
    if (!this.pending.has(xid)) return;
    this.recover('a call got no answer through every retransmission');
  }

  /**
   * The path is down: fail what is outstanding with PathDown (the volume
   * layer sends it again elsewhere, or here once back: a write may run
   * twice, which block semantics allow) and log in again in the background.
   */
  private recover(why: string): void {
    if (this.state === 'closed') return;
    this.dropChannel();
    const outstanding = [...[...this.pending.values()].sort((a, b) => (a.xid - b.xid) | 0), ...this.waiting];
    this.pending.clear();
    this.waiting.length = 0;
    const down = new PathDown(this.address, why);
    for (const p of outstanding) p.reject(down);
    // Still in connect() (its DISCOVER failed): connect fails, and the client decides. Already recovering: that
    // was a login attempt's DISCOVER; the loop tries again.
    if (this.state === 'ready') this.enterRecovery(why);
  }

  private enterRecovery(why: string): void {
    this.state = 'recovering';
    this.lastError = why;
    this.downSince = this.o.clock.now();
    this.o.onStateChange?.(this);
    void this.relogin();
  }

  /** Log in again until it works or the session is closed; DISCOVER maps volumes to the new LUNs before any call goes. */
  private async relogin(): Promise<void> {
    let pause = 100;
    while (this.state === 'recovering') {
      try {
        await this.login(this.o.connectTimeoutMs);
        const r = await this.direct({ op: Opcode.DISCOVER, flags: 0 });
        if (r.status !== Status.OK || r.op !== Opcode.DISCOVER) throw this.failure(r);
        if ((this.state as string) !== 'recovering') return;
        this.volumes = r.volumes;
        this.luns = new Map(r.volumes.map((v) => [idKey(v.id), v.lun]));
        this.state = 'ready';
        this.lastError = undefined;
        this.armKeepalive();
        this.o.onStateChange?.(this);
        this.dispatch();
        return;
      } catch (e) {
        this.lastError = `${e instanceof Error ? e.message : String(e)}`;
        this.dropChannel();
        if ((this.state as string) !== 'recovering') return;
        // A refusal comes back at once (AUTH_FAILED): do not spin; an unanswered login already took its timeout.
        await new Promise((r) => (this.retryTimer = this.o.clock.setTimer(pause, () => r(undefined))));
        pause = Math.min(pause * 2, 2000);
      }
    }
  }

  /** A call sent at once on a free slot of a fresh login, around the waiting queue (DISCOVER while recovering). */
  private direct(request: CallRequest): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      const slot = this.freeSlots.pop();
      if (slot === undefined || !this.channel) return reject(new PathDown(this.address, 'no channel'));
      this.send({ request, resolve, reject, xid: 0, slot: -1, seq: 0 }, slot);
    });
  }

  private dropChannel(): void {
    if (!this.channel) return;
    this.totals.retransmits += this.channel.stats.retransmits;
    this.totals.timeouts += this.channel.stats.timeouts;
    this.channel.close();
    this.batcher?.clear();
    this.channel = undefined;
  }

  /** HELLO/CHALLENGE/PROOF/WELCOME (docs/san-protocol.md, section 4), retransmitting until `timeoutMs`. */
  private async login(timeoutMs: number): Promise<void> {
    const deadline = this.o.clock.now() + timeoutMs;
    const eph = ephemeral();
    const hello: Hello = {
      step: 1,
      minVersion: VERSION,
      maxVersion: VERSION,
      clientNonce: randomBytes(32),
      clientKey: eph.publicKey,
      host: this.o.host,
      datagramSize: this.o.datagramSize,
      security: this.o.security,
    };
    const xid = randomBytes(4).readUInt32BE();
    const first = await this.exchange(0, xid, 2, encodeLogin(hello), deadline, 'the login (HELLO)');
    const challenge = decodeLogin(first) as Challenge;
    if (challenge.status !== Status.OK) throw this.loginRefused(challenge.status, challenge.message);
    const t = transcript(hello, challenge);
    const keys = deriveSessionKeys(eph.privateKey, challenge.serverKey, hello.clientNonce, challenge.serverNonce, t);
    const proof = encodeLogin({ step: 3, signature: signTranscript(this.o.key, t) });
    // WELCOME comes sealed: install the keys and a fresh replay window first.
    this.keys = keys;
    this.sessionId = challenge.sessionId;
    this.replay = new ReplayWindow();
    this.packetNumber = 0n;
    const second = await this.exchange(challenge.sessionId, (xid + 1) >>> 0, 4, proof, deadline, 'the login (PROOF)');
    const welcome = decodeLogin(second) as Welcome;
    if (welcome.status !== Status.OK) {
      this.sessionId = 0;
      throw this.loginRefused(welcome.status, welcome.message);
    }
    this.bootVerifier = challenge.bootVerifier;
    this.datagramSize = challenge.datagramSize;
    this.grant = 0;
    this.capacity = segmentCapacity(challenge.datagramSize);
    this.maxTransfer = challenge.maxTransfer;
    this.seqs = new Uint32Array(challenge.slots);
    this.freeSlots = Array.from({ length: challenge.slots }, (_, i) => challenge.slots - 1 - i);
    this.totals.logins++;
    this.batcher?.clear();
    const batcher = new SegmentBatcher(this.capacity, (d) => this.emit(d));
    this.batcher = batcher;
    this.channel = new Channel({
      role: 'client',
      clock: this.o.clock,
      capacity: this.capacity,
      emit: (d) => batcher.push(d),
      deliver: (x, m, placed) => this.onReply(x, m, placed),
      failed: (x) => this.onCallFailed(x),
      reassemblyBytes: Math.min(1 << 30, challenge.slots * (challenge.maxTransfer + 64)),
      maxMessage: challenge.maxTransfer + 64,
    });
    this.channel.setPeerCredits(welcome.credits);
  }

  private loginRefused(status: Status, message: string): SanError {
    if (status === Status.AUTH_FAILED && message === identityRefusal(this.o.host)) {
      return new SanError(
        status,
        `gateway ${this.address} refused the login of host '${this.o.host}' (${message}): the host is unknown there, or this key is not the one registered for it`,
        this.address,
        true,
      );
    }
    return new SanError(status, `gateway ${this.address} refused the login: ${message}`, this.address);
  }

  private exchange(sessionId: number, xid: number, step: 2 | 4, payload: Buffer, deadline: number, what: string) {
    const dgram = encodeDatagram(
      { version: VERSION, kind: Kind.LOGIN, flags: 0, sessionId, xid, segment: 0, segments: 1, messageLength: payload.length, packetNumber: 0n, credits: 0 },
      payload,
    );
    const started = this.o.clock.now();
    return new Promise<Buffer>((resolve, reject) => {
      let wait = 100;
      let sent = 0;
      let timer: TimerHandle;
      const attempt = () => {
        if (this.state === 'closed') return reject(new Error(`SAN session to ${this.address} closed`));
        const now = this.o.clock.now();
        if (now >= deadline) {
          this.loginWait = undefined;
          return reject(new GatewayUnreachable(this.address, now - started, what, sent));
        }
        sent++;
        this.o.socket.send(dgram, this.o.gateway.port, this.o.gateway.address);
        timer = this.o.clock.setTimer(Math.min(wait, deadline - now), attempt);
        wait = Math.min(wait * 2, 1000);
      };
      this.loginWait = {
        xid,
        step,
        resolve: (m) => {
          this.o.clock.clearTimer(timer);
          this.loginWait = undefined;
          resolve(m);
        },
        cancel: () => {
          this.o.clock.clearTimer(timer);
          this.loginWait = undefined;
          reject(new Error(`SAN session to ${this.address} closed`));
        },
      };
      attempt();
    });
  }

  private onDatagram(buf: Buffer, from: Peer): void {
    if (from.port !== this.o.gateway.port || from.address !== this.o.gateway.address || this.state === 'closed') return;
    let d: Datagram;
    try {
      d = decodeDatagram(buf);
    } catch {
      return; // corrupted on the way: the transport retransmits
    }
    const h = d.header;
    if (h.kind === Kind.LOGIN_REPLY) return this.onLoginReply(d, buf);
    if ((h.flags & Flag.SEALED) === 0) {
      // Unsealed ERROR: only NO_SESSION (the gateway does not know us) is worth acting on.
      if (h.kind === Kind.ERROR && h.sessionId === this.sessionId && this.sessionId !== 0) {
        try {
          if (decodeError(d.payload).status === Status.NO_SESSION) this.recover('the gateway does not know this session (restarted?)');
        } catch {
          /* not an ERROR payload */
        }
      }
      return;
    }
    if (h.sessionId !== this.sessionId || !this.keys || !this.channel) return;
    let plain: Buffer;
    try {
      plain = openDatagram(this.keys.serverToClient, 2, d, buf);
    } catch {
      return;
    }
    if (!this.replay.accept(h.packetNumber)) return;
    this.channel.setPeerCredits(h.credits);
    try {
      if (h.kind === Kind.BUNDLE) for (const e of decodeBundle(plain)) this.onSegment(e.kind, e.xid, e.segment, e.segments, e.messageLength, e.payload);
      else this.onSegment(h.kind, h.xid, h.segment, h.segments, h.messageLength, plain);
    } catch (e) {
      if (!(e instanceof SbpDecodeError)) throw e;
    }
  }

  private onSegment(kind: Kind, xid: number, segment: number, segments: number, messageLength: number, payload: Buffer): void {
    if (kind === Kind.REPLY_SEG) this.channel!.onSegment(xid, segment, segments, messageLength, payload);
    else if (kind === Kind.ACK) this.channel!.onAck(xid, payload);
    else if (kind === Kind.ERROR) this.onError(xid, payload);
  }

  private onLoginReply(d: Datagram, raw: Buffer): void {
    const w = this.loginWait;
    if (!w || d.header.xid !== w.xid) return;
    let message = d.payload;
    if ((d.header.flags & Flag.SEALED) !== 0) {
      if (!this.keys || d.header.sessionId !== this.sessionId) return;
      try {
        message = openDatagram(this.keys.serverToClient, 2, d, raw);
      } catch {
        return;
      }
      if (!this.replay.accept(d.header.packetNumber)) return;
    } else if (w.step === 4) {
      // Unsealed is only ever a refusal; an OK WELCOME must be sealed under the keys we derived.
      try {
        const m = decodeLogin(message);
        if (m.step !== 4 || m.status === Status.OK) return;
      } catch {
        return;
      }
    }
    try {
      if (decodeLogin(message).step !== w.step) return;
    } catch {
      return;
    }
    w.resolve(message);
  }

  /** A sealed ERROR about one call: it will never be answered otherwise. */
  private onError(xid: number, payload: Buffer): void {
    const p = this.pending.get(xid);
    if (!p) return;
    const e = decodeError(payload);
    this.channel?.settle(xid);
    this.pending.delete(xid);
    this.freeSlots.push(p.slot);
    p.reject(new SanError(e.status, `gateway ${this.address}: ${e.message}`, this.address));
    this.dispatch();
  }

  private emit(d: OutgoingSegment): void {
    const parts = sealDatagramParts(
      this.keys!.clientToServer,
      1,
      {
        version: VERSION,
        kind: d.kind,
        flags: 0,
        sessionId: this.sessionId,
        xid: d.xid,
        segment: d.segment,
        segments: d.segments,
        messageLength: d.messageLength,
        packetNumber: ++this.packetNumber,
        credits: this.credits(),
      },
      d.payload,
      this.o.security === Security.INTEGRITY,
    );
    this.o.socket.send(parts, this.o.gateway.port, this.o.gateway.address);
  }

  /** The datagrams the socket's receive buffer holds, as the kernel granted it (all of it is this session's). */
  private credits(): number {
    if (this.grant === 0) {
      const granted = this.o.socket.bufferSizes?.().recv ?? 2 * SOCKET_BUFFER;
      this.grant = Math.max(4, datagramsThatFit(granted, this.datagramSize || DEFAULT_DATAGRAM_SIZE));
    }
    return this.grant;
  }

  private failure(r: Reply): SanError {
    return new SanError(r.status, `gateway ${this.address}: ${'message' in r ? r.message : 'unexpected reply'}`, this.address);
  }

  /** Idle sessions send NOP: the gateway keeps them, and a changed boot verifier reveals a restart. */
  private armKeepalive(): void {
    if (this.keepalive) this.o.clock.clearTimer(this.keepalive);
    this.keepalive = this.o.clock.setTimer(this.o.keepaliveMs, () => {
      if (this.state === 'closed') return;
      if (this.state === 'ready' && this.pending.size === 0 && this.o.clock.now() - this.lastSent >= this.o.keepaliveMs) {
        this.issue({ op: Opcode.NOP, flags: 0, time: BigInt(Date.now()) }).catch(() => undefined);
      }
      this.armKeepalive();
    });
  }
}
