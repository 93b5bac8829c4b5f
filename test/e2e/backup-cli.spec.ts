import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, spawnGateway, type GatewayProcess } from '../utils/process-gateway';

const BIN = join(resolve(__dirname, '../..'), 'bin/strata.js');
const MiB = 2 ** 20;
const PASSWORD = 'backup-cli-password';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** `strata backup …` as an admin types it, against the built gateway running as its own process. */
describe('strata backup against a gateway process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-backupcli-'));
  let gw: GatewayProcess;
  let token: string;

  function strata(...args: string[]): Promise<Result> {
    const env: NodeJS.ProcessEnv = { ...process.env, STRATA_URL: gw.url, STRATA_TOKEN: token, STRATA_CLI_CONFIG: join(dir, 'cli.json') };
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise((res, rej) => {
      child.once('error', rej);
      child.once('close', (code) => res({ code: code ?? -1, stdout, stderr }));
    });
  }
  const ok = (r: Result) => expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  const imageOf = async (volume: string) => sha(Buffer.from(await (await fetch(`${gw.url}/api/v1/volumes/${volume}/image`, { headers: { authorization: `Bearer ${token}` } })).arrayBuffer()));

  beforeAll(async () => {
    gw = await spawnGateway(dir, { STRATA_ADMIN_PASSWORD: PASSWORD, STRATA_DEFAULT_DEVICE_SIZE: '128M' });
    token = await login(gw.url, PASSWORD);
    mkdirSync(join(dir, 'backups'));
  }, 60_000);
  afterAll(async () => {
    await gw?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('adds a target, backs up full and incremental, lists, shows, verifies, restores and refuses what would break a chain', async () => {
    ok(await strata('volume', 'create', 'data', '--pool', 'default', '--size', '12M'));
    const first = randomBytes(12 * MiB);
    writeFileSync(join(dir, 'first.img'), first);
    ok(await strata('volume', 'upload', 'data', join(dir, 'first.img')));

    const added = await strata('backup', 'target', 'add', 'nas', '--directory', join(dir, 'backups'));
    ok(added);
    expect(added.stdout.trim()).toBe(`Added backup target 'nas' (directory, ${join(dir, 'backups')}).`);
    const both = await strata('backup', 'target', 'add', 'bad', '--directory', dir, '--pool', 'default');
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give exactly one of --directory, --device or --pool');

    const full = await strata('backup', 'create', 'data', '--target', 'nas', '--wait');
    ok(full);
    expect(full.stdout).toMatch(/^Backup \S+ \(full\) of volume 'data' to target 'nas' started\./);
    expect(full.stdout).toMatch(/is succeeded, 100% done\.\n$/);
    const patch = randomBytes(MiB);
    writeFileSync(join(dir, 'patch.img'), patch);
    ok(await strata('volume', 'upload', 'data', join(dir, 'patch.img'), '--offset', String(5 * MiB)));
    const secondSha = await imageOf('data');
    ok(await strata('backup', 'create', 'data', '--target', 'nas', '--incremental', '--rate', '100M', '--wait'));

    const list = await strata('backup', 'ls', '--volume', 'data');
    ok(list);
    expect(list.stdout).toMatch(/^ID +VOLUME +KIND +TARGET +STATE +SIZE +STORED +CREATED\n\S+ +data +full +nas +complete +12 MiB +12\.0 MiB .*\n\S+ +data +incremental +nas +complete +12 MiB +1\.00 MiB /);
    const [b1, b2] = JSON.parse((await strata('--json', 'backup', 'ls')).stdout) as Array<{ id: string; imageDigest: string }>;
    const show = await strata('backup', 'show', b2.id);
    ok(show);
    expect(show.stdout).toContain(`Parent:        ${b1.id}`);
    expect(show.stdout).toContain(`Image digest:  ${b2.imageDigest}`);

    const verified = await strata('backup', 'verify', b2.id);
    ok(verified);
    expect(verified.stdout).toMatch(/\(backup-verify of backup '.*'\) is succeeded, 100% done\./);
    ok(await strata('backup', 'restore', b1.id, '--to', 'data-1', '--wait'));
    ok(await strata('backup', 'restore', b2.id, '--to', 'data-2', '--wait'));
    expect(await imageOf('data-1')).toBe(sha(first));
    expect(await imageOf('data-2')).toBe(secondSha);

    const rm = await strata('--yes', 'backup', 'rm', b1.id);
    expect(rm.code).toBe(1);
    expect(rm.stderr).toContain('has 1 incremental backup(s) built on it');
    const snapRm = await strata('--yes', 'snapshot', 'rm', 'data', `backup-${b2.id}`);
    expect(snapRm.code).toBe(1);
    expect(snapRm.stderr).toContain("is the base of the next incremental backup of 'data' to target 'nas'");

    // One flipped byte in the full image: verify and restore both say where.
    const file = join(dir, 'backups', 'data', `${b1.id}.img`);
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.from([readFileSync(file)[9 * MiB] ^ 1]), 0, 1, 9 * MiB);
    closeSync(fd);
    const bad = await strata('backup', 'verify', b2.id);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`backup ${b1.id} (${file}): page 9 (bytes [${9 * MiB}, ${10 * MiB})) does not match its SHA-256: the image is damaged`);
    const badRestore = await strata('backup', 'restore', b2.id, '--to', 'data-3', '--wait');
    expect(badRestore.code).toBe(1);
    expect(badRestore.stderr).toContain('does not match its SHA-256');

    ok(await strata('--yes', 'backup', 'rm', b1.id, '--with-dependents'));
    expect(JSON.parse((await strata('--json', 'backup', 'ls')).stdout)).toEqual([]);
    ok(await strata('--yes', 'backup', 'target', 'rm', 'nas'));
    expect((await strata('backup', 'target', 'ls')).stdout.trim()).toBe('No backup targets (add one with backup target add).');
  }, 120_000);
});
