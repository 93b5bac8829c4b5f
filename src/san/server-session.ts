import { encodeError } from '../protocols/san/ack';
import { decodeBundle } from '../protocols/san/bundle';
import { Flag, Kind, Opcode, SbpDecodeError, Status, VERSION } from '../protocols/san/constants';
import { openDatagram, sealDatagramParts, type Datagram } from '../protocols/san/datagram';
import { Security } from '../protocols/san/login';
import { decodeCall, encodeReply, type Call, type ReplicaMetadataSum, type Reply } from '../protocols/san/message';
import { segmentCapacity } from '../protocols/san/segments';
import type { VolumeIo } from '../virtualization/mirrored-disk';
import { COMMANDS, type Command, type CommandContext, type ReplyBody } from './commands/command-table';
import { LunTable } from './commands/lun-table';
import { ReplayWindow } from './replay-window';
import type { Reservations } from './reservations';
import type { ReplyBuffers } from './reply-buffers';
import type { SanStats } from './san-stats';
import { statusOf } from './san-status';
import type { SanHost, SanView } from './san-view';
import type { SessionKeys } from './session-keys';
import { SlotTable } from './slot-table';
import { Channel, type OutgoingSegment } from './transport/channel';
import { SegmentBatcher } from './transport/segment-batcher';
import type { Clock } from './transport/clock';
import type { DatagramSocket, Peer } from './transport/datagram-socket';

export interface SessionDeps {
  clock: Clock;
  socket: DatagramSocket;
  stats: SanStats;
  view: SanView;
  disk(volumeId: string): VolumeIo | undefined;
  reservations: Reservations;
  bootVerifier: bigint;
  maxTransfer: number;
  /** Bytes of replies the slot table may cache for this session. */
  replyCacheBytes: number;
  /** Large READ reply buffers, shared by the sessions of the listener. */
  replyBuffers: ReplyBuffers;
  /** Credits to grant the client in every datagram. */
  credits(): number;
  fault(err: unknown, what: string): void;
  ended(session: ServerSession): void;
  /** REPLICA_COMMIT's and REPLICA_META's effect in the storage manager (absent: the gateway keeps no replicas). */
  replicas?: ReplicaHooks;
}

/** The target side of replication, as the SAN commands reach it (section 10). */
export interface ReplicaHooks {
  commit(host: SanHost, volumeId: string, cycle: number, metadata?: ReplicaMetadataSum): Promise<void>;
  metadata(host: SanHost, volumeId: string, cycle: number, base: number, offset: number, data: Buffer): Promise<void>;
}

/** Xids of recent calls, to find the slot a retransmitted call used. */
const RECENT_CALLS = 4096;

/**
 * The reply a command made, with its call's slot and sequence set on it (the
 * body is the command's own fresh object): a spread per call made new object
 * shapes for every command.
 */
function slotted(body: ReplyBody, call: Call): Reply {
  const reply = body as ReplyBody & { slot: number; seq: number };
  reply.slot = call.slot;
  reply.seq = call.seq;
  return reply as Reply;
}

/**
 * One logged-in session: its keys, packet numbers and replay window, the
 * transport channel, the slot table (exactly once) and the LUN table.
 * Calls are decoded, admitted by slot and sequence, and dispatched through
 * COMMANDS; their replies are cached per slot for retransmissions.
 */
export class ServerSession {
  readonly channel: Channel;
  readonly luns = new LunTable();
  lastHeard: number;
  /** The sealed WELCOME, resent if the client's PROOF comes again. */
  welcome: Buffer | undefined;
  private packetNumber = 0n;
  private readonly replay = new ReplayWindow();
  private readonly slots: SlotTable;
  private readonly calls = new Map<number, { slot: number; seq: number }>();
  /** Pooled replies (ReplyBuffers) still held: by the slot table (one hold) and by each send the channel has not released. */
  private readonly holds = new Map<Buffer, number>();
  private readonly ctx: CommandContext;
  private readonly batcher: SegmentBatcher;
  /** Payload bytes per segment. */
  private readonly capacity: number;
  private ending = false;
  private ended = false;

  constructor(
    readonly id: number,
    readonly host: SanHost,
    readonly peer: Peer,
    private readonly keys: SessionKeys,
    readonly security: Security,
    readonly datagramSize: number,
    slotCount: number,
    private readonly deps: SessionDeps,
  ) {
    this.lastHeard = deps.clock.now();
    this.capacity = segmentCapacity(datagramSize);
    this.slots = new SlotTable(slotCount, deps.replyCacheBytes, (reply) => this.letGo(reply));
    this.batcher = new SegmentBatcher(this.capacity, (d) => this.emit(d));
    this.channel = new Channel({
      role: 'server',
      clock: deps.clock,
      capacity: this.capacity,
      emit: (d) => this.batcher.push(d),
      deliver: (xid, message) => this.onCall(xid, message),
      failed: () => undefined,
      redeliver: (xid) => this.redeliver(xid),
      released: (xid, message) => {
        if (!Buffer.isBuffer(message)) return;
        // A reply of several segments is released once all of them were acknowledged (or given up on): a READ's need not stay cached.
        if (message.length > this.capacity) this.forgetDelivered(xid);
        this.letGo(message);
      },
      // Enough for every slot to have a WRITE arriving at once, within a bound.
      reassemblyBytes: Math.min(512 * 2 ** 20, slotCount * (deps.maxTransfer + 64)),
      maxMessage: deps.maxTransfer + 64,
    });
    this.ctx = {
      sessionId: id,
      hostId: host.id,
      hostName: host.name,
      hostKey: host.key,
      integrityOnly: security === Security.INTEGRITY,
      luns: this.luns,
      view: deps.view,
      disk: deps.disk,
      reservations: deps.reservations,
      bootVerifier: deps.bootVerifier,
      maxTransfer: deps.maxTransfer,
      replyBuffer: (length) => deps.replyBuffers.take(length),
      logout: () => (this.ending = true),
      replicaCommit: deps.replicas ? (volumeId, cycle, metadata) => deps.replicas!.commit(host, volumeId, cycle, metadata) : undefined,
      replicaMetadata: deps.replicas ? (volumeId, cycle, base, offset, data) => deps.replicas!.metadata(host, volumeId, cycle, base, offset, data) : undefined,
    };
  }

  /** The listener this session logged in on and answers from. */
  get socket(): DatagramSocket {
    return this.deps.socket;
  }

  /** A datagram addressed to this session, already CRC-checked. */
  onDatagram(d: Datagram, raw: Buffer, from: Peer): void {
    const stats = this.deps.stats;
    if (from.port !== this.peer.port || from.address !== this.peer.address) {
      stats.unexpected++;
      return;
    }
    if ((d.header.flags & Flag.SEALED) === 0 || raw.length > this.datagramSize) {
      stats.unexpected++;
      return;
    }
    let plain: Buffer;
    try {
      plain = openDatagram(this.keys.clientToServer, 1, d, raw);
    } catch {
      stats.forged++;
      return;
    }
    // After authentication, so a forged number cannot move the window.
    if (!this.replay.accept(d.header.packetNumber)) {
      stats.replayed++;
      return;
    }
    this.lastHeard = this.deps.clock.now();
    this.channel.setPeerCredits(d.header.credits);
    const h = d.header;
    try {
      if (h.kind === Kind.BUNDLE) for (const e of decodeBundle(plain)) this.onSegment(e.kind, e.xid, e.segment, e.segments, e.messageLength, e.payload);
      else this.onSegment(h.kind, h.xid, h.segment, h.segments, h.messageLength, plain);
    } catch (e) {
      if (!(e instanceof SbpDecodeError)) throw e;
      stats.malformed++;
      this.sendError(h.xid, e.status, e.message);
    }
  }

  private onSegment(kind: Kind, xid: number, segment: number, segments: number, messageLength: number, payload: Buffer): void {
    if (kind === Kind.CALL_SEG) this.channel.onSegment(xid, segment, segments, messageLength, payload);
    else if (kind === Kind.ACK) this.channel.onAck(xid, payload);
    else this.deps.stats.unexpected++;
  }

  /** End the session: timers stop, its reservations go. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.channel.close();
    this.batcher.clear();
    // Buffers still held stay lent: the pool forgets them when they are collected, and never reuses them.
    this.holds.clear();
    this.deps.reservations.releaseSession(this.id);
    this.deps.ended(this);
  }

  /** Seal and send a LOGIN_REPLY (WELCOME) under the new keys. */
  sealed(kind: Kind, xid: number, payload: Buffer): Buffer {
    return Buffer.concat(this.seal({ kind, xid, segment: 0, segments: 1, messageLength: payload.length, payload }));
  }

  private onCall(xid: number, message: Buffer): void {
    const stats = this.deps.stats;
    let call: Call;
    try {
      call = decodeCall(message);
    } catch (e) {
      if (!(e instanceof SbpDecodeError)) throw e;
      stats.malformed++;
      this.sendError(xid, e.status, e.message);
      return;
    }
    stats.calls++;
    this.remember(xid, call);
    const admission = this.slots.admit(call.slot, call.seq);
    switch (admission.kind) {
      case 'new':
        this.execute(xid, call);
        return;
      case 'replay':
        stats.callsReplayed++;
        if (admission.reply && !this.channel.sending(xid)) this.send(xid, admission.reply);
        return;
      case 'evicted':
        stats.callErrors++;
        this.send(xid, encodeReply({ op: call.op, status: Status.BUSY, slot: call.slot, seq: call.seq, message: 'the reply was dropped for memory: send the call again on a new sequence' }));
        return;
      case 'misordered':
        stats.callsMisordered++;
        this.send(xid, encodeReply({ op: call.op, status: Status.SEQ_MISORDERED, slot: call.slot, seq: call.seq, message: `slot ${call.slot} expects sequence ${admission.expected}, not ${call.seq}` }));
        return;
      case 'bad-slot':
        stats.callErrors++;
        this.send(xid, encodeReply({ op: call.op, status: Status.BAD_SLOT, slot: call.slot, seq: call.seq, message: `slot ${call.slot} is beyond the ${admission.slots} granted` }));
        return;
    }
  }

  private execute(xid: number, call: Call): void {
    const command = COMMANDS[call.op] as Command<Opcode>;
    const done = (reply: Buffer) => {
      if (this.ended) return;
      // The slot table's hold and the send's, both before complete(): it may evict this very reply at once.
      this.hold(reply, 2);
      this.slots.complete(call.slot, call.seq, reply, command.rereadable);
      this.channel.send(Kind.REPLY_SEG, xid, reply);
      if (this.ending) {
        // LOGOUT: its reply goes now, before end() clears what waits to be sent.
        this.batcher.flush();
        this.end();
      }
    };
    command.handle(this.ctx, call as never).then(
      (body: ReplyBody | Buffer) => done(Buffer.isBuffer(body) ? body : encodeReply(slotted(body, call))),
      (err: unknown) => {
        const { status, message, fault } = statusOf(err);
        this.deps.stats.callErrors++;
        if (fault) {
          this.deps.stats.serverFaults++;
          this.deps.fault(err, `${command.name} from host ${this.host.name}`);
        }
        done(encodeReply({ op: call.op, status, slot: call.slot, seq: call.seq, message }));
      },
    );
  }

  /** `holders` more holders of `reply`, if it is a pooled buffer. */
  private hold(reply: Buffer, holders = 1): void {
    if (this.deps.replyBuffers.owns(reply)) this.holds.set(reply, (this.holds.get(reply) ?? 0) + holders);
  }

  /** A holder let go of `reply`: with none left, the buffer goes back to the pool. */
  private letGo(reply: Buffer): void {
    const n = this.holds.get(reply);
    if (n === undefined) return;
    if (n > 1) {
      this.holds.set(reply, n - 1);
      return;
    }
    this.holds.delete(reply);
    this.deps.replyBuffers.give(reply);
  }

  /** A call delivered before came again: resend its reply if there is one and it is not still on its way. */
  private redeliver(xid: number): void {
    const c = this.calls.get(xid);
    if (!c) return;
    // Only a look: admit() would start a call that was refused before (SEQ_MISORDERED) as if it ran, and nothing would run it.
    const reply = this.slots.cached(c.slot, c.seq);
    if (reply) {
      this.deps.stats.callsReplayed++;
      if (!this.channel.sending(xid)) this.send(xid, reply);
    }
  }

  /**
   * Large READ replies would otherwise stay in the reply cache until their
   * slot is used again: up to the cache's 64 MiB per session, held for as
   * long as the session lasts, in every session that ever read.
   */
  private forgetDelivered(xid: number): void {
    const c = this.calls.get(xid);
    if (c) this.slots.delivered(c.slot, c.seq);
  }

  private remember(xid: number, call: Call): void {
    this.calls.set(xid, { slot: call.slot, seq: call.seq });
    if (this.calls.size > RECENT_CALLS) this.calls.delete(this.calls.keys().next().value as number);
  }

  private send(xid: number, reply: Buffer): void {
    this.hold(reply);
    this.channel.send(Kind.REPLY_SEG, xid, reply);
  }

  private sendError(xid: number, status: Status, message: string): void {
    const payload = encodeError({ status, minVersion: VERSION, maxVersion: VERSION, message: message.slice(0, 400) });
    this.emit({ kind: Kind.ERROR, xid, segment: 0, segments: 1, messageLength: payload.length, payload });
  }

  private seal(d: OutgoingSegment): Buffer[] {
    return sealDatagramParts(
      this.keys.serverToClient,
      2,
      {
        version: VERSION,
        kind: d.kind,
        flags: 0,
        sessionId: this.id,
        xid: d.xid,
        segment: d.segment,
        segments: d.segments,
        messageLength: d.messageLength,
        packetNumber: ++this.packetNumber,
        credits: this.deps.credits(),
      },
      d.payload,
      this.security === Security.INTEGRITY,
    );
  }

  private emit(d: OutgoingSegment): void {
    const parts = this.seal(d);
    const stats = this.deps.stats;
    stats.datagramsOut++;
    stats.bytesOut += parts[0].length + parts[1].length + parts[2].length;
    this.deps.socket.send(parts, this.peer.port, this.peer.address);
  }
}
