import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Prng } from '../../src/common/prng';
import type { stateid4 } from '../../src/protocols/nfs4/common.codec';
import { nfs_opnum4 as OP, nfsstat4 } from '../../src/protocols/nfs4/constants';
import { NFS4_MAX_IO } from '../../src/nas/nfs4/nfs4-attrs';
import { BufferPool } from '../../src/common/buffer-pool';
import { ReadAhead } from '../../src/nas/read-ahead';
import { CHANNEL, Nfs4TestClient, resultOf } from '../utils/nfs4-client';
import { startNfs4, type Nfs4Fixture } from '../utils/nfs4-fixture';

/*
 * NFSv4.1 READ reads into pooled buffers that the COMPOUND's reply references (no copy); a buffer goes
 * back to the pool only once the reply has been written or dropped. What could go wrong is a buffer read
 * into again while a reply still needs its bytes: on the wire, or kept in a slot for a retransmission.
 */

const MiB = 2 ** 20;
const KiB = 1024;
/** A file the tests read: its handle, open stateid and contents. */
type File = { fh: Buffer; stateid: stateid4; data: Buffer };

/** Wait until every buffer the pool made is back in it (the pool keeps more than the tests make). */
const allBack = (pool: BufferPool) => vi.waitFor(() => expect(pool.idle).toBe(pool.made), { timeout: 5000, interval: 5 });

async function upload(c: Nfs4TestClient, name: string, data: Buffer): Promise<File> {
  const { fh, stateid } = await c.open(await c.fh('/data'), name, { create: true });
  for (let off = 0; off < data.length; off += MiB) await c.write(fh, stateid, off, data.subarray(off, off + MiB));
  return { fh, stateid, data };
}

/** The anonymous stateid: a client that did not open the file reads with it. */
const ANONYMOUS: stateid4 = { seqid: 0, other: Buffer.alloc(12) };

const readOp = (f: File, offset: number, count: number) => ({ argop: OP.OP_READ, args: { stateid: f.stateid, offset, count } }) as const;
const readsOf = (r: Awaited<ReturnType<Nfs4TestClient['send']>>) =>
  r.resarray.filter((x) => x.resop === OP.OP_READ).map((x) => (x.res as { resok: { data: Buffer } }).resok.data);

describe('NFSv4.1 READ into pooled buffers', () => {
  let fx: Nfs4Fixture;
  let c: Nfs4TestClient;
  let big: File;
  // Keeps more buffers than these tests have READs in flight, so "all back" is idle === made.
  const reads = new ReadAhead(new BufferPool(NFS4_MAX_IO, 256));

  beforeAll(async () => {
    fx = await startNfs4([{ name: 'data' }], { reads });
    c = await Nfs4TestClient.connect(fx.port);
    await c.mount();
    big = await upload(c, 'big.bin', new Prng(41).bytes(16 * MiB));
  });
  afterAll(async () => {
    await c?.destroy().catch(() => undefined);
    await fx?.close();
  });

  it('a front-to-back download reuses a few buffers, each given back once its reply is written', async () => {
    const made = reads.pool.made;
    const got: Buffer[] = [];
    for (let off = 0, eof = false; !eof; ) {
      const r = await c.read(big.fh, big.stateid, off, MiB);
      got.push(r.data);
      off += r.data.length;
      eof = r.eof || r.data.length === 0;
    }
    expect(Buffer.concat(got).equals(big.data)).toBe(true);
    // 16 READs of 1 MiB: the one being answered, the one read ahead, and one whose reply is still being written.
    expect(reads.pool.made - made).toBeLessThanOrEqual(3);
    expect(reads.hits).toBeGreaterThan(0);
    await allBack(reads.pool);
  });

  it('several READs in one COMPOUND each have their own buffer, all given back after the reply', async () => {
    const r = await c.call([{ argop: OP.OP_PUTFH, args: big.fh }, readOp(big, 5 * MiB + 3, 256 * KiB), readOp(big, 300 * KiB, 256 * KiB), readOp(big, 5 * MiB + 3 + 256 * KiB, 300 * KiB)]);
    const [a, b, d] = readsOf(r);
    expect(a.equals(big.data.subarray(5 * MiB + 3, 5 * MiB + 3 + 256 * KiB))).toBe(true);
    expect(b.equals(big.data.subarray(300 * KiB, 556 * KiB))).toBe(true);
    expect(d.equals(big.data.subarray(5 * MiB + 3 + 256 * KiB, 5 * MiB + 3 + 556 * KiB))).toBe(true);
    await allBack(reads.pool);
  });

  it('READs in flight on every slot of two sessions get their own bytes while the buffers go round', async () => {
    const d = await Nfs4TestClient.connect(fx.port);
    await d.mount();
    try {
      const rng = new Prng(7);
      const want = Array.from({ length: 96 }, () => {
        const count = 64 * KiB + Math.floor(rng.bytes(4).readUInt32BE() % (MiB - 64 * KiB));
        const offset = Math.floor(rng.bytes(4).readUInt32BE() % (big.data.length - count));
        return { offset, count };
      });
      const replies = await Promise.all(want.map((w, i) => (i % 2 ? c.read(big.fh, big.stateid, w.offset, w.count) : d.read(big.fh, ANONYMOUS, w.offset, w.count))));
      replies.forEach((r, i) => expect(r.data.equals(big.data.subarray(want[i].offset, want[i].offset + want[i].count))).toBe(true));
      // Both sessions' slots (8 each) were busy at once: the pool made about that many and got them all back.
      expect(reads.pool.made).toBeLessThanOrEqual(2 * CHANNEL.ca_maxrequests + 4);
      await allBack(reads.pool);
    } finally {
      await d.destroy();
    }
  });

  it('a connection closed while its READ replies wait to be written gives every buffer back; the next READs are right', async () => {
    const d = await Nfs4TestClient.connect(fx.port);
    await d.mount({ session: { csa_fore_chan_attrs: { ...CHANNEL, ca_maxrequests: 32 } } });
    expect(d.slots).toBe(32);
    // The client reads nothing: 32 MiB of replies back up in the server's socket, their buffers lent.
    d.rpc.stream.pause();
    const pending = Array.from({ length: 32 }, (_, i) => d.read(big.fh, ANONYMOUS, (i % 16) * MiB, MiB).catch(() => undefined));
    await vi.waitFor(() => expect(reads.pool.made - reads.pool.idle).toBeGreaterThanOrEqual(2), { timeout: 5000, interval: 5 });
    await new Promise((r) => setTimeout(r, 100));
    expect(reads.pool.made - reads.pool.idle).toBeGreaterThan(0);
    d.rpc.destroy();
    await Promise.all(pending);
    await allBack(reads.pool);
    const again = await Promise.all(Array.from({ length: 16 }, (_, i) => c.read(big.fh, big.stateid, i * MiB, MiB)));
    expect(Buffer.concat(again.map((r) => r.data)).equals(big.data)).toBe(true);
    await allBack(reads.pool);
  });
});

describe('NFSv4.1 READ replies kept in a slot for a retransmission', () => {
  let fx: Nfs4Fixture;
  // READs of 4 KiB and more go to the pool, so a READ reply is small enough for the slot to keep.
  const reads = new ReadAhead(new BufferPool(NFS4_MAX_IO, 4), { minCount: 4 * KiB });

  beforeAll(async () => {
    fx = await startNfs4([{ name: 'data' }], { reads });
  });
  afterAll(async () => {
    await fx?.close();
  });

  for (const cachethis of [true, false]) {
    it(`replay the bytes first sent after the pool's buffer was read into again (${cachethis ? 'sa_cachethis' : 'kept unasked'})`, async () => {
      const c = await Nfs4TestClient.connect(fx.port);
      await c.mount();
      try {
        // Whole files of 16 KiB: READ reaches eof, so nothing is read ahead and every READ takes the one idle buffer.
        const a = await upload(c, `a-${cachethis}`, Buffer.alloc(16 * KiB, 0xaa));
        const b = await upload(c, `b-${cachethis}`, Buffer.alloc(16 * KiB, 0xbb));
        const ops = [{ argop: OP.OP_PUTFH, args: a.fh }, readOp(a, 0, 16 * KiB)] as const;
        const seqid = c.seqid + 1;
        const first = await c.send([...ops], { seqid, cachethis });
        expect(first.status).toBe(nfsstat4.NFS4_OK);
        expect(readsOf(first)[0].equals(a.data)).toBe(true);
        const made = reads.pool.made;
        // Other READs in another slot read into the same buffer.
        for (let s = 1; s <= 3; s++) {
          await allBack(reads.pool);
          const r = await c.send([{ argop: OP.OP_PUTFH, args: b.fh }, readOp(b, 0, 16 * KiB)], { slot: 1, seqid: s });
          expect(readsOf(r)[0].equals(b.data)).toBe(true);
        }
        expect(reads.pool.made).toBe(made);
        const replays = fx.nfs4.counters.nfs4Replays;
        const again = await c.send([...ops], { seqid, cachethis });
        expect(fx.nfs4.counters.nfs4Replays).toBe(replays + 1);
        expect(readsOf(again)[0].equals(a.data)).toBe(true);
        expect(again).toEqual(first);
        c.seqid = seqid;
      } finally {
        await c.destroy();
      }
    });
  }
});

describe('NFSv4.1 READ with the server defaults', () => {
  it('takes its buffers from the server pool of NFS4_MAX_IO-byte buffers and gives them back', async () => {
    const fx = await startNfs4([{ name: 'data' }]);
    const c = await Nfs4TestClient.connect(fx.port);
    try {
      await c.mount();
      const f = await upload(c, 'f', new Prng(3).bytes(3 * MiB));
      for (let i = 0; i < 3; i++) expect((await c.read(f.fh, f.stateid, i * MiB, MiB)).data.equals(f.data.subarray(i * MiB, (i + 1) * MiB))).toBe(true);
      const pool = fx.nfs4.reads.pool;
      expect(pool.size).toBe(NFS4_MAX_IO);
      expect(pool.made).toBeGreaterThan(0);
      expect(pool.made).toBeLessThanOrEqual(3);
      await allBack(pool);
    } finally {
      await c.destroy();
      await fx.close();
    }
  });
});
