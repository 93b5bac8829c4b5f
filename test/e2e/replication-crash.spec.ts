import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Nfs3Client } from '../utils/nfs3-client';
import { freePort, login, spawnGateway, type GatewayProcess } from '../utils/process-gateway';

const MiB = 2 ** 20;
const PASSWORD = 'replication-crash-password';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Job {
  id: string;
  state: string;
  bytesDone: number;
  bytesTotal: number;
  error: string | null;
  checkpoint: { cycle: number; at: { run: number; offset: number } } | null;
}

/** A gateway process and an admin session on it; restart() kills nothing, it starts it again on the same data directory. */
class Side {
  gw: GatewayProcess | undefined;
  token = '';
  constructor(
    readonly dir: string,
    readonly env: Record<string, string>,
  ) {}

  async start(): Promise<void> {
    this.gw = await spawnGateway(this.dir, this.env);
    this.token = await login(this.gw.url, PASSWORD);
  }

  async call<T = any>(method: string, path: string, body?: Buffer | unknown): Promise<T> {
    const raw = Buffer.isBuffer(body);
    const res = await fetch(`${this.gw!.url}/api/v1/${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, 'content-type': raw ? 'application/octet-stream' : 'application/json' },
      body: body === undefined ? undefined : raw ? new Uint8Array(body) : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    if (path.endsWith('/image') && method === 'GET') return Buffer.from(await res.arrayBuffer()) as T;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async image(volume: string): Promise<string> {
    return sha(await this.call<Buffer>('GET', `volumes/${encodeURIComponent(volume)}/image`));
  }

  async waitJob(id: string, until: (j: Job) => boolean, timeoutMs = 60_000): Promise<Job> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const j = await this.call<Job>('GET', `jobs/${id}`);
      if (until(j)) return j;
      if (Date.now() > end) throw new Error(`job ${id} still ${j.state} at ${j.bytesDone}/${j.bytesTotal}: ${j.error ?? ''}\n${this.gw!.output().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * Two gateway processes on loopback, A replicating to B: kill -9 of the
 * target in the middle of a cycle (it comes back on the same SAN port and the
 * cycle carries on), then kill -9 of the source in the middle of the next
 * one (the restarted gateway resumes the cycle job from its checkpoint).
 * Each time the replica's cycle snapshot equals the source's.
 */
describe('replication survives kill -9 of either side mid-cycle', () => {
  const dirA = mkdtempSync(join(tmpdir(), 'strata-repl-a-'));
  const dirB = mkdtempSync(join(tmpdir(), 'strata-repl-b-'));
  let a: Side;
  let b: Side;
  afterAll(async () => {
    await a?.gw?.kill();
    await b?.gw?.kill();
    rmSync(dirA, { recursive: true, force: true });
    rmSync(dirB, { recursive: true, force: true });
  });

  it('converges after the target and then the source are killed mid-cycle', async () => {
    const common = { STRATA_ADMIN_PASSWORD: PASSWORD, STRATA_DEFAULT_DEVICE_SIZE: '256M', STRATA_REPLICATION_DATAGRAM_SIZE: '65000', STRATA_REPLICATION_RECONNECT_MS: '60000' };
    a = new Side(dirA, common);
    b = new Side(dirB, { ...common, STRATA_SAN_PORT: String(await freePort()) });
    await Promise.all([a.start(), b.start()]);
    const sanB = `127.0.0.1:${b.env.STRATA_SAN_PORT}`;

    const identity = await a.call('GET', 'replication/identity');
    await b.call('POST', 'hosts', { name: 'site-a', publicKey: identity.publicKey });
    await b.call('POST', 'volumes', { name: 'db-r', pool: 'default', size: 64 * MiB });
    await b.call('POST', 'volumes/db-r/replica', { host: 'site-a' });
    await a.call('POST', 'volumes', { name: 'db', pool: 'default', size: 64 * MiB });
    await a.call('PUT', 'volumes/db/image', randomBytes(48 * MiB));
    // Slow enough to be killed in the middle: 48 MiB at 12 MiB/s.
    await a.call('POST', 'replications', { volume: 'db', target: sanB, targetVolume: 'db-r', hostName: 'site-a', rateLimit: 12 * MiB });

    // Cycle 1 (full copy): the target dies with part of it written, and comes back.
    const first = (await a.call('POST', 'replications/db/run')).job as Job;
    await a.waitJob(first.id, (j) => j.bytesDone >= 12 * MiB);
    await b.gw!.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    await b.start();
    const done1 = await a.waitJob(first.id, (j) => j.state !== 'running' && j.state !== 'queued');
    expect(done1.state, done1.error ?? '').toBe('succeeded');
    expect(await b.image('db-r@cycle-1')).toBe(await a.image('db@repl-1'));

    // Cycle 2: rewrite 32 MiB; the source dies after a checkpoint, and resumes the same job when it restarts.
    await a.call('PUT', 'volumes/db/image', randomBytes(32 * MiB));
    const second = (await a.call('POST', 'replications/db/run')).job as Job;
    const before = await a.waitJob(second.id, (j) => (j.checkpoint?.cycle === 2 && (j.checkpoint.at.offset > 0 || j.checkpoint.at.run > 0)) || j.state !== 'running');
    expect(before.state).toBe('running');
    await a.gw!.kill('SIGKILL');
    await a.start();
    const done2 = await a.waitJob(second.id, (j) => j.state !== 'running' && j.state !== 'queued');
    expect(done2.state, done2.error ?? '').toBe('succeeded');
    // Resumed, not restarted: the same job, done in full (bytes past the checkpoint may have gone twice).
    expect(done2.bytesDone).toBe(done2.bytesTotal);
    expect(done2.bytesDone).toBeGreaterThanOrEqual(32 * MiB);
    expect(done2.bytesDone).toBeLessThan(64 * MiB);
    expect(await b.image('db-r@cycle-2')).toBe(await a.image('db@repl-2'));
    const status = (await a.call('GET', 'replications/db')).replication;
    expect(status).toMatchObject({ lastCycle: 2, lastError: null });
    // The base of cycle 1 went once cycle 2 was committed.
    expect(((await a.call('GET', 'volumes/db/snapshots')) as Array<{ name: string }>).map((s) => s.name)).toEqual(['repl-2']);
  });

  /**
   * A share: its volume and metadata database travel each cycle. The target
   * dies mid-cycle and comes back, then the source dies mid-cycle and
   * resumes; each committed cycle's database on B is A's, and after promote
   * NFS reads the files on B as they were at the last cycle, fsck clean.
   */
  it('a share converges the same way, metadata included, and promotes to its last cycle', async () => {
    const dirs = [mkdtempSync(join(tmpdir(), 'strata-repls-a-')), mkdtempSync(join(tmpdir(), 'strata-repls-b-'))];
    const ports = { a: await freePort(), b: await freePort(), bMount: await freePort(), aMount: await freePort() };
    const common = { STRATA_ADMIN_PASSWORD: PASSWORD, STRATA_DEFAULT_DEVICE_SIZE: '256M', STRATA_REPLICATION_DATAGRAM_SIZE: '65000', STRATA_REPLICATION_RECONNECT_MS: '60000' };
    const sa = new Side(dirs[0], { ...common, STRATA_NFS_PORT: String(ports.a), STRATA_MOUNT_PORT: String(ports.aMount) });
    const sb = new Side(dirs[1], { ...common, STRATA_SAN_PORT: String(await freePort()), STRATA_NFS_PORT: String(ports.b), STRATA_MOUNT_PORT: String(ports.bMount) });
    const clients: Nfs3Client[] = [];
    try {
      await Promise.all([sa.start(), sb.start()]);
      const rule = { clients: ['127.0.0.0/8'], access: 'rw', squash: 'no_root_squash', requirePrivilegedPort: false };
      await sa.call('POST', 'shares', { name: 'home', pool: 'default', size: 128 * MiB, rules: [rule] });
      await sb.call('POST', 'shares', { name: 'home-r', pool: 'default', size: 128 * MiB, rules: [rule] });
      const identity = await sa.call('GET', 'replication/identity');
      await sb.call('POST', 'hosts', { name: 'site-a', publicKey: identity.publicKey });
      await sb.call('POST', 'volumes/home-r/replica', { host: 'site-a' });

      const ca = await Nfs3Client.connect(ports.a);
      clients.push(ca);
      const root = await ca.mount('/home');
      const writeFile = async (dir: Buffer, name: string, data: Buffer) => {
        const fh = await ca.create(dir, name);
        for (let at = 0; at < data.length; at += 256 * 1024) await ca.write(fh, at, data.subarray(at, at + 256 * 1024));
      };
      await writeFile(root, 'big.bin', randomBytes(40 * MiB));
      const sub = await ca.mkdir(root, 'sub');
      for (let i = 0; i < 50; i++) await writeFile(sub, `f${i}`, randomBytes(100 + i * 37));
      await sa.call('POST', 'replications', { volume: 'home', target: `127.0.0.1:${sb.env.STRATA_SAN_PORT}`, targetVolume: 'home-r', hostName: 'site-a', rateLimit: 12 * MiB });
      const metaSha = async (side: Side, share: string, snapshot: string) => {
        const info = await side.call('GET', `shares/${share}`);
        const snap = await side.call('GET', `volumes/share:${share}/snapshots/${snapshot}`);
        return sha(readFileSync(join(side.dir, 'shares', info.id, 'snapshots', `${snap.id}.sqlite`)));
      };

      // Cycle 1: the target dies part way and comes back.
      const first = (await sa.call('POST', 'replications/home/run')).job as Job;
      await sa.waitJob(first.id, (j) => j.bytesDone >= 12 * MiB);
      await sb.gw!.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 500));
      await sb.start();
      const done1 = await sa.waitJob(first.id, (j) => j.state !== 'running' && j.state !== 'queued');
      expect(done1.state, done1.error ?? '').toBe('succeeded');
      expect(await metaSha(sb, 'home-r', 'cycle-1')).toBe(await metaSha(sa, 'home', 'repl-1'));

      // Cycle 2: a big file rewritten, small ones changed and removed; the source dies after a checkpoint and resumes.
      await writeFile(root, 'big.bin', randomBytes(40 * MiB));
      await ca.write((await ca.lookup(sub, 'f1')).fh, 0, Buffer.from('changed'));
      await ca.remove(sub, 'f2');
      await writeFile(root, 'new.txt', Buffer.from('new in cycle 2'));
      const expected: Record<string, string> = {};
      for (const name of await ca.readdirNames(sub)) if (name !== '.' && name !== '..') expected[`sub/${name}`] = sha(await ca.readAll((await ca.lookup(sub, name)).fh));
      expected['big.bin'] = sha(await ca.readAll((await ca.lookup(root, 'big.bin')).fh));
      expected['new.txt'] = sha(await ca.readAll((await ca.lookup(root, 'new.txt')).fh));
      await ca.close();
      clients.pop();
      const second = (await sa.call('POST', 'replications/home/run')).job as Job;
      const before = await sa.waitJob(second.id, (j) => (j.checkpoint?.cycle === 2 && (j.checkpoint.at.offset > 0 || j.checkpoint.at.run > 0)) || j.state !== 'running');
      expect(before.state).toBe('running');
      await sa.gw!.kill('SIGKILL');
      await sa.start();
      const done2 = await sa.waitJob(second.id, (j) => j.state !== 'running' && j.state !== 'queued');
      expect(done2.state, done2.error ?? '').toBe('succeeded');
      expect(await metaSha(sb, 'home-r', 'cycle-2')).toBe(await metaSha(sa, 'home', 'repl-2'));

      await sb.call('POST', 'volumes/home-r/replica/promote');
      const cb = await Nfs3Client.connect(ports.b);
      clients.push(cb);
      const rootB = await cb.mount('/home-r');
      const subB = (await cb.lookup(rootB, 'sub')).fh;
      const got: Record<string, string> = {};
      for (const name of await cb.readdirNames(subB)) if (name !== '.' && name !== '..') got[`sub/${name}`] = sha(await cb.readAll((await cb.lookup(subB, name)).fh));
      got['big.bin'] = sha(await cb.readAll((await cb.lookup(rootB, 'big.bin')).fh));
      got['new.txt'] = sha(await cb.readAll((await cb.lookup(rootB, 'new.txt')).fh));
      expect(got).toEqual(expected);
      expect(await sb.call('POST', 'shares/home-r/fsck')).toMatchObject({ clean: true });
    } finally {
      for (const c of clients) await c.close().catch(() => undefined);
      await sa.gw?.kill();
      await sb.gw?.kill();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });
});

