import { afterEach, describe, expect, it } from 'vitest';
import type { XdrWriter } from '../../protocols/xdr/xdr';
import { RpcClient, RpcUdpClient } from './rpc-client';
import type { RpcLog } from './rpc-dispatcher';
import type { RpcProgram } from './rpc-program';
import { RpcServer } from './rpc-server';

const PROG = 0x20000077;
const quiet: RpcLog = { debug: () => undefined, warn: () => undefined, error: () => undefined };

/** A program whose procedure 1 replies with a lent buffer of `n` bytes and records when each is released. */
function lending(released: number[], opts: { failEncode?: boolean } = {}): RpcProgram {
  let next = 0;
  return {
    prog: PROG,
    name: 'lend',
    versions: {
      1: {
        1: {
          name: 'LEND',
          idempotent: true,
          decode: (r) => r.uint32(),
          handle: (n: number) => ({ id: ++next, data: Buffer.alloc(n, 0x61) }),
          encode: (w: XdrWriter, res: { id: number; data: Buffer }) => {
            if (opts.failEncode) throw new Error('encode failed');
            w.uint32(res.id);
            w.varOpaque(res.data);
          },
          sent: (res: { id: number }) => void released.push(res.id),
        },
      },
    },
  };
}

const servers: RpcServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function serve(program: RpcProgram): Promise<number> {
  const server = new RpcServer([program], { log: quiet });
  servers.push(server);
  return (await server.listen(0, '127.0.0.1')).port;
}

const waitFor = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
};

describe('RpcProcedure.sent: buffers a reply referenced are released once it is written', () => {
  it('over TCP, after the reply went out, once per call, the reply intact', async () => {
    const released: number[] = [];
    const port = await serve(lending(released));
    const c = await RpcClient.connect({ host: '127.0.0.1', port });
    try {
      const got = await c.callOk(PROG, 1, 1, (w) => void w.uint32(300_000), (r) => ({ id: r.uint32(), data: r.varOpaque() }));
      expect(got.data.equals(Buffer.alloc(300_000, 0x61))).toBe(true);
      await c.callOk(PROG, 1, 1, (w) => void w.uint32(10), (r) => ({ id: r.uint32(), data: r.varOpaque() }));
      await waitFor(() => released.length === 2);
      expect(released.sort()).toEqual([1, 2]);
    } finally {
      await c.close();
    }
  });

  it('over UDP, after the datagram went out', async () => {
    const released: number[] = [];
    const server = new RpcServer([lending(released)], { log: quiet });
    servers.push(server);
    const { port } = await server.listenUdp(0, '127.0.0.1');
    const c = await RpcUdpClient.open('127.0.0.1', port);
    try {
      await c.callOk(PROG, 1, 1, (w) => void w.uint32(100), (r) => ({ id: r.uint32(), data: r.varOpaque() }));
      await waitFor(() => released.length === 1);
      expect(released).toEqual([1]);
    } finally {
      await c.close();
    }
  });

  it('when the connection is gone before the reply is written', async () => {
    const released: number[] = [];
    const port = await serve(lending(released));
    const c = await RpcClient.connect({ host: '127.0.0.1', port });
    // 8 MiB replies the client never reads: the server's writes back up, then the connection dies.
    for (let i = 0; i < 4; i++) void c.call(PROG, 1, 1, (w) => void w.uint32(8 * 2 ** 20)).catch(() => undefined);
    await waitFor(() => released.length >= 1);
    c.destroy();
    await waitFor(() => released.length === 4);
    expect(released.sort()).toEqual([1, 2, 3, 4]);
  });

  it('when the result cannot be encoded (the caller gets SYSTEM_ERR)', async () => {
    const released: number[] = [];
    const port = await serve(lending(released, { failEncode: true }));
    const c = await RpcClient.connect({ host: '127.0.0.1', port });
    try {
      await expect(c.callOk(PROG, 1, 1, (w) => void w.uint32(10), (r) => r.uint32())).rejects.toThrow(/SYSTEM_ERR/);
      expect(released).toEqual([1]);
    } finally {
      await c.close();
    }
  });

  it('is refused for a procedure whose replies the duplicate request cache keeps', () => {
    const p = lending([]);
    (p.versions[1][1] as { idempotent: boolean }).idempotent = false;
    expect(() => new RpcServer([p], { log: quiet })).toThrow(/duplicate request cache/);
  });
});

describe('RpcServer with a BusyPoll', () => {
  // The NFS listener is TCP only today (the portmapper, which serves UDP too, gets no BusyPoll); UDP is covered for when it is not.
  it('is touched once per reply sent, over TCP and over UDP', async () => {
    // Only counts (what a BusyPoll does with a touch is busy-poll.spec's).
    let touches = 0;
    const server = new RpcServer([lending([])], { log: quiet, busyPoll: { touch: () => void touches++ } });
    servers.push(server);
    const tcp = await RpcClient.connect({ host: '127.0.0.1', port: (await server.listen(0, '127.0.0.1')).port });
    const udp = await RpcUdpClient.open('127.0.0.1', (await server.listenUdp(0, '127.0.0.1')).port);
    try {
      for (let i = 0; i < 3; i++) await tcp.callOk(PROG, 1, 1, (w) => void w.uint32(10), (r) => ({ id: r.uint32(), data: r.varOpaque() }));
      expect(touches).toBe(3);
      await udp.callOk(PROG, 1, 1, (w) => void w.uint32(10), (r) => ({ id: r.uint32(), data: r.varOpaque() }));
      expect(touches).toBe(4);
    } finally {
      tcp.destroy();
      await udp.close();
    }
  });
});
