import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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
      body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
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
});
