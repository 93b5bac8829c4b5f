import { describe, expect, it } from 'vitest';
import { datagramsThatFit, UdpDatagramSocket } from './datagram-socket';

describe('datagramsThatFit', () => {
  // Datagrams an 8 MiB receive buffer (4 MiB asked, doubled by Linux) held before the kernel dropped, measured on loopback.
  const measured: Array<[number, number]> = [
    [1452, 3640],
    [9000, 504],
    [32_000, 255],
    [65_000, 127],
  ];

  it('stays below what the kernel held, with room to spare, and uses most of it', () => {
    for (const [size, held] of measured) {
      const n = datagramsThatFit(8 * 2 ** 20, size);
      expect(n).toBeLessThanOrEqual(Math.floor(held * 0.8));
      expect(n).toBeGreaterThanOrEqual(Math.floor(held * 0.45));
    }
  });

  it('reads the buffer sizes the kernel granted', async () => {
    const s = await UdpDatagramSocket.bind('127.0.0.1', 0, { bufferSize: 2 ** 20 });
    try {
      const { recv, send } = s.bufferSizes();
      // Linux doubles what was asked (up to net.core.rmem_max); other kernels may not.
      expect(recv).toBeGreaterThan(0);
      expect(send).toBeGreaterThan(0);
    } finally {
      await s.close();
    }
  });

  it('touches its BusyPoll at every send, so the answer is picked up without a wake-up', async () => {
    let touches = 0;
    const a = await UdpDatagramSocket.bind('127.0.0.1', 0, { busyPoll: { touch: () => void touches++ } });
    const b = await UdpDatagramSocket.bind('127.0.0.1', 0);
    try {
      const got = new Promise<Buffer>((r) => b.onMessage((buf) => r(buf)));
      a.send([Buffer.from('pie'), Buffer.from('ces')], b.local().port, '127.0.0.1');
      a.send(Buffer.from('x'), b.local().port, '127.0.0.1');
      expect(touches).toBe(2);
      expect((await got).toString()).toBe('pieces');
    } finally {
      await a.close();
      await b.close();
    }
  });
});
