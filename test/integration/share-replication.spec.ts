import { createHash, createPrivateKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prng } from '../../src/common/prng';
import { SanClient, type SanError } from '../../src/client';
import { snapshotMetaPath } from '../../src/nas/share-paths';
import { IDENTITY_FILE } from '../../src/services/replication-identity';
import type { SnapshotInfo } from '../../src/storage/domain';
import { apiJson, startTestGateway, type TestGateway } from '../utils/gateway';
import { createShare, fileHashes, nasPorts } from '../utils/nas-fixture';
import { Nfs3Client } from '../utils/nfs3-client';
import { REPLICATION_ENV, replicate, runCycle, SOURCE_HOST, writeVolume } from '../utils/replication-fixture';
import { admin, sanAddress } from '../utils/san-fixture';

const text = (s: string) => Buffer.from(s);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const MiB = 2 ** 20;

/**
 * Replication of a share between two gateways in this process: its volume
 * and its metadata database travel each cycle (the database as the blocks
 * that changed); the replica share is not served until promoted, then
 * serves the files as they were at its last cycle, and passes fsck.
 */
describe('replication of a share', () => {
  let a: TestGateway;
  let b: TestGateway;
  let ca: Nfs3Client;
  let cb: Nfs3Client | null = null;

  const files = async (c: Nfs3Client, share: string) => fileHashes(c, await c.mount(`/${share}`));
  /** The metadata copy of a share snapshot `<share>@<name>` on a gateway. */
  const metaCopy = async (gw: TestGateway, share: string, snapshot: string) => {
    const info = await admin(gw, 'GET', `shares/${share}`);
    const snap = await admin(gw, 'GET', `volumes/share:${share}/snapshots/${snapshot}`);
    return snapshotMetaPath(join(gw.dataDir, 'shares'), info.id as string, snap.id as string);
  };
  const cycle = async () => {
    const job = await runCycle(a, 'home');
    expect(job.state, job.error ?? '').toBe('succeeded');
    return job;
  };

  beforeAll(async () => {
    [a, b] = await Promise.all([startTestGateway(REPLICATION_ENV), startTestGateway(REPLICATION_ENV)]);
    await createShare(a, 'home');
    ca = await Nfs3Client.connect(nasPorts(a).nfs);
    const identity = await admin(a, 'GET', 'replication/identity');
    await admin(b, 'POST', 'hosts', { name: SOURCE_HOST, publicKey: identity.publicKey });
  });
  afterAll(async () => {
    await ca?.close();
    await cb?.close();
    await Promise.all([a?.close(), b?.close()]);
  });

  it('a share that holds files is accepted as a replica only with force; a replica share is not served', async () => {
    await createShare(b, 'home-r');
    await createShare(b, 'busy');
    const c = await Nfs3Client.connect(nasPorts(b).nfs);
    try {
      const root = await c.mount('/busy');
      await c.write(await c.create(root, 'x'), 0, new Prng(1).bytes(70_000));
      const refused = await apiJson(b, 'volumes/busy/replica', { method: 'POST', json: { host: SOURCE_HOST } });
      expect(refused).toMatchObject({ status: 409, body: { code: 'SHARE_NOT_EMPTY' } });
      expect(refused.body.message).toMatch(/share 'busy' holds .* of file data/);

      const accepted = await admin(b, 'POST', 'volumes/home-r/replica', { host: SOURCE_HOST });
      expect(accepted).toMatchObject({ name: 'share:home-r', replica: { hostName: SOURCE_HOST, lastCycle: 0 } });
      expect(await admin(b, 'GET', 'shares/home-r')).toMatchObject({ replica: { hostName: SOURCE_HOST, lastCycle: 0 } });
      // Not served: MOUNT does not know it.
      await expect(c.mount('/home-r')).rejects.toThrow(/MNT3ERR_NOENT|2\b/);
    } finally {
      await c.close();
    }
  });

  it('cycles copy the volume and the metadata; only changed metadata blocks travel after the first', async () => {
    const root = await ca.mount('/home');
    await ca.write(await ca.create(root, 'a.txt'), 0, text('first version of a'));
    const big = new Prng(2).bytes(3 * MiB + 5);
    const bigFh = await ca.create(root, 'big.bin');
    for (let at = 0; at < big.length; at += 256 * 1024) await ca.write(bigFh, at, big.subarray(at, at + 256 * 1024));
    const sub = await ca.mkdir(root, 'sub');
    for (let i = 0; i < 120; i++) await ca.write(await ca.create(sub, `f${i}`), 0, text(`file ${i} `.repeat(i + 1)));
    await replicate(a, b, 'home', 'home-r');
    const listed = await admin(a, 'GET', 'replications/home');
    expect(listed.replication).toMatchObject({ share: { name: 'home' }, targetVolume: 'home-r' });
    // A replicated share is not deleted from under its replication.
    const del = await apiJson(a, 'shares/home', { method: 'DELETE' });
    expect(del).toMatchObject({ status: 409, body: { code: 'REPLICATED' } });
    expect(del.body.message).toMatch(/strata replication rm home/);

    const first = await cycle();
    const firstMeta = readFileSync(await metaCopy(a, 'home', 'repl-1'));
    expect(sha(readFileSync(await metaCopy(b, 'home-r', 'cycle-1')))).toBe(sha(firstMeta));
    expect(first.bytesDone).toBeGreaterThan(3 * MiB + firstMeta.length - 1);

    // One file changed, one removed, one added: a few metadata blocks and one data page go.
    await ca.write((await ca.lookup(root, 'a.txt')).fh, 0, text('SECOND'));
    await ca.remove(sub, 'f3');
    await ca.write(await ca.create(root, 'new.txt'), 0, text('new'));
    const atCycle2 = await files(ca, 'home');
    const second = await cycle();
    const secondMeta = readFileSync(await metaCopy(a, 'home', 'repl-2'));
    expect(sha(readFileSync(await metaCopy(b, 'home-r', 'cycle-2')))).toBe(sha(secondMeta));
    // Small files keep their bytes in the metadata (inline data): the cycle moves part of the database and no data page.
    expect(second.bytesDone).toBeGreaterThan(0);
    expect(second.bytesDone).toBeLessThan(secondMeta.length);
    expect(second.bytesDone).toBeLessThan(first.bytesDone / 2);
    const replica = await admin(b, 'GET', 'volumes/home-r/replica');
    expect(replica.replica).toMatchObject({ lastCycle: 2, snapshot: 'share:home-r@cycle-2' });

    // After the last cycle: not on the replica.
    await ca.write(await ca.create(root, 'late.txt'), 0, text('after cycle 2'));

    // A cut-off cycle left part of its data on the replica: promote goes back to cycle 2, volume and metadata.
    await writeVolume(b, 'share:home-r', 0, new Prng(3).bytes(MiB));
    const promoted = await admin(b, 'POST', 'volumes/home-r/replica/promote');
    expect(promoted.replica).toBeNull();
    cb = await Nfs3Client.connect(nasPorts(b).nfs);
    await expect.poll(async () => (await files(cb!, 'home-r').catch(() => null)) !== null, { timeout: 10_000 }).toBe(true);
    expect(await files(cb, 'home-r')).toEqual(atCycle2);
    const fsck = await admin(b, 'POST', 'shares/home-r/fsck');
    expect(fsck).toMatchObject({ clean: true });
    // Its cycle snapshots are share snapshots now, under /.snapshots/.
    const rootB = await cb.mount('/home-r');
    const snaps = await cb.lookup(rootB, '.snapshots');
    expect((await cb.readdirNames(snaps.fh)).filter((n) => n.startsWith('cycle-')).sort()).toEqual(['cycle-1', 'cycle-2']);
    // And it takes writes like any share.
    await cb.write(await cb.create(rootB, 'after-promote.txt'), 0, text('mine now'));
  });

  it("a target whose copy of the base differs gets the database whole, once, and ends equal", async () => {
    await createShare(b, 'home-r2');
    await admin(b, 'POST', 'volumes/home-r2/replica', { host: SOURCE_HOST });
    await admin(a, 'DELETE', 'replications/home');
    await replicate(a, b, 'home', 'home-r2');
    await cycle();
    // Damage the target's copy of cycle 1 (the base of cycle 2's changes): all but its first page lost.
    const base = await metaCopy(b, 'home-r2', 'cycle-1');
    writeFileSync(base, readFileSync(base).subarray(0, 4096));
    await ca.write(await ca.create(await ca.mount('/home'), 'more.txt'), 0, text('more'));
    const job = await cycle();
    const meta = readFileSync(await metaCopy(a, 'home', 'repl-2'));
    expect(sha(readFileSync(await metaCopy(b, 'home-r2', 'cycle-2')))).toBe(sha(meta));
    // The whole database went the second time.
    expect(job.bytesTotal).toBeGreaterThanOrEqual(meta.length);
  });

  it('a share into a block volume replica, or a volume into a share replica, is refused with REPLICA_MISMATCH', async () => {
    await admin(b, 'POST', 'volumes', { name: 'blockr', pool: 'default', size: '64M' });
    await admin(b, 'POST', 'volumes/blockr/replica', { host: SOURCE_HOST });
    await admin(a, 'DELETE', 'replications/home');
    // The share's volume on the target is `share:<name>`: a share replicated to a block volume's name finds no share.
    await replicate(a, b, 'home', 'blockr');
    const wrongTarget = await runCycle(a, 'home');
    expect(wrongTarget.state).toBe('failed');
    expect(wrongTarget.error).toMatch(/share 'blockr' on the target is not a replica written by host 'site-a'.*strata replica accept blockr --host site-a/);

    // What a confused source would send, straight over SAN with A's replication key.
    await createShare(b, 'home-r3');
    await admin(b, 'POST', 'volumes/home-r3/replica', { host: SOURCE_HOST });
    const key = createPrivateKey(readFileSync(join(a.dataDir, IDENTITY_FILE), 'utf8'));
    const client = await SanClient.connect({ gateways: [sanAddress(b)], host: SOURCE_HOST, key, connectTimeoutMs: 3000 });
    try {
      const share = await client.open('share:home-r3');
      const bare = await share.replicaCommit(1).then(() => null, (e: unknown) => e as SanError);
      expect(bare).toMatchObject({ code: 'REPLICA_MISMATCH' });
      expect(bare!.message).toMatch(/'home-r3' is a share replica, and the source sends a block volume without its metadata/);
      const block = await client.open('blockr');
      const meta = await block.replicaMetadata(1, 0, 0, Buffer.alloc(4096)).then(() => null, (e: unknown) => e as SanError);
      expect(meta).toMatchObject({ code: 'REPLICA_MISMATCH' });
      expect(meta!.message).toMatch(/volume 'blockr' is a block volume replica, and the source replicates a share/);
      // Changes against a cycle the replica does not hold.
      const based = await share.replicaMetadata(2, 1, 0, Buffer.alloc(10)).then(() => null, (e: unknown) => e as SanError);
      expect(based).toMatchObject({ code: 'REPLICA_MISMATCH' });
      expect(based!.message).toMatch(/holds cycle 0, and the source sent changes against cycle 1/);
      // A commit whose database was never sent.
      const empty = await share.replicaCommit(1, { length: 10, sha256: Buffer.alloc(32) }).then(() => null, (e: unknown) => e as SanError);
      expect(empty).toMatchObject({ code: 'REPLICA_MISMATCH' });
      expect(empty!.message).toMatch(/no metadata database was received for cycle 1/);
      // Nothing was snapshotted by any of it.
      expect(await admin<SnapshotInfo[]>(b, 'GET', 'volumes/share:home-r3/snapshots')).toEqual([]);
      expect(await admin<SnapshotInfo[]>(b, 'GET', 'volumes/blockr/snapshots')).toEqual([]);
    } finally {
      await client.close();
    }
  });
});
