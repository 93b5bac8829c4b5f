import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/utils/fake-clock';
import { Prng } from '../../common/prng';
import { Kind } from '../../protocols/san/constants';
import { Channel, type OutgoingSegment } from './channel';

interface WireFaults {
  drop?: number;
  duplicate?: number;
  reorder?: number;
}

/** A client and a server channel joined by a simulated wire on a fake clock; the server echoes each call reversed. */
function pair(opts: { faults?: WireFaults; serverCredits?: number; capacity?: number; serverDown?: boolean } = {}) {
  const clock = new FakeClock();
  const prng = new Prng(11);
  const f = opts.faults ?? {};
  const replies = new Map<number, Buffer>();
  const cache = new Map<number, Buffer>();
  const failed: number[] = [];
  const placed = new Set<number>();
  /** Replies the server channel still refers to (sent, not yet released), and segments it emitted of any other. */
  const live = new Set<number>();
  const released: number[] = [];
  let emittedAfterRelease = 0;
  let maxFlight = 0;
  let serverExecutions = 0;
  const wire = (to: () => Channel, d: OutgoingSegment) => {
    if (opts.serverDown && to === serverRef) return;
    if (prng.next() < (f.drop ?? 0)) return;
    const copies = prng.next() < (f.duplicate ?? 0) ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      const delay = 0.05 + (prng.next() < (f.reorder ?? 0) ? prng.next() * 0.5 : 0);
      clock.setTimer(delay, () => {
        const ch = to();
        if (d.kind === Kind.ACK) ch.onAck(d.xid, d.payload);
        else ch.onSegment(d.xid, d.segment, d.segments, d.messageLength, d.payload);
      });
    }
  };
  const capacity = opts.capacity ?? 100;
  // eslint-disable-next-line prefer-const
  let server: Channel;
  const serverRef = () => server;
  const client: Channel = new Channel({
    role: 'client',
    clock,
    capacity,
    reassemblyBytes: 1 << 20,
    maxMessage: 1 << 20,
    emit: (d) => {
      wire(serverRef, d);
      maxFlight = Math.max(maxFlight, client.flight);
    },
    deliver: (xid, message, wasPlaced) => {
      replies.set(xid, Buffer.from(message));
      if (wasPlaced) placed.add(xid);
      client.settle(xid);
    },
    failed: (xid) => failed.push(xid),
  });
  server = new Channel({
    role: 'server',
    clock,
    capacity,
    reassemblyBytes: 1 << 20,
    maxMessage: 1 << 20,
    emit: (d) => {
      if (d.kind === Kind.REPLY_SEG && !live.has(d.xid)) emittedAfterRelease++;
      wire(() => client, d);
    },
    deliver: (xid, message) => {
      serverExecutions++;
      const reply = Buffer.from(message).reverse();
      cache.set(xid, reply);
      live.add(xid);
      server.send(Kind.REPLY_SEG, xid, reply);
    },
    released: (xid) => {
      live.delete(xid);
      released.push(xid);
    },
    failed: () => undefined,
    // As the slot table does: a retransmitted call gets its cached reply again, never a second execution.
    redeliver: (xid) => {
      const reply = cache.get(xid);
      if (reply && !server.sending(xid)) {
        live.add(xid);
        server.send(Kind.REPLY_SEG, xid, reply);
      }
    },
  });
  client.setPeerCredits(opts.serverCredits ?? 64);
  server.setPeerCredits(64);
  return {
    clock,
    client,
    server,
    replies,
    failed,
    placed,
    live,
    released,
    emittedAfterRelease: () => emittedAfterRelease,
    maxFlight: () => maxFlight,
    executions: () => serverExecutions,
  };
}

function run(p: ReturnType<typeof pair>, count: number, seed = 3) {
  const prng = new Prng(seed);
  const sent = new Map<number, Buffer>();
  for (let xid = 1; xid <= count; xid++) {
    const m = prng.bytes(prng.int(1, 1200));
    sent.set(xid, m);
    p.client.send(Kind.CALL_SEG, xid, m);
  }
  for (let i = 0; i < 20_000 && p.replies.size + p.failed.length < count; i++) p.clock.advance(1);
  return sent;
}

describe('Channel', () => {
  it("reassembles a reply in the caller's buffer past its header, through drops, duplicates and reordering", () => {
    const p = pair({ faults: { drop: 0.1, duplicate: 0.1, reorder: 0.2 } });
    const prng = new Prng(5);
    const sent = new Map<number, { message: Buffer; into: Buffer }>();
    for (let xid = 1; xid <= 60; xid++) {
      const message = prng.bytes(prng.int(9, 1200));
      const into = Buffer.alloc(message.length - 8);
      sent.set(xid, { message, into });
      p.client.expect(xid, { skip: 8, into });
      p.client.send(Kind.CALL_SEG, xid, message);
    }
    for (let i = 0; i < 20_000 && p.replies.size < sent.size; i++) p.clock.advance(1);
    for (const [xid, { message, into }] of sent) {
      const reply = Buffer.from(message).reverse();
      const head = p.replies.get(xid)!;
      if (p.placed.has(xid)) {
        // Placed (a reply of several segments): the header alone is delivered, the rest is in `into`.
        expect(head.equals(reply.subarray(0, 8)), `xid ${xid}`).toBe(true);
        expect(into.equals(reply.subarray(8)), `xid ${xid}`).toBe(true);
      } else {
        // One segment: delivered whole, as before; the caller copies it.
        expect(head.equals(reply), `xid ${xid}`).toBe(true);
      }
    }
    expect(p.placed.size).toBeGreaterThan(20);
  });

  it('puts nothing more in the buffer of a call given up on, even if its reply keeps arriving', () => {
    // Every segment delayed differently, so the reply arrives over a while.
    const p = pair({ capacity: 100, faults: { reorder: 1 } });
    const message = new Prng(6).bytes(1000);
    const into = Buffer.alloc(992);
    p.client.expect(1, { skip: 8, into });
    p.client.send(Kind.CALL_SEG, 1, message);
    // Until part of the reply is in, then the caller gives up on it.
    for (let i = 0; i < 1000 && into.every((b) => b === 0); i++) p.clock.advance(0.01);
    p.client.forget(1);
    const seen = Buffer.from(into);
    for (let i = 0; i < 200; i++) p.clock.advance(1);
    expect(into.equals(seen)).toBe(true);
    expect(into.equals(Buffer.from(message).reverse().subarray(8))).toBe(false);
    expect(p.replies.has(1)).toBe(false);
  });

  it('delivers every message and its reply on a clean wire without retransmitting', () => {
    const p = pair();
    const sent = run(p, 200);
    expect(p.failed).toEqual([]);
    for (const [xid, m] of sent) expect(p.replies.get(xid)?.equals(Buffer.from(m).reverse()), `xid ${xid}`).toBe(true);
    expect(p.client.stats.retransmits).toBe(0);
    expect(p.server.stats.retransmits).toBe(0);
    expect(p.client.rtt.srtt).toBeGreaterThan(0);
  });

  it('recovers from drops, duplicates and reordering, resending only missing segments', () => {
    const p = pair({ faults: { drop: 0.1, duplicate: 0.05, reorder: 0.1 } });
    const sent = run(p, 300);
    expect(p.failed).toEqual([]);
    for (const [xid, m] of sent) expect(p.replies.get(xid)?.equals(Buffer.from(m).reverse()), `xid ${xid}`).toBe(true);
    expect(p.client.stats.retransmits + p.server.stats.retransmits).toBeGreaterThan(0);
    // Selective: far fewer resends than segments sent (a go-back-N sender would resend most).
    expect(p.client.stats.retransmits).toBeLessThan(p.client.stats.segmentsSent / 3);
    // Every call was delivered to the server exactly once; duplicates were recognized.
    expect(p.executions()).toBe(300);
    expect(p.client.flight).toBe(0);
  });

  it('releases a reply only once it will send none of it again, through drops, duplicates and reordering', () => {
    // What makes a reply's buffer reusable (ReplyBuffers): after released(), not one more segment of it goes out.
    const p = pair({ faults: { drop: 0.15, duplicate: 0.1, reorder: 0.2 } });
    const sent = run(p, 300, 9);
    for (let i = 0; i < 2_000; i++) p.clock.advance(1);
    expect(p.failed).toEqual([]);
    for (const [xid, m] of sent) expect(p.replies.get(xid)?.equals(Buffer.from(m).reverse()), `xid ${xid}`).toBe(true);
    expect(p.server.stats.retransmits).toBeGreaterThan(0);
    expect(p.emittedAfterRelease()).toBe(0);
    // Every reply was let go of in the end: long ones once acknowledged, one-segment ones once emitted.
    expect(p.live.size).toBe(0);
    expect(new Set(p.released).size).toBe(300);
  });

  it('never has more segments in flight than the peer granted', () => {
    const p = pair({ serverCredits: 5 });
    run(p, 50);
    expect(p.replies.size).toBe(50);
    expect(p.maxFlight()).toBeLessThanOrEqual(5);
  });

  it('fails a message after six timeouts in a row with no answer, backing off exponentially', () => {
    const p = pair({ serverDown: true });
    p.client.send(Kind.CALL_SEG, 9, Buffer.alloc(10));
    let t = 0;
    while (p.failed.length === 0 && t < 60_000) {
      p.clock.advance(1);
      t++;
    }
    expect(p.failed).toEqual([9]);
    expect(p.client.stats.timeouts).toBe(6);
    // 100 + 200 + ... + 2000 (capped) ms: backoff, not a fixed interval.
    expect(t).toBeGreaterThan(100 * (1 + 2 + 4 + 8 + 16) + 2000);
    expect(p.client.flight).toBe(0);
  });

  it('keeps a long-running call alive while the server acknowledges probes', () => {
    const clock = new FakeClock();
    const failed: number[] = [];
    let server!: Channel;
    const client: Channel = new Channel({
      role: 'client',
      clock,
      capacity: 100,
      reassemblyBytes: 1 << 20,
      maxMessage: 1 << 20,
      emit: (d) => clock.setTimer(0.1, () => (d.kind === Kind.ACK ? server.onAck(d.xid, d.payload) : server.onSegment(d.xid, d.segment, d.segments, d.messageLength, d.payload))),
      deliver: (xid) => client.settle(xid),
      failed: (xid) => failed.push(xid),
    });
    let executing = 0;
    let redelivered = 0;
    server = new Channel({
      role: 'server',
      clock,
      capacity: 100,
      reassemblyBytes: 1 << 20,
      maxMessage: 1 << 20,
      emit: (d) => clock.setTimer(0.1, () => (d.kind === Kind.ACK ? client.onAck(d.xid, d.payload) : client.onSegment(d.xid, d.segment, d.segments, d.messageLength, d.payload))),
      deliver: () => executing++,
      failed: () => undefined,
      redeliver: () => redelivered++,
    });
    client.send(Kind.CALL_SEG, 1, Buffer.alloc(350));
    clock.advance(30_000);
    expect(executing).toBe(1);
    expect(failed).toEqual([]);
    expect(redelivered).toBeGreaterThan(3);
    server.send(Kind.REPLY_SEG, 1, Buffer.alloc(5));
    clock.advance(10);
    expect(client.pending()).toEqual([]);
  });

  it('acknowledges a one-segment call whose reply is slow, so its timeouts are probes and the window stays open', () => {
    const clock = new FakeClock();
    let server!: Channel;
    const toServer = (d: OutgoingSegment) => clock.setTimer(0.1, () => (d.kind === Kind.ACK ? server.onAck(d.xid, d.payload) : server.onSegment(d.xid, d.segment, d.segments, d.messageLength, d.payload)));
    const client: Channel = new Channel({ role: 'client', clock, capacity: 100, reassemblyBytes: 1 << 20, maxMessage: 1 << 20, emit: toServer, deliver: (xid) => client.settle(xid), failed: () => undefined });
    const acks: number[] = [];
    server = new Channel({
      role: 'server',
      clock,
      capacity: 100,
      reassemblyBytes: 1 << 20,
      maxMessage: 1 << 20,
      emit: (d) => {
        if (d.kind === Kind.ACK) acks.push(d.xid);
        clock.setTimer(0.1, () => (d.kind === Kind.ACK ? client.onAck(d.xid, d.payload) : client.onSegment(d.xid, d.segment, d.segments, d.messageLength, d.payload)));
      },
      deliver: (xid) => {
        // Call 1 is answered at once, call 2 only after a long while (a slow disk).
        if (xid === 1) server.send(Kind.REPLY_SEG, 1, Buffer.alloc(5));
      },
      failed: () => undefined,
    });
    const window = client.cwnd.size;
    client.send(Kind.CALL_SEG, 1, Buffer.alloc(50));
    client.send(Kind.CALL_SEG, 2, Buffer.alloc(50));
    clock.advance(5);
    expect(acks).toEqual([2]);
    expect(client.flight).toBe(0);
    clock.advance(200);
    expect(client.stats.timeouts).toBeGreaterThan(0);
    expect(client.cwnd.size).toBeGreaterThanOrEqual(window);
    server.send(Kind.REPLY_SEG, 2, Buffer.alloc(5));
    clock.advance(10);
    expect(client.pending()).toEqual([]);
  });

  it('drops a partial message that stops arriving', () => {
    const clock = new FakeClock();
    const ch = new Channel({
      role: 'server',
      clock,
      capacity: 10,
      reassemblyBytes: 1000,
      maxMessage: 1000,
      reassemblyTimeout: 1000,
      emit: () => undefined,
      deliver: () => undefined,
      failed: () => undefined,
    });
    ch.onSegment(5, 0, 3, 25, Buffer.alloc(10));
    clock.advance(2000);
    expect(ch.stats.expiredReassemblies).toBe(1);
    expect(clock.pending).toBe(0);
  });

  it('gives the window back when a late ACK covers segments a timeout declared lost before they went again', () => {
    const clock = new FakeClock();
    let server!: Channel;
    const client: Channel = new Channel({
      role: 'client',
      clock,
      capacity: 100,
      reassemblyBytes: 1 << 20,
      maxMessage: 1 << 20,
      emit: (d) => clock.setTimer(0.1, () => server.onSegment(d.xid, d.segment, d.segments, d.messageLength, d.payload)),
      deliver: () => undefined,
      failed: () => undefined,
    });
    server = new Channel({
      role: 'server',
      clock,
      capacity: 100,
      reassemblyBytes: 1 << 20,
      maxMessage: 1 << 20,
      // The server's first ACKs reach the client only at 150 ms: it was not scheduled, say; later ones at once.
      emit: (d) => clock.setTimer(clock.now() < 50 ? 150 - clock.now() : 0.1, () => client.onAck(d.xid, d.payload)),
      deliver: () => undefined,
      failed: () => undefined,
    });
    const window = client.cwnd.size;
    client.send(Kind.CALL_SEG, 1, Buffer.alloc(window * 100));
    clock.advance(120);
    // One timeout at the initial 100 ms RTO; the halved window resent only part of the data before the ACKs
    // arrived and covered the rest, never sent again: nothing had been lost.
    expect(client.stats.timeouts).toBe(1);
    expect(client.stats.retransmits).toBeGreaterThan(0);
    expect(client.stats.retransmits).toBeLessThan(window);
    expect(client.stats.spuriousTimeouts).toBe(1);
    expect(client.cwnd.size).toBeGreaterThanOrEqual(window);
  });

  it('keeps the smaller window when segments a timeout declared lost really were', () => {
    const clock = new FakeClock();
    let server!: Channel;
    let lost = 0;
    const client: Channel = new Channel({
      role: 'client',
      clock,
      capacity: 100,
      reassemblyBytes: 1 << 20,
      maxMessage: 1 << 20,
      emit: (d) => {
        // Segments 4..7 of the first send are lost on the way.
        if (d.segment >= 4 && d.segment < 8 && lost < 4) return void lost++;
        clock.setTimer(0.1, () => server.onSegment(d.xid, d.segment, d.segments, d.messageLength, d.payload));
      },
      deliver: () => undefined,
      failed: () => undefined,
    });
    let delivered = 0;
    server = new Channel({
      role: 'server',
      clock,
      capacity: 100,
      reassemblyBytes: 1 << 20,
      maxMessage: 1 << 20,
      // Every ACK is late until 150 ms, so no hole is reported three times before the timeout.
      emit: (d) => clock.setTimer(clock.now() < 50 ? 150 - clock.now() : 0.1, () => client.onAck(d.xid, d.payload)),
      deliver: () => delivered++,
      failed: () => undefined,
    });
    client.send(Kind.CALL_SEG, 1, Buffer.alloc(8 * 100));
    clock.advance(1000);
    expect(delivered).toBe(1);
    expect(client.stats.spuriousTimeouts).toBe(0);
    expect(client.stats.retransmits).toBeGreaterThanOrEqual(4);
    expect(client.cwnd.size).toBeLessThan(16);
  });
});
