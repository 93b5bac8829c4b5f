import { createHash, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SanClient, type Volume } from '../../src/client';
import { Prng } from '../../src/common/prng';
import { Kind } from '../../src/protocols/san/constants';
import { SanService } from '../../src/san/san.service';
import { StorageRuntime } from '../../src/storage/runtime';
import { UdpDatagramSocket, whole, type DatagramSocket, type Peer } from '../../src/san/transport/datagram-socket';
import { startTestGateway, type TestGateway } from '../utils/gateway';
import { LossyLink, type LinkFaults } from '../utils/lossy-link';
import { admin, hostKeyPair, sanAddress } from '../utils/san-fixture';

const MiB = 2 ** 20;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Holds back the first outgoing datagram `pick` chooses, until release(): a datagram stuck in the network. */
class HoldingSocket implements DatagramSocket {
  held: { buf: Buffer; port: number; address: string } | undefined;
  private armed = false;

  constructor(
    private readonly inner: DatagramSocket,
    private readonly pick: (buf: Buffer) => boolean,
  ) {}

  arm(): void {
    this.armed = true;
  }

  release(): void {
    const h = this.held;
    if (h) this.inner.send(h.buf, h.port, h.address);
  }

  send(pieces: Buffer | readonly Buffer[], port: number, address: string): void {
    const buf = whole(pieces);
    if (this.armed && !this.held && this.pick(buf)) {
      this.held = { buf: Buffer.from(buf), port, address };
      return;
    }
    this.inner.send(buf, port, address);
  }

  onMessage(cb: (buf: Buffer, from: Peer) => void): void {
    this.inner.onMessage(cb);
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

/**
 * `workers` callers at once, each on its own region of `model`'s size, writing random data or reading it
 * back: the model stays exact with calls in flight together. Returns how many reads did not match.
 */
async function randomIo(
  v: Volume,
  model: Buffer,
  o: { workers: number; opsPerWorker: number; seed: number; writes: number; blocks: (prng: Prng) => number },
): Promise<number> {
  const region = model.length / o.workers;
  let mismatches = 0;
  const worker = async (w: number) => {
    const prng = new Prng(o.seed + w);
    const base = w * region;
    for (let i = 0; i < o.opsPerWorker; i++) {
      const blocks = o.blocks(prng);
      const offset = base + prng.int(0, region / 4096 - blocks + 1) * 4096;
      const length = blocks * 4096;
      if (prng.next() < o.writes) {
        const data = prng.bytes(length);
        await v.write(offset, data);
        data.copy(model, offset);
      } else {
        const got = await v.read(offset, length);
        if (sha(got) !== sha(model.subarray(offset, offset + length))) mismatches++;
      }
    }
  };
  await Promise.all(Array.from({ length: o.workers }, (_, w) => worker(w)));
  return mismatches;
}

describe('SAN over a lossy link', () => {
  let gw: TestGateway;
  let address: string;
  let key: KeyObject;
  const links: LossyLink[] = [];

  beforeAll(async () => {
    gw = await startTestGateway();
    address = sanAddress(gw);
    const pair = hostKeyPair();
    key = pair.privateKey;
    await admin(gw, 'POST', 'hosts', { name: 'lossy', publicKey: pair.publicPem });
    await admin(gw, 'POST', 'volumes', { name: 'lossy', pool: 'default', size: '16M' });
    await admin(gw, 'POST', 'assignments', { host: 'lossy', volume: 'lossy' });
  });

  afterAll(async () => {
    await gw?.close();
  });

  /** A client of host 'lossy' with two sessions, each on its own lossy link (seeds from `seed` on), kept in `links`. */
  const lossyClient = (datagramSize: number, seed: number, faults: Omit<LinkFaults, 'seed'>) =>
    SanClient.connect({
      gateways: [address],
      host: 'lossy',
      key,
      sessionsPerGateway: 2,
      datagramSize,
      socket: async () => {
        const link = new LossyLink(await UdpDatagramSocket.bind('127.0.0.1', 0), { ...faults, seed: seed++ });
        links.push(link);
        return link;
      },
    });

  it('thousands of random reads and writes all read back what was written', async () => {
    const client = await lossyClient(1452, 100, {
      drop: 0.05,
      duplicate: 0.02,
      reorder: 0.05,
      corrupt: 0.01,
      delay: { min: 0, max: 0.5 },
      reorderDelay: 3,
    });
    try {
      const v = await client.open('lossy');
      const model = Buffer.alloc(16 * MiB);
      // 8 workers x 250: 2,000 calls, 8 in flight at once.
      const blocks = (prng: Prng) => (prng.next() < 0.85 ? prng.int(1, 4) : prng.int(4, 17));
      const mismatches = await randomIo(v, model, { workers: 8, opsPerWorker: 250, seed: 1000, writes: 0.5, blocks });
      await v.flush();
      expect(mismatches).toBe(0);
      expect(sha(await v.read(0, 16 * MiB))).toBe(sha(model));
      // The link really was bad, and the transport really did recover.
      const dropped = links.reduce((n, l) => n + l.counters.dropped, 0);
      const corrupted = links.reduce((n, l) => n + l.counters.corrupted, 0);
      expect(dropped).toBeGreaterThan(100);
      expect(corrupted).toBeGreaterThan(10);
      expect(client.stats().reduce((n, s) => n + s.retransmits + s.timeouts, 0)).toBeGreaterThan(0);
      const server = gw.app.get(SanService).stats()!;
      expect(server.malformed).toBeGreaterThan(0);
      expect(server.serverFaults).toBe(0);
    } finally {
      await client.close();
    }
  }, 120_000);

  it('large reads, sent from reply buffers the gateway reuses, all read back what was written', async () => {
    // READs of 256 KiB and more reply from pooled buffers (ReplyBuffers): a buffer reused while a segment of
    // its last reply could still be sent again would show here as a checksum mismatch.
    await admin(gw, 'POST', 'volumes', { name: 'lossy-large', pool: 'default', size: '32M' });
    await admin(gw, 'POST', 'assignments', { host: 'lossy', volume: 'lossy-large' });
    const before = gw.app.get(SanService).stats()!.replyBuffersReused;
    const client = await lossyClient(9000, 300, { drop: 0.03, duplicate: 0.02, reorder: 0.05, reorderDelay: 3 });
    try {
      const v = await client.open('lossy-large');
      const model = Buffer.alloc(32 * MiB);
      // 256 KiB to 1 MiB: 64 to 256 blocks.
      const mismatches = await randomIo(v, model, { workers: 4, opsPerWorker: 40, seed: 3000, writes: 0.4, blocks: (prng) => prng.int(64, 257) });
      expect(mismatches).toBe(0);
      expect(sha(await v.read(0, 32 * MiB))).toBe(sha(model));
      const server = gw.app.get(SanService).stats()!;
      expect(server.replyBuffersReused - before).toBeGreaterThan(10);
      expect(server.serverFaults).toBe(0);
    } finally {
      await client.close();
    }
  }, 120_000);

  it('a large reply evicted from a full reply cache the moment it completes is not reused while it is still sent', async () => {
    // 64 slots of cached 1 MiB READ replies fill the 64 MiB cache; an 8 MiB READ completing then is the largest
    // reply, evicted at once. Its buffer must still wait for the channel to finish sending it.
    await admin(gw, 'POST', 'volumes', { name: 'lossy-cache', pool: 'default', size: '16M' });
    await admin(gw, 'POST', 'assignments', { host: 'lossy', volume: 'lossy-cache' });
    const client = await SanClient.connect({ gateways: [address], host: 'lossy', key, sessionsPerGateway: 1, datagramSize: 65000 });
    try {
      const v = await client.open('lossy-cache');
      const prng = new Prng(77);
      const model = prng.bytes(16 * MiB);
      for (let at = 0; at < model.length; at += 8 * MiB) await v.write(at, model.subarray(at, at + 8 * MiB));
      const before = gw.app.get(SanService).stats()!.replyBuffersReused;
      let mismatches = 0;
      const check = async (offset: number, length: number) => {
        if (sha(await v.read(offset, length)) !== sha(model.subarray(offset, offset + length))) mismatches++;
      };
      // Every slot's cached reply is 1 MiB; the client reuses the slots it freed last, so the 8 MiB READs that
      // follow keep to a few slots and leave the rest of the cache full. Three at a time: while one reply is
      // still being sent, the next READ takes a buffer of its size.
      await Promise.all(Array.from({ length: 64 }, (_, i) => check((i % 16) * MiB, MiB)));
      await Promise.all(
        Array.from({ length: 3 }, async () => {
          for (let i = 0; i < 10; i++) await check(prng.int(0, 8 * 4 + 1) * (MiB / 4), 8 * MiB);
        }),
      );
      expect(mismatches).toBe(0);
      expect(gw.app.get(SanService).stats()!.replyBuffersReused - before).toBeGreaterThan(10);
    } finally {
      await client.close();
    }
    // A few seconds when right; a reused buffer garbles replies' headers too, and the reads then never finish.
  }, 30_000);

  it('a delayed duplicate of an old WRITE never overwrites newer data', async () => {
    let holder!: HoldingSocket;
    const client = await SanClient.connect({
      gateways: [address],
      host: 'lossy',
      key,
      datagramSize: 9000,
      // A sealed CALL_SEG of a 64 KiB WRITE: big enough to tell from anything else this test sends.
      socket: async () => (holder = new HoldingSocket(await UdpDatagramSocket.bind('127.0.0.1', 0), (b) => b[3] === Kind.CALL_SEG && b.length > 8000)),
    });
    try {
      const v = await client.open('lossy');
      const disk = gw.app.get(StorageRuntime).disk(((await gw.api('volumes/lossy').then((r) => r.json())) as { id: string }).id)!;
      const before = disk.stats().write.ops;
      const misordered = gw.app.get(SanService).stats()!.callsMisordered;
      holder.arm();
      // Its first segment is held back; the client's retransmission gets it through.
      await v.write(0, Buffer.alloc(64 * 1024, 0xaa));
      expect(holder.held).toBeDefined();
      await v.write(0, Buffer.alloc(64 * 1024, 0xbb));
      expect(disk.stats().write.ops - before).toBe(2);
      // The stale datagram finally arrives: recognized, never executed.
      holder.release();
      await new Promise((r) => setTimeout(r, 100));
      await v.flush();
      expect(disk.stats().write.ops - before).toBe(2);
      const back = await v.read(0, 64 * 1024);
      expect(back.equals(Buffer.alloc(64 * 1024, 0xbb))).toBe(true);
      expect(gw.app.get(SanService).stats()!.callsMisordered).toBeGreaterThanOrEqual(misordered);
    } finally {
      await client.close();
    }
  });
});
