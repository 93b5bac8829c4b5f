import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Prng } from '../../src/common/prng';
import { login, ROOT, spawnGateway, type GatewayProcess } from '../utils/process-gateway';

const MiB = 2 ** 20;
const PASSWORD = 'mirror-test-password';
const BIN = join(ROOT, 'bin/strata.js');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The gateway as a user runs it (dist/, its own process) driven by the real
 * `strata` CLI: a mirror's initial sync is killed with SIGKILL part way,
 * resumes at the next start from its checkpoint, and after a role swap the
 * volume reads back the same bytes from the other pool.
 */
describe('mirror and jobs through the gateway process and the CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-mirror-e2e-'));
  const env = { STRATA_ADMIN_PASSWORD: PASSWORD, STRATA_DEFAULT_DEVICE_SIZE: '128M', STRATA_MIRROR_PROBE_MS: '0' };
  let gw: GatewayProcess | undefined;
  let token = '';

  afterAll(async () => {
    await gw?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  function strata(args: string[]): Promise<Result> {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: dir,
      env: { ...process.env, STRATA_URL: gw!.url, STRATA_TOKEN: token, STRATA_CLI_CONFIG: join(dir, 'cli.json') },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end('');
    return new Promise((res, rej) => {
      child.once('error', rej);
      child.once('close', (code) => res({ code: code ?? -1, stdout, stderr }));
    });
  }

  async function json<T>(args: string[]): Promise<T> {
    const r = await strata(['--json', ...args]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    return JSON.parse(r.stdout) as T;
  }

  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${gw!.url}/api/v1/${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers } });

  const image = async () => createHash('sha256').update(Buffer.from(await (await api('volumes/mv/image')).arrayBuffer())).digest('hex');

  it('add (initial sync as a job) → kill -9 mid-sync → restart resumes it → in sync → swap reads the same bytes → rm', async () => {
    gw = await spawnGateway(dir, env);
    token = await login(gw.url, PASSWORD);
    expect((await api('devices', { method: 'POST', body: JSON.stringify({ name: 'd2', kind: 'file', path: join(dir, 'd2.img'), size: '128M' }) })).status).toBe(201);
    expect((await api('pools', { method: 'POST', body: JSON.stringify({ name: 'p2', layout: 'concat', members: [{ device: 'd2' }] }) })).status).toBe(201);
    expect((await api('volumes', { method: 'POST', body: JSON.stringify({ name: 'mv', pool: 'default', size: '32M' }) })).status).toBe(201);
    const put = await api('volumes/mv/image', { method: 'PUT', body: new Prng(9).bytes(32 * MiB), headers: { 'content-type': 'application/octet-stream' } });
    expect(put.status).toBe(200);
    const original = await image();

    // Four regions a second: 32 regions take about 8 s, so the kill lands part way.
    const added = await json<{ job: { id: string }; volume: { mirror: { state: string } } }>(['mirror', 'add', 'mv', '--pool', 'p2', '--rate-limit', '4M']);
    const id = added.job.id;
    for (;;) {
      const j = await json<{ bytesDone: number; checkpoint: { next: number } | null }>(['job', 'show', id]);
      if (j.checkpoint && j.checkpoint.next > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await gw.kill('SIGKILL');

    gw = await spawnGateway(dir, env);
    token = await login(gw.url, PASSWORD);
    const after = await json<{ state: string; bytesDone: number; checkpoint: { next: number } }>(['job', 'show', id]);
    expect(after.checkpoint.next).toBeGreaterThan(0);
    expect(after.bytesDone).toBeGreaterThan(0);
    const waited = await strata(['job', 'wait', id]);
    expect(waited.code).toBe(0);
    expect(waited.stdout).toContain('is succeeded, 100% done');

    const status = await strata(['mirror', 'status', 'mv']);
    expect(status.stdout).toMatch(/Mirror:\s+on pool p2, in-sync/);
    expect((await strata(['job', 'ls'])).stdout).toMatch(new RegExp(`${id}\\s+mirror-resync\\s+volume mv\\s+succeeded`));
    const again = await strata(['mirror', 'resync', 'mv']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('MIRROR_IN_SYNC');
    expect(await image()).toBe(original);

    // The copy on p2 becomes the primary: the same bytes come back from the other pool.
    const swapped = await strata(['mirror', 'swap', 'mv']);
    expect(swapped.stdout).toContain("Volume 'mv' now runs on pool 'p2'; its mirror is on pool default, in-sync.");
    expect(await image()).toBe(original);

    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toMatch(/strata_jobs_finished_total\{kind="mirror-resync",outcome="succeeded"\} 1/);
    expect(metrics).toMatch(/strata_jobs_bytes_total\{kind="mirror-resync"\} [1-9]/);

    const rm = await strata(['mirror', 'rm', 'mv', '--yes']);
    expect(rm.stdout).toContain("Removed the mirror of volume 'mv'.");
    const gone = await strata(['mirror', 'status', 'mv']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('NOT_MIRRORED');
    expect(await image()).toBe(original);
    const audit = (await (await api('audit?action=mirror.swap')).json()) as Array<{ actor: string; outcome: string }>;
    expect(audit[0]).toMatchObject({ actor: 'admin', outcome: 'success' });
  });

  it('write-intent log: a clean stop leaves the mirror in sync; kill -9 right after mirrored writes brings it back degraded, and the resync makes both sides equal', async () => {
    // Unmirrored on p2 since the last test: mirror it on the default pool again.
    const added = await json<{ job: { id: string } }>(['mirror', 'add', 'mv', '--pool', 'default']);
    expect((await strata(['job', 'wait', added.job.id])).code).toBe(0);
    const put = (seed: number) => api('volumes/mv/image', { method: 'PUT', body: new Prng(seed).bytes(32 * MiB), headers: { 'content-type': 'application/octet-stream' } });
    const mirror = async () => (await json<{ mirror: { state: string; reason: string | null; dirtyRegions: number; intentRegions: number } }>(['volume', 'show', 'mv'])).mirror;

    expect((await put(10)).status).toBe(200);
    expect((await mirror()).intentRegions).toBeGreaterThan(0);
    await gw!.kill('SIGTERM');
    gw = await spawnGateway(dir, env);
    token = await login(gw.url, PASSWORD);
    expect(await mirror()).toMatchObject({ state: 'in-sync', dirtyRegions: 0, intentRegions: 0 });

    // Acknowledged writes, then a crash within the log's linger time: the regions they touched come back to be checked.
    expect((await put(11)).status).toBe(200);
    const written = await image();
    await gw.kill('SIGKILL');
    gw = await spawnGateway(dir, env);
    token = await login(gw.url, PASSWORD);
    const after = await mirror();
    expect(after.state).toBe('degraded');
    expect(after.reason).toMatch(/stopped with mirrored writes in flight: \d+ region\(s\) may differ/);
    expect(after.dirtyRegions).toBeGreaterThan(0);
    const resync = await json<{ job: { id: string } }>(['mirror', 'resync', 'mv']);
    expect((await strata(['job', 'wait', resync.job.id])).code).toBe(0);
    expect(await mirror()).toMatchObject({ state: 'in-sync', dirtyRegions: 0 });
    expect(await image()).toBe(written);
    // The other copy holds the same bytes.
    expect((await strata(['mirror', 'swap', 'mv'])).code).toBe(0);
    expect(await image()).toBe(written);
  });
});
