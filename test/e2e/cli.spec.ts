import { execFileSync, spawn } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../utils/gateway';

const ROOT = resolve(__dirname, '../..');
const BIN = join(ROOT, 'bin/strata.js');
const BUILT = join(ROOT, 'dist/src/cli/main.js');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Newest modification time under a directory (the CLI sources). */
function newest(dir: string): number {
  return Math.max(
    ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)),
  );
}

/** The CLI runs from dist: build only when it is missing or older than its sources (a full build takes a while). */
function buildIfStale(): void {
  if (existsSync(BUILT) && statSync(BUILT).mtimeMs >= newest(join(ROOT, 'src/cli'))) return;
  execFileSync('npx', ['nest', 'build'], { cwd: ROOT, stdio: 'pipe' });
}

/** An OpenSSH public key line, as a host's keygen would print it. */
function sshEd25519Key(): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  const type = Buffer.from('ssh-ed25519');
  const blob = Buffer.alloc(8 + type.length + raw.length);
  blob.writeUInt32BE(type.length, 0);
  type.copy(blob, 4);
  blob.writeUInt32BE(raw.length, 4 + type.length);
  raw.copy(blob, 8 + type.length);
  return `ssh-ed25519 ${blob.toString('base64')} test@cli`;
}

/** Success, and nothing on stderr; on failure the assertion shows what the CLI said. */
const ok = (r: Result) => expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** A port nothing listens on: bind one, then let it go. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('strata CLI against a real gateway', () => {
  let gw: TestGateway;
  let dir: string;
  let configFile: string;

  /** Spawn the real binary; stdin is a pipe (never a TTY), fed `input` then closed. */
  function strata(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<Result> {
    const env: NodeJS.ProcessEnv = { ...process.env, STRATA_CLI_CONFIG: configFile, ...opts.env };
    // The developer's own session must not leak into the test.
    for (const k of ['STRATA_URL', 'STRATA_TOKEN'] as const) if (!opts.env?.[k]) delete env[k];
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(opts.input ?? '');
    return new Promise((res, rej) => {
      child.once('error', rej);
      child.once('close', (code) => res({ code: code ?? -1, stdout, stderr }));
    });
  }

  const json = async <T>(args: string[]): Promise<T> => {
    const r = await strata(['--json', ...args]);
    ok(r);
    return JSON.parse(r.stdout) as T;
  };

  beforeAll(async () => {
    buildIfStale();
    dir = mkdtempSync(join(tmpdir(), 'strata-cli-'));
    configFile = join(dir, 'config', 'cli.json');
    gw = await startTestGateway();
  }, 300_000);

  afterAll(async () => {
    await gw?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('says "not logged in" before any login', async () => {
    const r = await strata(['--url', gw.url, 'volume', 'list']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('not logged in: run strata login');
  });

  it('rejects a wrong password', async () => {
    const r = await strata(['--url', gw.url, 'login', 'admin', '--password-stdin'], { input: 'not-the-password\n' });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('wrong username or password');
    expect(existsSync(configFile)).toBe(false);
  });

  it('logs in with --password-stdin and remembers the session owner-only', async () => {
    const r = await strata(['--url', gw.url, 'login', 'admin', '--password-stdin'], { input: `${ADMIN_PASSWORD}\n` });
    ok(r);
    expect(r.stdout).toContain(`Logged in to ${gw.url} as admin`);
    expect(statSync(configFile).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, string>;
    expect(saved).toMatchObject({ url: gw.url, username: 'admin' });
    expect(saved.token).toMatch(/\S{20,}/);
  });

  it('whoami uses the remembered URL and token', async () => {
    const r = await strata(['whoami']);
    ok(r);
    expect(r.stdout.trim()).toBe(`admin at ${gw.url}`);
    expect(await json<{ username: string }>(['whoami'])).toEqual({ username: 'admin' });
  });

  it('rejects a bad token as an expired session', async () => {
    const r = await strata(['--token', 'bogus', 'whoami']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('session expired: run strata login again');
  });

  it('adds, lists and shows a RAM device', async () => {
    const add = await strata(['device', 'add', 'ram1', '--kind', 'ram', '--size', '64M']);
    ok(add);
    const list = await strata(['device', 'list']);
    expect(list.stdout).toMatch(/^NAME\s+KIND\s+SIZE\s+FREE\s+STATE/);
    expect(list.stdout).toMatch(/ram1\s+ram\s+64 MiB\s+64 MiB\s+online/);
    const show = await strata(['device', 'show', 'ram1']);
    expect(show.stdout).toMatch(/Kind:\s+ram/);
    expect(show.stdout).toMatch(/Size:\s+64 MiB \(67108864 bytes\)/);
    const dev = await json<{ name: string; size: number; kind: string }>(['device', 'show', 'ram1']);
    expect(dev).toMatchObject({ name: 'ram1', size: 64 * 2 ** 20, kind: 'ram' });
  });

  it('rejects a malformed size as a usage error before calling the API', async () => {
    const r = await strata(['device', 'add', 'ram2', '--kind', 'ram', '--size', '12X']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("'12X' is not a size");
  });

  it('creates a pool on the device', async () => {
    const r = await strata(['pool', 'create', 'p1', '--layout', 'concat', '--member', 'ram1']);
    ok(r);
    const list = await strata(['pool', 'list']);
    expect(list.stdout).toMatch(/p1\s+concat\s+online/);
    const pool = await json<{ name: string; members: Array<{ deviceName: string }> }>(['pool', 'show', 'p1']);
    expect(pool.members.map((m) => m.deviceName)).toEqual(['ram1']);
    const check = await strata(['pool', 'check', 'p1']);
    ok(check);
    expect(check.stdout).toContain("Pool 'p1': consistent");
  });

  it('creates, lists, shows and grows a volume', async () => {
    const r = await strata(['volume', 'create', 'v1', '--pool', 'p1', '--size', '16M']);
    ok(r);
    expect(r.stdout).toContain("Created thin volume 'v1' (16 MiB) in pool 'p1'");
    const list = await strata(['volume', 'list', '--pool', 'p1']);
    expect(list.stdout.split('\n')[0].split(/\s+/)).toEqual(['NAME', 'POOL', 'SIZE', 'ALLOCATED', 'PROVISIONING', 'STATE', 'HOSTS']);
    expect(list.stdout).toMatch(/v1\s+p1\s+16 MiB\s+\S+ \S+\s+thin\s+online\s+-/);
    const grow = await strata(['volume', 'grow', 'v1', '32M']);
    ok(grow);
    const show = await strata(['volume', 'show', 'v1']);
    expect(show.stdout).toMatch(/Size:\s+32 MiB \(33554432 bytes\)/);
    const vols = await json<Array<{ name: string; size: number }>>(['volume', 'list']);
    expect(vols.find((v) => v.name === 'v1')?.size).toBe(32 * 2 ** 20);
  });

  it('explains an impossible request with the API code', async () => {
    const r = await strata(['volume', 'create', 'huge', '--pool', 'p1', '--size', '1G', '--thick']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^strata: .*not enough space.* \(NO_SPACE\)\n$/);
    const j = await strata(['--json', 'volume', 'create', 'huge', '--pool', 'p1', '--size', '1G', '--thick']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stderr)).toMatchObject({ statusCode: 409, code: 'NO_SPACE' });
  });

  it('adds a host and assigns, lists and revokes a volume', async () => {
    const key = sshEd25519Key();
    const add = await strata(['host', 'add', 'h1', '--key', key, '--description', 'test host']);
    expect(add.stderr).toBe('');
    expect(add.stdout).toMatch(/Added host 'h1' \(SHA256:/);
    const keyFile = join(dir, 'h2.pub');
    writeFileSync(keyFile, `${sshEd25519Key()}\n`);
    ok(await strata(['host', 'add', 'h2', '--key-file', keyFile, '--security', 'integrity']));
    expect((await strata(['host', 'list'])).stdout).toMatch(/h1\s+SHA256:\S+\s+encrypt\s+-\s+test host/);
    expect((await strata(['host', 'show', 'h2'])).stdout).toMatch(/SAN security:\s+integrity \(may send data in clear, authenticated\)/);
    expect((await json<{ security: string }>(['host', 'update', 'h2', '--security', 'encrypt'])).security).toBe('encrypt');
    const bad = await strata(['host', 'update', 'h2', '--security', 'none']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Allowed choices are encrypt, integrity/);

    const a = await json<{ id: string; access: string; sharing: string }>(['assignment', 'create', 'h1', 'v1', '--ro']);
    expect(a).toMatchObject({ access: 'ro', sharing: 'exclusive' });
    const list = await strata(['assignment', 'list', '--volume', 'v1']);
    expect(list.stdout).toContain(a.id);
    expect(list.stdout).toMatch(/h1\s+v1\s+ro\s+exclusive/);
    expect((await strata(['volume', 'list'])).stdout).toMatch(/v1\s.*h1\(ro\)/);
    const upd = await json<{ access: string }>(['assignment', 'update', a.id, '--access', 'rw']);
    expect(upd.access).toBe('rw');

    const refused = await strata(['assignment', 'revoke', a.id]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`refusing to revoke assignment '${a.id}' without confirmation`);
    expect(refused.stderr).toContain('--yes');

    const revoked = await strata(['assignment', 'revoke', a.id, '--yes']);
    ok(revoked);
    expect(await json<unknown[]>(['assignment', 'list', '--host', 'h1'])).toEqual([]);
  });

  it('refuses to delete a volume without --yes when there is no terminal', async () => {
    const r = await strata(['volume', 'delete', 'v1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("refusing to delete volume 'v1' without confirmation");
    ok(await strata(['volume', 'show', 'v1']));
  });

  it('uploads a 10 MiB file and downloads it back byte-identical', async () => {
    const src = join(dir, 'image.bin');
    writeFileSync(src, randomBytes(10 * 2 ** 20));
    const up = await strata(['volume', 'upload', 'v1', src]);
    ok(up);
    expect(up.stdout).toMatch(/Uploaded 10 MiB .* MB\/s\)/);

    const dst = join(dir, 'back.bin');
    const down = await strata(['volume', 'download', 'v1', dst, '--length', '10M']);
    ok(down);
    expect(down.stdout).toMatch(/Downloaded 10 MiB .* MB\/s\)/);
    expect(sha256(dst)).toBe(sha256(src));

    // An existing, longer file is rewritten in place and ends where the image ends.
    writeFileSync(dst, Buffer.alloc(12 * 2 ** 20, 0xff));
    ok(await strata(['volume', 'download', 'v1', dst, '--length', '10M']));
    expect(sha256(dst)).toBe(sha256(src));

    // A range from the middle, at an offset given as a size.
    const part = join(dir, 'part.bin');
    ok(await strata(['volume', 'download', 'v1', part, '--offset', '1M', '--length', '4096']));
    expect(readFileSync(part).equals(readFileSync(src).subarray(2 ** 20, 2 ** 20 + 4096))).toBe(true);
  });

  it('takes, lists, clones, rolls back and deletes snapshots', async () => {
    const first = join(dir, 'snap-first.bin');
    writeFileSync(first, randomBytes(2 * 2 ** 20));
    ok(await strata(['volume', 'create', 'sv', '--pool', 'p1', '--size', '2M']));
    ok(await strata(['volume', 'upload', 'sv', first]));
    const created = await strata(['snapshot', 'create', 'sv', 'before']);
    ok(created);
    expect(created.stdout).toBe("Created snapshot 'before' of volume 'sv' (sv@before).\n");
    writeFileSync(join(dir, 'snap-later.bin'), randomBytes(2 ** 20));
    ok(await strata(['volume', 'upload', 'sv', join(dir, 'snap-later.bin'), '--offset', '512K']));

    const list = await strata(['snapshot', 'ls', 'sv']);
    expect(list.stdout.split('\n')[0].split(/\s+/)).toEqual(['NAME', 'VOLUME', 'SIZE', 'UNIQUE', 'CREATED', 'HOSTS']);
    expect(list.stdout).toMatch(/before\s+sv@before\s+2 MiB\s+/);
    const [snap] = await json<Array<{ name: string; uniqueBytes: number }>>(['snapshot', 'ls', 'sv']);
    expect(snap.name).toBe('before');

    const cloned = await strata(['snapshot', 'clone', 'sv', 'before', 'sv-copy']);
    ok(cloned);
    expect(cloned.stdout).toBe("Created volume 'sv-copy' (2 MiB) from snapshot 'before' of volume 'sv'.\n");
    const copy = join(dir, 'snap-copy.bin');
    ok(await strata(['volume', 'download', 'sv-copy', copy]));
    expect(sha256(copy)).toBe(sha256(first));

    expect((await strata(['snapshot', 'rollback', 'sv', 'before'])).code).toBe(2);
    ok(await strata(['snapshot', 'rollback', 'sv', 'before', '--yes']));
    const back = join(dir, 'snap-back.bin');
    ok(await strata(['volume', 'download', 'sv', back]));
    expect(sha256(back)).toBe(sha256(first));

    const refused = await strata(['volume', 'delete', 'sv', '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('(HAS_SNAPSHOTS)');
    const missing = await strata(['snapshot', 'rm', 'sv', 'nope', '--yes']);
    expect(missing.stderr).toBe("strata: snapshot 'sv@nope' does not exist (SNAPSHOT_NOT_FOUND)\n");
    ok(await strata(['snapshot', 'rm', 'sv', 'before', '--yes']));
    expect((await strata(['snapshot', 'ls', 'sv'])).stdout).toBe("Volume 'sv' has no snapshots.\n");
    ok(await strata(['volume', 'delete', 'sv', '--yes']));
    ok(await strata(['volume', 'delete', 'sv-copy', '--yes']));
    expect((await strata(['pool', 'check', 'p1'])).stdout).toContain("Pool 'p1': consistent");
  });

  it('manages consistency groups and snapshot schedules', async () => {
    ok(await strata(['volume', 'create', 'ga', '--pool', 'p1', '--size', '1M']));
    ok(await strata(['volume', 'create', 'gb', '--pool', 'p1', '--size', '1M']));
    const created = await strata(['snapshot', 'group', 'create', 'pair', '--volume', 'ga', '--volume', 'gb']);
    ok(created);
    expect(created.stdout).toBe("Created consistency group 'pair' of ga, gb.\n");
    expect((await strata(['snapshot', 'group', 'ls'])).stdout).toMatch(/pair\s+ga,gb\s+/);
    const took = await strata(['snapshot', 'group', 'take', 'pair', 'first']);
    ok(took);
    expect(took.stdout).toBe('Took ga@first, gb@first at one instant.\n');
    const added = await strata(['snapshot', 'schedule', 'add', 'nightly', '--group', 'pair', '--every', '1', '--unit', 'days', '--keep', '7', '--start', '2030-01-01T02:00:00Z']);
    ok(added);
    expect(added.stdout).toContain("Schedule 'nightly' snapshots group pair every 1 days, keeping 7; first at ");
    expect((await strata(['snapshot', 'schedule', 'add', 'x', '--volume', 'ga', '--every', 'often', '--unit', 'days', '--keep', '7'])).code).toBe(2);
    const list = await json<Array<{ name: string; nextRunAt: string }>>(['snapshot', 'schedule', 'ls']);
    expect(list.map((x) => [x.name, x.nextRunAt])).toEqual([['nightly', '2030-01-01T02:00:00.000Z']]);
    ok(await strata(['snapshot', 'schedule', 'rm', 'nightly', '--yes']));
    ok(await strata(['snapshot', 'group', 'rm', 'pair', '--yes']));
    expect((await strata(['snapshot', 'group', 'ls'])).stdout).toBe('No consistency groups.\n');
    for (const v of ['ga', 'gb']) ok(await strata(['volume', 'delete', v, '--recursive', '--yes']));
  });

  it('rejects an upload larger than the volume before sending anything', async () => {
    const big = join(dir, 'big.bin');
    writeFileSync(big, Buffer.alloc(0));
    execFileSync('truncate', ['-s', '40M', big]);
    const before = await json<Array<{ action: string }>>(['audit', '--action', 'volume.upload']);
    const r = await strata(['volume', 'upload', 'v1', big]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is 40 MiB (41943040 bytes)');
    expect(r.stderr).toContain("volume 'v1' is 32 MiB (33554432 bytes)");
    expect(await json<unknown[]>(['audit', '--action', 'volume.upload'])).toHaveLength(before.length);
  });

  it('reports an unreachable gateway with its URL', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const r = await strata(['--url', url, '--token', 'any', 'volume', 'list']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`cannot reach the gateway at ${url}: connect ECONNREFUSED`);
    const viaEnv = await strata(['status'], { env: { STRATA_URL: url } });
    expect(viaEnv.code).toBe(3);
    expect(viaEnv.stderr).toContain(`cannot reach the gateway at ${url}`);
  });

  it('manages shares and their export rules', async () => {
    const created = await strata(['share', 'create', 'home', '--pool', 'p1', '--size', '8M']);
    ok(created);
    expect(created.stdout).toBe("Created share 'home' (8 MiB) in pool 'p1', mounted as /home; add export rules to let clients in.\n");
    const list = await strata(['share', 'list']);
    expect(list.stdout.split('\n')[0].split(/\s+/)).toEqual(['NAME', 'PATH', 'POOL', 'SIZE', 'ALLOCATED', 'EXPORT', 'RULES', 'STATE']);
    expect(list.stdout).toMatch(/^home\s+\/home\s+p1\s+8 MiB\s+0 B\s+\d+\s+0\s+online$/m);
    expect((await strata(['share', 'show', 'home'])).stdout).toContain('No export rules: no client may mount this share');
    expect((await strata(['share', 'show', 'home'])).stdout).toMatch(/Metadata:\s+sync \(changes durable before the reply\)/);
    const toAsync = await strata(['share', 'sync', 'home', 'async']);
    ok(toAsync);
    expect(toAsync.stdout).toBe("Share 'home' is now async.\n");
    expect((await json<{ sync: boolean }>(['share', 'show', 'home'])).sync).toBe(false);
    ok(await strata(['share', 'sync', 'home', 'sync']));
    const badMode = await strata(['share', 'sync', 'home', 'later']);
    expect(badMode.code).toBe(2);
    expect(badMode.stderr).toContain("mode must be 'sync' or 'async', not 'later'");

    // The share's volume stays out of the volume list unless asked for.
    expect((await strata(['volume', 'list'])).stdout).not.toContain('share:home');
    expect((await json<Array<{ name: string; role: string }>>(['volume', 'list', '--role', 'share'])).map((v) => [v.name, v.role])).toEqual([['share:home', 'share']]);
    const direct = await strata(['volume', 'delete', 'share:home', '--yes']);
    expect(direct.code).toBe(1);
    expect(direct.stderr).toBe("strata: volume 'share:home' backs share 'home' and cannot be deleted on its own (delete the share): manage it through the share (SHARE_VOLUME)\n");

    ok(await strata(['share', 'rule', 'add', 'home', '10.0.0.0/8,2001:DB8::/32', '--rw']));
    const insecure = await strata(['share', 'rule', 'add', 'home', '*', '--squash', 'all_squash', '--anon-uid', '1000', '--anon-gid', '100', '--insecure', '--comment', 'lab']);
    ok(insecure);
    expect(insecure.stdout).toBe("Added: Rule 2 of share 'home': * ro, all_squash, any source port.\n");
    const rules = await strata(['share', 'rule', 'list', 'home']);
    ok(rules);
    expect(rules.stdout.split('\n')[0].split(/\s+/)).toEqual(['#', 'CLIENTS', 'ACCESS', 'SQUASH', 'PORT', 'COMMENT', 'ID']);
    expect(rules.stdout).toMatch(/^1\s+10\.0\.0\.0\/8,2001:db8::\/32\s+rw\s+root_squash\s+secure\s+-\s+[0-9a-f-]{36}$/m);
    expect(rules.stdout).toMatch(/^2\s+\*\s+ro\s+all_squash \(1000:100\)\s+insecure\s+lab\s+/m);

    const moved = await json<{ position: number; clients: string[] }>(['share', 'rule', 'update', 'home', '2', '--position', '1', '--clients', '192.168.0.0/16']);
    expect(moved).toMatchObject({ position: 1, clients: ['192.168.0.0/16'] });
    const bad = await strata(['share', 'rule', 'add', 'home', '10.1.2.3/8']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("the network is 10.0.0.0/8 (or write 10.1.2.3 for that one host) (INVALID_ARGUMENT)");
    const noChange = await strata(['share', 'rule', 'update', 'home', '1']);
    expect(noChange.code).toBe(2);
    const badUid = await strata(['share', 'rule', 'add', 'home', '*', '--anon-uid', 'nobody']);
    expect(badUid.code).toBe(2);
    expect(badUid.stderr).toContain("--anon-uid must be a whole number, not 'nobody'");

    expect((await strata(['share', 'rule', 'remove', 'home', '1'])).code).toBe(2);
    ok(await strata(['-y', 'share', 'rule', 'remove', 'home', '1']));
    const show = await strata(['share', 'show', 'home']);
    expect(show.stdout).toMatch(/Mount path:\s+\/home/);
    expect(show.stdout).toMatch(/^1\s+10\.0\.0\.0\/8,2001:db8::\/32\s+rw/m);

    const file = join(dir, 'rules.json');
    writeFileSync(file, JSON.stringify([{ clients: ['192.0.2.0/24'], access: 'rw', requirePrivilegedPort: false }]));
    const replaced = await strata(['share', 'rule', 'replace', 'home', file]);
    ok(replaced);
    expect(replaced.stdout).toMatch(/^Share 'home' now has 1 export rule\(s\)\.\n#\s+CLIENTS/);
    const fromStdin = await strata(['--json', 'share', 'rule', 'replace', 'home', '-'], { input: '{"rules": []}' });
    ok(fromStdin);
    expect(JSON.parse(fromStdin.stdout)).toEqual([]);

    ok(await strata(['share', 'grow', 'home', '16M']));
    ok(await strata(['share', 'rename', 'home', 'house']));
    const info = await json<{ name: string; path: string; size: number; rules: unknown[] }>(['share', 'show', 'house']);
    expect(info).toMatchObject({ name: 'house', path: '/house', size: 16 * 2 ** 20, rules: [] });
    expect(JSON.stringify(info)).not.toMatch(/secret/i);
    expect((await strata(['share', 'delete', 'house'])).code).toBe(2);
    ok(await strata(['share', 'delete', 'house', '--yes']));
    expect((await strata(['share', 'show', 'house'])).stderr).toContain('(SHARE_NOT_FOUND)');
    expect((await strata(['share', 'list'])).stdout).toBe('No shares.\n');
  });

  it('shows the status screen', async () => {
    const r = await strata(['status']);
    ok(r);
    expect(r.stdout).toMatch(/Gateway:\s+http:\/\/127\.0\.0\.1:\d+ \(up /);
    expect(r.stdout).toMatch(/Ready:\s+yes/);
    expect(r.stdout).toMatch(/Volumes:\s+1/);
    expect(r.stdout).toMatch(/Shares:\s+0/);
    expect(r.stdout).toMatch(/Hosts:\s+2/);
    expect(r.stdout).toMatch(/p1\s+concat\s+online\s+64 MiB/);
  });

  it('manages admin users', async () => {
    const add = await strata(['user', 'add', 'ops', '--password-stdin'], { input: 'ops-password-1\n' });
    ok(add);
    expect((await strata(['user', 'list'])).stdout).toMatch(/^ops\s/m);
    const passwd = await strata(['user', 'passwd', 'ops', '--password-stdin'], { input: 'ops-password-2\n' });
    ok(passwd);
    expect((await strata(['user', 'remove', 'ops'])).code).toBe(2);
    ok(await strata(['-y', 'user', 'remove', 'ops']));
  });

  it("manages an admin's SSH keys", async () => {
    const key = sshEd25519Key();
    const keyFile = join(dir, 'admin.pub');
    writeFileSync(keyFile, `${key}\n`);
    const added = await json<{ id: string; name: string; fingerprint: string }>(['user', 'key', 'add', 'admin', '--key-file', keyFile]);
    expect(added).toMatchObject({ name: 'test@cli', fingerprint: expect.stringMatching(/^SHA256:/) });
    const list = await strata(['user', 'key', 'list', 'admin']);
    ok(list);
    expect(list.stdout).toMatch(new RegExp(`^${added.id}\\s+test@cli\\s+ssh-ed25519\\s+${added.fingerprint.replace(/[+/]/g, '\\$&')}\\s`, 'm'));
    const taken = await strata(['user', 'key', 'add', 'admin', '--key', key]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('(KEY_TAKEN)');
    expect((await strata(['user', 'key', 'remove', 'admin', added.id])).code).toBe(2);
    ok(await strata(['-y', 'user', 'key', 'remove', 'admin', added.id]));
    expect((await strata(['user', 'key', 'list', 'admin'])).stdout).toBe("Admin 'admin' has no SSH keys.\n");
  });

  it('shows the actions in the audit log', async () => {
    const r = await strata(['audit', '--actor', 'admin', '--limit', '100']);
    ok(r);
    for (const action of ['auth.login', 'device.create', 'pool.create', 'volume.create', 'volume.update', 'host.create', 'assignment.create', 'assignment.delete', 'volume.upload', 'share.create', 'share.rule.add', 'share.delete']) {
      expect(r.stdout).toContain(action);
    }
    expect(r.stdout).toMatch(/volume\.create\s+volume huge\s+failure \(NO_SPACE\)/);
    const volumeOnly = await json<Array<{ action: string }>>(['audit', '--action', 'volume.*']);
    expect(volumeOnly.length).toBeGreaterThan(0);
    expect(volumeOnly.every((e) => e.action.startsWith('volume.'))).toBe(true);
  });

  it('deletes with --yes and logs out', async () => {
    ok(await strata(['volume', 'delete', 'v1', '--yes']));
    expect((await strata(['volume', 'show', 'v1'])).stderr).toContain('(VOLUME_NOT_FOUND)');
    const out = await strata(['logout']);
    ok(out);
    expect(JSON.parse(readFileSync(configFile, 'utf8'))).not.toHaveProperty('token');
    const who = await strata(['whoami']);
    expect(who.code).toBe(4);
    expect(who.stderr).toContain('not logged in');
  });
});
