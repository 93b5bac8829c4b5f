import { describe, expect, it } from 'vitest';
import { dgramFloor } from './dgram-floor';

describe('the node:dgram floor the SAN bench prints', () => {
  it('moves replies and stream bytes between its two processes and reports each side a share of a core', async () => {
    const f = await dgramFloor(1);
    // Replies came back, so requests went out; bytes arrived whole datagrams at a time.
    expect(f.echo.opsPerSec).toBeGreaterThan(0);
    expect(f.stream.mbps).toBeGreaterThan(0);
    expect(Math.round(f.stream.mbps * 1e6) % 65_000).toBe(0);
    for (const cpu of [f.echo.serverCpu, f.echo.clientCpu, f.stream.receiverCpu, f.stream.senderCpu]) {
      expect(cpu).toBeGreaterThan(0);
      expect(cpu).toBeLessThan(4);
    }
    expect(f.stream.lostDatagrams).toBeGreaterThanOrEqual(0);
  }, 30_000);
});
