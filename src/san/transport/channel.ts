import { decodeAck, encodeAck, rangesOf, type SegmentRange } from '../../protocols/san/ack';
import { Kind } from '../../protocols/san/constants';
import { segment, type Placement } from '../../protocols/san/segments';
import type { Clock, TimerHandle } from './clock';
import { CongestionWindow, DEFAULT_CONGESTION, type CongestionLimits } from './congestion-window';
import { Pacer } from './pacer';
import { ReassemblyTable } from './reassembly-table';
import { DEFAULT_RTO, RtoEstimator, type RtoLimits } from './rto-estimator';

/*
 * Reliable messages over datagrams for one session (docs/san-protocol.md,
 * section 6): segmentation, selective ACKs, retransmission of only the
 * missing segments on an RFC 6298 timer, a congestion window bounded by the
 * peer's credits, pacing, and reassembly. The session around it numbers,
 * seals and sends each datagram (`emit`) and feeds in what it opened.
 *
 * The two ends differ in who keeps a message alive:
 *  - client: a CALL stays tracked until its REPLY arrives (settle). A
 *    one-segment CALL is acknowledged by its reply; once a CALL is fully
 *    acknowledged the client probes with its last segment on the timer, and
 *    the server answers a probe with an ACK (still executing) or the reply.
 *  - server: a one-segment REPLY is sent once (the client's retransmitted
 *    CALL fetches it again from the slot table); a longer REPLY is tracked
 *    until fully acknowledged. A segment of a CALL already delivered is
 *    answered with a full ACK and reported (`redeliver`).
 */

export type Role = 'client' | 'server';

export interface OutgoingSegment {
  kind: Kind;
  xid: number;
  segment: number;
  segments: number;
  messageLength: number;
  payload: Buffer;
}

export interface ChannelOptions {
  role: Role;
  clock: Clock;
  /** Payload bytes per segment. */
  capacity: number;
  emit(d: OutgoingSegment): void;
  /** A complete message from the peer; `placed`: only its header, the rest went to the placement given with expect(). */
  deliver(xid: number, message: Buffer, placed?: boolean): void;
  /** A tracked message got no sign of life from the peer for `maxAttempts` timeouts in a row. */
  failed(xid: number): void;
  /** Server: a CALL already delivered was sent again (its reply was lost, or it is still executing). */
  redeliver?(xid: number): void;
  /**
   * The channel no longer refers to `message`, which it was given to send as
   * `xid`: fully acknowledged, given up on, replaced by a new send of the same
   * xid, or (a server's one-segment REPLY) emitted once. Once per send() that
   * was not refused for a closed channel; never by close().
   */
  released?(xid: number, message: Buffer | readonly Buffer[]): void;
  rto?: RtoLimits;
  congestion?: CongestionLimits;
  /** Timeouts in a row without progress before a message fails. */
  maxAttempts?: number;
  /** Delayed ACK (ms). */
  ackDelay?: number;
  /** Bytes of partial messages held at once. */
  reassemblyBytes: number;
  /** Largest message accepted. */
  maxMessage: number;
  /** A partial message idle this long (ms) is dropped. */
  reassemblyTimeout?: number;
}

/** Counters of one channel; plain numbers, for per-session stats and metrics. */
export interface ChannelStats {
  segmentsSent: number;
  bytesSent: number;
  retransmits: number;
  timeouts: number;
  /** Timeouts an ACK later proved spurious (the data had arrived); their window reduction was undone. */
  spuriousTimeouts: number;
  fastRetransmits: number;
  segmentsReceived: number;
  bytesReceived: number;
  duplicateSegments: number;
  acksSent: number;
  acksReceived: number;
  refusedForMemory: number;
  expiredReassemblies: number;
}

const enum SegState {
  IDLE = 0,
  IN_FLIGHT = 1,
  ACKED = 2,
}

class Outgoing {
  readonly state: Uint8Array;
  readonly sends: Uint8Array;
  readonly sentAt: Float64Array;
  readonly holes: Uint8Array;
  acked = 0;
  /** Next segment never sent yet. */
  nextFresh = 0;
  attempts = 0;
  deadline = Infinity;
  done = false;

  constructor(
    readonly xid: number,
    readonly kind: Kind,
    /** What the caller gave to send (parts are views of it). */
    readonly message: Buffer | readonly Buffer[],
    readonly parts: Buffer[],
    readonly length: number,
    readonly awaitsReply: boolean,
  ) {
    const n = parts.length;
    this.state = new Uint8Array(n);
    this.sends = new Uint8Array(n);
    this.sentAt = new Float64Array(n);
    this.holes = new Uint8Array(n);
  }

  get complete(): boolean {
    return this.acked === this.parts.length;
  }
}

const RECENT = 4096;
/** Segments the pacer lets go at once even with a small window. */
const MIN_BURST = 16;
/** In-order segments per ACK: often enough to clock the sender and free its window, few enough to cost little. */
const ACK_EVERY = 4;

export class Channel {
  readonly stats: ChannelStats = {
    segmentsSent: 0,
    bytesSent: 0,
    retransmits: 0,
    timeouts: 0,
    spuriousTimeouts: 0,
    fastRetransmits: 0,
    segmentsReceived: 0,
    bytesReceived: 0,
    duplicateSegments: 0,
    acksSent: 0,
    acksReceived: 0,
    refusedForMemory: 0,
    expiredReassemblies: 0,
  };
  readonly rtt: RtoEstimator;
  readonly cwnd: CongestionWindow;
  private readonly pacer: Pacer;
  private readonly outgoing = new Map<number, Outgoing>();
  /** Messages with segments never sent, in order. */
  private fresh: Outgoing[] = [];
  /** Segments to send again, before any fresh one. */
  private resend: Array<[Outgoing, number]> = [];
  private inFlight = 0;
  private peerCredits = 16;
  private readonly incoming: ReassemblyTable;
  /** Recently delivered xids (server: to recognize a retransmitted CALL), oldest first. */
  private readonly delivered = new Set<number>();
  /** Client: where the reply to a call goes, when the caller has a buffer for it (expect()). */
  private readonly places = new Map<number, Placement>();
  private readonly ackDue = new Set<number>();
  /**
   * Server: one-segment CALLs delivered and not yet answered. If the reply
   * takes longer than the ACK delay they are acknowledged, so the client
   * knows the call arrived: its later timeouts are then probes of a slow
   * call, not losses that would shrink its window (a slow disk is not a
   * congested path).
   */
  private readonly unanswered = new Set<number>();
  private pumpTimer: TimerHandle | undefined;
  private retransmitTimer: TimerHandle | undefined;
  private retransmitAt = Infinity;
  private ackTimer: TimerHandle | undefined;
  private sweepTimer: TimerHandle | undefined;
  private closed = false;
  private readonly maxAttempts: number;
  private readonly ackDelay: number;
  private readonly reassemblyTimeout: number;
  private readonly rtoLimits: RtoLimits;

  constructor(private readonly o: ChannelOptions) {
    this.rtoLimits = o.rto ?? DEFAULT_RTO;
    this.rtt = new RtoEstimator(this.rtoLimits);
    this.cwnd = new CongestionWindow(o.congestion ?? DEFAULT_CONGESTION);
    this.pacer = new Pacer(MIN_BURST);
    this.maxAttempts = o.maxAttempts ?? 6;
    this.ackDelay = o.ackDelay ?? 2;
    this.reassemblyTimeout = o.reassemblyTimeout ?? 10_000;
    this.incoming = new ReassemblyTable(o.capacity, o.reassemblyBytes, o.maxMessage);
  }

  /** Datagrams the peer lets this side have in flight: its last grant. */
  get credits(): number {
    return this.peerCredits;
  }

  /** Segments sent and not yet acknowledged. */
  get flight(): number {
    return this.inFlight;
  }

  /** Credits the peer granted in its last datagram. */
  setPeerCredits(credits: number): void {
    const was = this.peerCredits;
    this.peerCredits = Math.max(1, credits);
    if (this.peerCredits > was) this.schedulePump();
  }

  /**
   * Send a message. Client CALLs await their reply; a server REPLY of one
   * segment is sent once, untracked.
   */
  send(kind: Kind, xid: number, message: Buffer | readonly Buffer[]): void {
    if (this.closed) return;
    this.unanswered.delete(xid);
    // Pieces (a WRITE's fields, then the caller's data) are sent from where they lie: `message` must not change until settled.
    const parts = segment(message, this.o.capacity);
    let length = 0;
    for (const p of parts) length += p.length;
    if (this.o.role === 'server' && parts.length === 1) {
      this.emit(kind, xid, 0, 1, length, parts[0]);
      this.o.released?.(xid, message);
      return;
    }
    const m = new Outgoing(xid, kind, message, parts, length, this.o.role === 'client');
    const previous = this.outgoing.get(xid);
    if (previous) this.drop(previous);
    this.outgoing.set(xid, m);
    this.fresh.push(m);
    this.pump();
  }

  /** Client: the reply to `xid`, past its first `place.skip` bytes, is to land in `place.into` (a READ's destination). */
  expect(xid: number, place: Placement): void {
    this.places.set(xid, place);
  }

  /** Whether `xid` is still being sent (server: a long REPLY not yet fully acknowledged). */
  sending(xid: number): boolean {
    return this.outgoing.has(xid);
  }

  /** Client: the reply to `xid` arrived; stop sending it. */
  settle(xid: number): void {
    this.places.delete(xid);
    const m = this.outgoing.get(xid);
    if (!m) return;
    this.ackAll(m);
    this.drop(m);
  }

  /** Stop tracking `xid` without a reply (the caller gave up on it). */
  forget(xid: number): void {
    // Nothing of a reply given up on may land in the caller's buffer any more.
    this.places.delete(xid);
    this.incoming.drop(xid);
    const m = this.outgoing.get(xid);
    if (m) this.drop(m);
  }

  /** An opened ACK datagram. */
  onAck(xid: number, payload: Buffer): void {
    this.stats.acksReceived++;
    const m = this.outgoing.get(xid);
    if (!m) return;
    const ranges = decodeAck(payload, m.parts.length);
    const now = this.o.clock.now();
    let fresh = 0;
    let highest = -1;
    let sample = -1;
    let coveredLost = false;
    for (const [first, last] of ranges) {
      for (let i = first; i <= last; i++) {
        if (m.state[i] === SegState.ACKED) continue;
        if (m.state[i] === SegState.IN_FLIGHT) this.inFlight--;
        // Declared lost by a timeout and not sent again since, yet acknowledged: the first send arrived.
        else if (m.sends[i] > 0) coveredLost = true;
        m.state[i] = SegState.ACKED;
        m.acked++;
        fresh++;
        if (m.sends[i] === 1 && (sample < 0 || m.sentAt[i] > m.sentAt[sample])) sample = i;
      }
      highest = last;
    }
    if (sample >= 0) this.rtt.sample(now - m.sentAt[sample]);
    // The timeout was spurious when everything it declared lost and that has not gone again has now arrived.
    if (coveredLost && !this.awaitsResend(m)) {
      this.stats.spuriousTimeouts++;
      this.cwnd.undoTimeout();
    }
    if (fresh > 0 || (m.complete && m.awaitsReply)) {
      // Progress, or the server saying it still executes the call: the peer is alive.
      m.attempts = 0;
      m.deadline = now + this.timeout(m);
      this.armRetransmit(m.deadline);
    }
    if (fresh > 0) this.cwnd.onAcked(fresh);
    // Segments below the highest acknowledged one that are still missing: a hole seen three times is a loss.
    for (let i = 0; i < highest; i++) {
      if (m.state[i] !== SegState.IN_FLIGHT) continue;
      if (++m.holes[i] === 3) {
        this.stats.fastRetransmits++;
        this.cwnd.onLoss();
        this.resend.push([m, i]);
      }
    }
    if (m.complete && !m.awaitsReply) this.drop(m);
    this.schedulePump();
  }

  /** Client: any sign that the reply to `xid` is coming keeps the call alive. */
  progress(xid: number): void {
    const m = this.outgoing.get(xid);
    if (!m) return;
    m.attempts = 0;
    m.deadline = this.o.clock.now() + this.timeout(m);
  }

  /** An opened CALL_SEG (server) or REPLY_SEG (client). */
  onSegment(xid: number, index: number, segments: number, length: number, payload: Buffer): void {
    this.stats.segmentsReceived++;
    this.stats.bytesReceived += payload.length;
    if (!this.incoming.has(xid)) {
      if (this.o.role === 'server' ? this.delivered.has(xid) : !this.outgoing.has(xid)) {
        // Already delivered (server) or no longer wanted (client): a full ACK stops the sender.
        this.stats.duplicateSegments++;
        this.sendAck(xid, [[0, segments - 1]]);
        if (this.o.role === 'server') this.o.redeliver?.(xid);
        return;
      }
      if (this.o.role === 'client') {
        // The first reply segment acknowledges the whole call; for a call sent once it is an RTT sample
        // (Karn), taken here rather than at the end of a long reply, whose transfer time is not the path's.
        const m = this.outgoing.get(xid)!;
        if (m.parts.length === 1 && m.sends[0] === 1) this.rtt.sample(this.o.clock.now() - m.sentAt[0]);
        this.ackAll(m);
      }
      if (segments === 1) {
        if (payload.length !== length) return;
        this.markDelivered(xid);
        if (this.o.role === 'server') this.ackIfSlow(xid);
        this.o.deliver(xid, payload);
        return;
      }
    }
    // Client: every reply segment shows the reply is coming; no need to probe while a long one streams in.
    if (this.o.role === 'client') this.progress(xid);
    const now = this.o.clock.now();
    const r = this.incoming.add(now, xid, index, segments, length, payload, this.places.get(xid));
    if (r.kind === 'refused') {
      this.stats.refusedForMemory++;
      return;
    }
    this.armSweep();
    if (r.kind === 'complete') {
      this.ackDue.delete(xid);
      this.sendAck(xid, [[0, segments - 1]]);
      this.markDelivered(xid);
      this.o.deliver(xid, r.message, r.entry.reassembly.placed);
      return;
    }
    if (r.duplicate) {
      // The sender is retransmitting: our ACK may have been lost.
      this.stats.duplicateSegments++;
      this.sendAckFor(xid);
      return;
    }
    // Out of order means a hole: say so at once, so the sender's hole count reaches fast retransmit.
    if (!r.inOrder || r.entry.unacked >= ACK_EVERY) this.sendAckFor(xid);
    else this.delayAck(xid);
  }

  /** Stop all timers and forget every message; the owner fails what was pending. */
  close(): void {
    this.closed = true;
    for (const t of [this.pumpTimer, this.retransmitTimer, this.ackTimer, this.sweepTimer]) if (t) this.o.clock.clearTimer(t);
    this.pumpTimer = this.retransmitTimer = this.ackTimer = this.sweepTimer = undefined;
    for (const m of this.outgoing.values()) m.done = true;
    this.outgoing.clear();
    this.fresh = [];
    this.resend = [];
    this.incoming.clear();
    this.unanswered.clear();
    this.places.clear();
  }

  /** Xids of tracked outgoing messages. */
  pending(): number[] {
    return [...this.outgoing.keys()];
  }

  /** Whether a segment of `m` a timeout declared lost is still unacknowledged and not yet sent again. */
  private awaitsResend(m: Outgoing): boolean {
    for (let i = 0; i < m.nextFresh; i++) if (m.state[i] === SegState.IDLE && m.sends[i] > 0) return true;
    return false;
  }

  private timeout(m: Outgoing): number {
    return Math.min(this.rtoLimits.max, this.rtt.rto * 2 ** m.attempts);
  }

  private markDelivered(xid: number): void {
    if (this.o.role !== 'server') return;
    this.delivered.add(xid);
    if (this.delivered.size > RECENT) this.delivered.delete(this.delivered.values().next().value as number);
  }

  private emit(kind: Kind, xid: number, index: number, segments: number, length: number, payload: Buffer): void {
    this.stats.segmentsSent++;
    this.stats.bytesSent += payload.length;
    this.o.emit({ kind, xid, segment: index, segments, messageLength: length, payload });
  }

  /** Acknowledged as a whole (by its reply): counts for the window like an ACK would. */
  private ackAll(m: Outgoing): void {
    let fresh = 0;
    for (let i = 0; i < m.parts.length; i++) {
      if (m.state[i] === SegState.IN_FLIGHT) {
        this.inFlight--;
        fresh++;
      }
      m.state[i] = SegState.ACKED;
    }
    m.acked = m.parts.length;
    if (fresh > 0) this.cwnd.onAcked(fresh);
  }

  private drop(m: Outgoing): void {
    if (m.done) return;
    m.done = true;
    if (this.o.role === 'client') {
      // A call given up on (or answered): no late segment of its reply may land in the caller's buffer.
      this.places.delete(m.xid);
      this.incoming.drop(m.xid);
    }
    for (let i = 0; i < m.parts.length; i++) if (m.state[i] === SegState.IN_FLIGHT) this.inFlight--;
    this.outgoing.delete(m.xid);
    this.o.released?.(m.xid, m.message);
    this.schedulePump();
  }

  private limit(): number {
    return Math.min(this.cwnd.size, this.peerCredits);
  }

  private schedulePump(): void {
    if (this.pumpTimer || this.closed) return;
    this.pumpTimer = this.o.clock.setTimer(0, () => {
      this.pumpTimer = undefined;
      this.pump();
    });
  }

  /** Send what the window, the peer's credits and the pacer allow, retransmissions first. */
  private pump(): void {
    if (this.closed) return;
    const now = this.o.clock.now();
    this.pacer.refill(now, this.limit(), this.pacingRtt());
    while (this.resend.length > 0) {
      const [m, i] = this.resend[0];
      if (m.done || m.state[i] === SegState.ACKED) {
        this.resend.shift();
        continue;
      }
      if (m.state[i] === SegState.IDLE && this.inFlight >= this.limit()) return;
      if (!this.pacer.take()) return this.waitForPacer();
      this.resend.shift();
      this.stats.retransmits++;
      this.transmit(m, i, now);
    }
    while (this.fresh.length > 0) {
      const m = this.fresh[0];
      if (m.done || m.nextFresh >= m.parts.length) {
        this.fresh.shift();
        continue;
      }
      if (this.inFlight >= this.limit()) return;
      if (!this.pacer.take()) return this.waitForPacer();
      this.transmit(m, m.nextFresh++, now);
    }
  }

  /**
   * The window is spread over the path's minimum RTT: the smoothed RTT of a
   * request/response protocol includes the time the peer spent executing
   * calls, and pacing by it would slow the sender as the peer gets busy.
   */
  private pacingRtt(): number {
    return this.rtt.minRtt ?? this.rtt.rto;
  }

  private waitForPacer(): void {
    if (this.pumpTimer) return;
    const wait = this.pacer.wait(this.limit(), this.pacingRtt());
    this.pumpTimer = this.o.clock.setTimer(wait, () => {
      this.pumpTimer = undefined;
      this.pump();
    });
  }

  private transmit(m: Outgoing, i: number, now: number): void {
    if (m.state[i] === SegState.IDLE) {
      m.state[i] = SegState.IN_FLIGHT;
      this.inFlight++;
    }
    if (m.sends[i] < 255) m.sends[i]++;
    m.sentAt[i] = now;
    m.holes[i] = 0;
    if (m.deadline === Infinity) {
      m.deadline = now + this.timeout(m);
      this.armRetransmit(m.deadline);
    }
    this.emit(m.kind, m.xid, i, m.parts.length, m.length, m.parts[i]);
  }

  private armRetransmit(at: number): void {
    if (this.closed || at >= this.retransmitAt) return;
    if (this.retransmitTimer) this.o.clock.clearTimer(this.retransmitTimer);
    this.retransmitAt = at;
    this.retransmitTimer = this.o.clock.setTimer(at - this.o.clock.now(), () => {
      // Timers run before the event loop polls sockets: an ACK that arrived while this process was busy (or not
      // scheduled) still waits there. Look after the poll (setImmediate), so a late ACK already here is not a loss.
      this.retransmitTimer = this.o.clock.setTimer(0, () => {
        this.retransmitTimer = undefined;
        this.retransmitAt = Infinity;
        this.onRetransmitTimer();
      });
    });
  }

  private onRetransmitTimer(): void {
    const now = this.o.clock.now();
    let next = Infinity;
    const expired: Outgoing[] = [];
    for (const m of this.outgoing.values()) {
      if (m.deadline <= now) expired.push(m);
      else next = Math.min(next, m.deadline);
    }
    let timedOut = false;
    for (const m of expired) {
      if (++m.attempts > this.maxAttempts) {
        this.drop(m);
        this.o.failed(m.xid);
        continue;
      }
      this.stats.timeouts++;
      if (m.complete) {
        // Fully acknowledged, reply outstanding: probe with the last segment.
        this.emit(m.kind, m.xid, m.parts.length - 1, m.parts.length, m.length, m.parts[m.parts.length - 1]);
        m.sends[m.parts.length - 1] = 255;
      } else {
        timedOut = true;
        // Unacknowledged segments sent at least a timeout ago are presumed lost and go again; later
        // ones may still be queued at the receiver, and resending them on a spurious timeout would
        // only add to that queue. Those the smaller window holds back stay IDLE: if an ACK covers them
        // first, the timeout was spurious (onAck).
        const overdue = now - this.timeout(m) / 2;
        let first = true;
        for (let i = 0; i < m.nextFresh; i++) {
          if (m.state[i] === SegState.ACKED) continue;
          if (!first && m.sentAt[i] > overdue) continue;
          first = false;
          if (m.state[i] === SegState.IN_FLIGHT) {
            m.state[i] = SegState.IDLE;
            this.inFlight--;
          }
          this.resend.push([m, i]);
        }
      }
      m.deadline = now + this.timeout(m);
      next = Math.min(next, m.deadline);
    }
    if (timedOut) this.cwnd.onTimeout();
    if (next < Infinity) this.armRetransmit(next);
    this.pump();
  }

  private sendAckFor(xid: number): void {
    this.ackDue.delete(xid);
    const r = this.incoming.get(xid);
    if (!r) return;
    r.unacked = 0;
    this.sendAck(xid, rangesOf(r.reassembly.received));
  }

  private sendAck(xid: number, ranges: SegmentRange[]): void {
    this.stats.acksSent++;
    const payload = encodeAck(ranges);
    this.o.emit({ kind: Kind.ACK, xid, segment: 0, segments: 1, messageLength: payload.length, payload });
  }

  private delayAck(xid: number): void {
    this.ackDue.add(xid);
    this.armAckTimer();
  }

  private ackIfSlow(xid: number): void {
    this.unanswered.add(xid);
    this.armAckTimer();
  }

  private armAckTimer(): void {
    if (this.ackTimer) return;
    this.ackTimer = this.o.clock.setTimer(this.ackDelay, () => {
      this.ackTimer = undefined;
      for (const x of [...this.ackDue]) this.sendAckFor(x);
      for (const x of this.unanswered) this.sendAck(x, [[0, 0]]);
      this.unanswered.clear();
    });
  }

  private armSweep(): void {
    if (this.sweepTimer || this.incoming.size === 0) return;
    this.sweepTimer = this.o.clock.setTimer(this.reassemblyTimeout / 2, () => {
      this.sweepTimer = undefined;
      this.stats.expiredReassemblies += this.incoming.expire(this.o.clock.now(), this.reassemblyTimeout);
      this.armSweep();
    });
  }
}
