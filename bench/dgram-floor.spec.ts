import { describe, expect, it } from 'vitest';
import { MAX_DATAGRAM_SIZE } from '../src/protocols/san/constants';
import { dgramFloor, EchoDepth, StreamWindow } from './dgram-floor';

describe('the echo depth', () => {
  it('counts a reply once, only for a request still waiting', () => {
    const d = new EchoDepth();
    const [a, b] = [d.issue(0), d.issue(0)];
    expect(d.answered(a)).toBe(true);
    expect(d.answered(a)).toBe(false);
    expect(d.answered(b + 7)).toBe(false);
    expect(d.replies).toBe(1);
    expect(d.inFlight).toBe(1);
  });

  it('drops requests waiting too long, so that as many new ones keep the depth; their late replies count for nothing', () => {
    const d = new EchoDepth();
    const old = [d.issue(0), d.issue(10)];
    d.issue(40);
    expect(d.expire(55, 50)).toBe(1);
    expect(d.expire(61, 50)).toBe(1);
    expect(d.lost).toBe(2);
    expect(d.inFlight).toBe(1);
    expect(old.map((s) => d.answered(s))).toEqual([false, false]);
    d.restartCounts();
    expect([d.replies, d.lost, d.inFlight]).toEqual([0, 0, 1]);
  });
});

describe('the stream window', () => {
  it('opens as the receiver acknowledges, and an old or overshooting acknowledgement changes nothing', () => {
    const w = new StreamWindow(4);
    for (let n = w.room(); n > 0; n--) w.send();
    expect([w.sent, w.room()]).toEqual([4, 0]);
    w.ack(2);
    expect(w.room()).toBe(2);
    w.ack(1);
    expect(w.room()).toBe(2);
    w.ack(99);
    expect(w.room()).toBe(4);
  });

  it('reopens a full window only after a whole stall interval without an acknowledgement', () => {
    const w = new StreamWindow(2);
    w.send();
    w.send();
    // Full, but this is the first look at it.
    expect(w.stalled()).toBe(false);
    w.ack(1);
    w.send();
    // Full again, with an acknowledgement since the last look.
    expect(w.stalled()).toBe(false);
    expect(w.room()).toBe(0);
    expect(w.stalled()).toBe(true);
    expect(w.room()).toBe(2);
  });
});

describe('the node:dgram floor the SAN bench prints', () => {
  it('moves replies and whole stream datagrams between its two processes and reports each side a share of a core', async () => {
    const f = await dgramFloor(1);
    expect(f.echo.opsPerSec).toBeGreaterThan(0);
    expect(f.stream.datagrams).toBeGreaterThan(0);
    expect(f.stream.bytes).toBe(f.stream.datagrams * MAX_DATAGRAM_SIZE);
    for (const cpu of [f.echo.serverCpu, f.echo.clientCpu, f.stream.receiverCpu, f.stream.senderCpu]) {
      expect(cpu).toBeGreaterThan(0);
      expect(cpu).toBeLessThan(4);
    }
  }, 30_000);
});
