import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayUnreachable, SanClient, type Volume } from '../../src/client';
import { SanService } from '../../src/san/san.service';
import { UdpDatagramSocket, type DatagramSocket, type Peer } from '../../src/san/transport/datagram-socket';
import { startTestGateway, type TestGateway } from '../utils/gateway';
import { LossyLink } from '../utils/lossy-link';
import { admin, hostKeyPair } from '../utils/san-fixture';

const KiB = 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function until(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Writers that keep random 64 KiB blocks of a volume busy and remember what
 * each acknowledged write put there; any error fails the test. Each writer
 * has its own blocks, so the last write acknowledged is the last one made.
 */
function workload(v: Volume, blocks: number) {
  const WRITERS = 8;
  const acked = new Map<number, string>();
  const errors: unknown[] = [];
  let stop = false;
  const writer = async (n: number) => {
    while (!stop) {
      const block = Math.floor((Math.random() * blocks) / WRITERS) * WRITERS + n;
      const data = randomBytes(64 * KiB);
      try {
        await v.write(block * 64 * KiB, data);
        acked.set(block, sha(data));
      } catch (e) {
        errors.push(e);
        return;
      }
    }
  };
  const running = Promise.all(Array.from({ length: WRITERS }, (_, n) => writer(n)));
  return {
    acked,
    errors,
    async finish() {
      stop = true;
      await running;
      const bad: number[] = [];
      for (const [block, hash] of acked) if (sha(await v.read(block * 64 * KiB, 64 * KiB)) !== hash) bad.push(block);
      return bad;
    },
  };
}

/** A link that goes dead (both ways) right after the first login completes, until healed. */
class CutAfterLogin implements DatagramSocket {
  private dead = false;
  private healed = false;

  constructor(private readonly inner: DatagramSocket) {}

  heal(): void {
    this.healed = true;
    this.dead = false;
  }

  send(buf: Buffer | readonly Buffer[], port: number, address: string): void {
    if (!this.dead) this.inner.send(buf, port, address);
  }

  onMessage(cb: (buf: Buffer, from: Peer) => void): void {
    this.inner.onMessage((buf, from) => {
      if (this.dead) return;
      // A sealed LOGIN_REPLY is the WELCOME: the session exists, and from now on nothing gets through.
      if (!this.healed && buf[3] === 5 && (buf[4] & 1) === 1) this.dead = true;
      cb(buf, from);
    });
  }

  queuedSends(): number {
    return this.inner.queuedSends();
  }

  local(): Peer {
    return this.inner.local();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

describe('multipath: two SAN addresses of one gateway', () => {
  let gw: TestGateway;
  let svc: SanService;
  let paths: string[];
  let key: { privateKey: KeyObject; publicPem: string };
  const clients: SanClient[] = [];

  beforeAll(async () => {
    gw = await startTestGateway({ STRATA_SAN_ADDRESSES: '127.0.0.1:0', STRATA_SAN_AUTH_DELAY_MS: '20' });
    svc = gw.app.get(SanService);
    paths = svc.addresses().map((a) => `127.0.0.1:${a.port}`);
    key = hostKeyPair();
    await admin(gw, 'POST', 'hosts', { name: 'mp', publicKey: key.publicPem });
    await admin(gw, 'POST', 'volumes', { name: 'mp', pool: 'default', size: '16M' });
    await admin(gw, 'POST', 'assignments', { host: 'mp', volume: 'mp' });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await gw?.close();
  });

  it('the gateway listens on both addresses, and readiness lists them', async () => {
    expect(paths).toHaveLength(2);
    expect(paths[0]).not.toBe(paths[1]);
    const ready = (await (await fetch(`${gw.url}/readyz`)).json()) as { ready: boolean };
    expect(ready.ready).toBe(true);
  });

  it('keeps writing when a listener goes away, and uses it again once it is back', async () => {
    const c = await SanClient.connect({ gateways: paths, host: 'mp', key: key.privateKey, sessionsPerGateway: 1, datagramSize: 9000, connectTimeoutMs: 1000 });
    clients.push(c);
    const v = await c.open('mp');
    const w = workload(v, 256);
    await until('writes on both paths', () => c.stats().every((s) => s.ops > 20));

    await svc.closeListener(paths[1]);
    await until('path 2 down', () => c.stats()[1].up === false);
    const before = c.stats()[0].ops;
    await until('writes going on over path 1', () => c.stats()[0].ops > before + 50);
    expect(c.stats()[1].lastError).toBeTruthy();
    expect(w.errors).toEqual([]);

    await svc.openListener(paths[1]);
    await until('path 2 back', () => c.stats()[1].up);
    const back = c.stats()[1].ops;
    await until('path 2 carrying writes again', () => c.stats()[1].ops > back + 20);
    expect(c.stats()[1].logins).toBeGreaterThanOrEqual(2);

    expect(await w.finish()).toEqual([]);
    expect(w.errors).toEqual([]);
    expect(w.acked.size).toBeGreaterThan(50);
  });

  it('carries on when the network under one path drops everything, and comes back when it heals', async () => {
    const links: LossyLink[] = [];
    const c = await SanClient.connect({
      gateways: paths,
      host: 'mp',
      key: key.privateKey,
      connectTimeoutMs: 1000,
      socket: async () => {
        const link = new LossyLink(await UdpDatagramSocket.bind('127.0.0.1', 0), {});
        links.push(link);
        return link;
      },
    });
    clients.push(c);
    const v = await c.open('mp');
    const w = workload(v, 256);
    await until('writes on both paths', () => c.stats().every((s) => s.ops > 20));
    links[0].set({ drop: 1 });
    await until('path 1 down', () => c.stats()[0].up === false);
    const before = c.stats()[1].ops;
    await until('writes going on over path 2', () => c.stats()[1].ops > before + 50);
    links[0].set({});
    await until('path 1 back', () => c.stats()[0].up);
    const back = c.stats()[0].ops;
    await until('path 1 carrying writes again', () => c.stats()[0].ops > back + 20);
    expect(await w.finish()).toEqual([]);
    expect(w.errors).toEqual([]);
  });

  it('connects while one address is silent, and brings that path in when it answers', async () => {
    const silent = createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
    const port = silent.address().port;
    const c = await SanClient.connect({ gateways: [paths[0], `127.0.0.1:${port}`], host: 'mp', key: key.privateKey, connectTimeoutMs: 300 });
    clients.push(c);
    expect(c.stats().map((s) => s.up)).toEqual([true, false]);
    expect(c.stats()[1].lastError).toMatch(new RegExp(`127\\.0\\.0\\.1:${port} did not answer the login \\(HELLO\\) within 0\\.3 s, sent \\d+ times`));
    const v = await c.open('mp');
    await v.write(0, Buffer.alloc(4096, 1));
    // The silent address becomes a real listener of the gateway: the client's retries find it.
    await new Promise<void>((r) => silent.close(() => r()));
    await svc.openListener(`127.0.0.1:${port}`);
    await until('the late path up', () => c.stats()[1].up);
    expect((await v.read(0, 4096))[0]).toBe(1);
    await svc.closeListener(`127.0.0.1:${port}`);
  });

  it('connects when a path dies between its login and its first DISCOVER, and that path recovers', async () => {
    let cut: CutAfterLogin | undefined;
    const c = await SanClient.connect({
      gateways: paths,
      host: 'mp',
      key: key.privateKey,
      connectTimeoutMs: 1000,
      socket: async (gateway) => {
        const inner = await UdpDatagramSocket.bind('127.0.0.1', 0);
        if (`${gateway.address}:${gateway.port}` !== paths[1]) return inner;
        return (cut = new CutAfterLogin(inner));
      },
    });
    clients.push(c);
    expect(c.stats().map((s) => s.up)).toEqual([true, false]);
    expect(c.stats()[1].lastError).toMatch(/no answer through every retransmission/);
    const v = await c.open('mp');
    await v.write(8192, Buffer.alloc(4096, 2));
    cut!.heal();
    await until('the path up', () => c.stats()[1].up);
    const before = c.stats()[1].ops;
    // Large enough to be split across every path that is up.
    await v.write(0, Buffer.alloc(1024 * KiB, 3));
    expect(c.stats()[1].ops).toBeGreaterThan(before);
  });

  it('names every address when none answers', async () => {
    const a = createSocket('udp4');
    const b = createSocket('udp4');
    await new Promise<void>((r) => a.bind(0, '127.0.0.1', r));
    await new Promise<void>((r) => b.bind(0, '127.0.0.1', r));
    const addrs = [`127.0.0.1:${a.address().port}`, `127.0.0.1:${b.address().port}`];
    try {
      const e = await SanClient.connect({ gateways: addrs, host: 'mp', key: key.privateKey, connectTimeoutMs: 200 }).then(
        () => null,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(GatewayUnreachable);
      expect((e as GatewayUnreachable).gateways).toEqual(addrs);
      expect((e as Error).message).toContain(`SAN gateways ${addrs.join(', ')} did not answer the login (HELLO)`);
    } finally {
      a.close();
      b.close();
    }
  });
});
