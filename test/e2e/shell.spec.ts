import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry, VolumeInfo } from '../../src/storage/domain';
import { HOST_KEY_FILE, ShellServer } from '../../src/shell/ssh-server';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../utils/gateway';

/** Whether a program is on the PATH. */
function have(program: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const HAVE_SSH = have('ssh') && have('ssh-keygen') && have('ssh-keyscan');
const HAVE_SSHPASS = have('sshpass');
if (!HAVE_SSH) console.warn('shell e2e: skipping the OpenSSH tests: ssh, ssh-keygen or ssh-keyscan is not installed (Debian: openssh-client)');
if (!HAVE_SSHPASS) console.warn('shell e2e: skipping the password-login tests: sshpass is not installed (Debian: sshpass)');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

interface SshOptions {
  /** Log in with this password (through sshpass). */
  password?: string;
  /** Log in with this private key file. */
  identity?: string;
  /** Ask for a pty (ssh -tt): the interactive shell with line editing. */
  tty?: boolean;
  /** Sent on stdin, then stdin is closed. */
  input?: string;
  user?: string;
}

/** The real OpenSSH client against the shell, ignoring the user's own ssh config, keys and agent. */
function ssh(port: number, command: string[], opts: SshOptions): Promise<Result> {
  const [program, argv] = sshCommand(port, command, opts);
  return run(program, argv, opts.input);
}

function sshCommand(port: number, command: string[], opts: SshOptions): [string, string[]] {
  const args = [
    '-F', '/dev/null',
    '-p', String(port),
    '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'LogLevel=ERROR',
    '-o', 'ConnectTimeout=10',
    '-o', 'IdentityAgent=none',
    '-o', 'IdentitiesOnly=yes',
  ];
  if (opts.identity) {
    args.push('-i', opts.identity, '-o', 'PreferredAuthentications=publickey', '-o', 'BatchMode=yes');
  } else {
    args.push('-o', 'PreferredAuthentications=password', '-o', 'PubkeyAuthentication=no', '-o', 'NumberOfPasswordPrompts=1');
  }
  args.push(opts.tty ? '-tt' : '-T', `${opts.user ?? 'admin'}@127.0.0.1`, ...command);
  return opts.password !== undefined ? ['sshpass', ['-p', opts.password, 'ssh', ...args]] : ['ssh', args];
}

/** A program run without blocking: the gateway it talks to lives in this process. */
function run(program: string, argv: string[], input = ''): Promise<Result> {
  const child = spawn(program, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

const shellPort = (gw: TestGateway) => gw.app.get(ShellServer).address()!.port;

async function auditOf(gw: TestGateway, query: string): Promise<AuditEntry[]> {
  return (await (await gw.api(`audit?${query}`)).json()) as AuditEntry[];
}

describe.skipIf(!HAVE_SSH)('SSH admin shell with the OpenSSH client', () => {
  let gw: TestGateway;
  let port: number;
  let keys: string;
  const asAdmin = (command: string[], opts: Omit<SshOptions, 'password'> = {}) => ssh(port, command, { password: ADMIN_PASSWORD, ...opts });

  beforeAll(async () => {
    gw = await startTestGateway({ STRATA_SHELL_PORT: '0' });
    port = shellPort(gw);
    keys = mkdtempSync(join(tmpdir(), 'strata-ssh-keys-'));
  });
  afterAll(async () => {
    await gw?.close();
    if (keys) rmSync(keys, { recursive: true, force: true });
  });

  it.skipIf(!HAVE_SSHPASS)('logs in with a password and runs one command: volume create, then visible over REST', async () => {
    const created = await asAdmin(['volume', 'create', 'v1', '--pool', 'default', '--size', '4M']);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    expect(created.stdout).toBe("Created thin volume 'v1' (4 MiB) in pool 'default'.\n");

    const rest = await gw.api('volumes/v1');
    expect(rest.status).toBe(200);
    expect(await rest.json()).toMatchObject({ name: 'v1', poolName: 'default', size: 4 * 2 ** 20, provisioning: 'thin' });
    const [entry] = await auditOf(gw, 'action=volume.create&object=v1');
    expect(entry).toMatchObject({ actor: 'admin', source: 'ssh:127.0.0.1', outcome: 'success' });
  });

  it.skipIf(!HAVE_SSHPASS)('takes, lists and deletes a snapshot, as REST sees it, audited as the shell admin', async () => {
    expect(await asAdmin(['volume', 'create', 'sv', '--pool', 'default', '--size', '4M'])).toMatchObject({ code: 0, stderr: '' });
    const created = await asAdmin(['snapshot', 'create', 'sv', 'daily']);
    expect(created).toMatchObject({ code: 0, stderr: '', stdout: "Created snapshot 'daily' of volume 'sv' (sv@daily).\n" });
    expect((await (await gw.api('volumes/sv/snapshots')).json()).map((x: { name: string }) => x.name)).toEqual(['daily']);
    const list = await asAdmin(['snapshot', 'ls', 'sv']);
    expect(list.stdout).toMatch(/daily\s+sv@daily\s+4 MiB/);
    const cloned = await asAdmin(['snapshot', 'clone', 'sv', 'daily', 'sv-clone']);
    expect(cloned).toMatchObject({ code: 0, stdout: "Created volume 'sv-clone' (4 MiB) from snapshot 'daily' of volume 'sv'.\n" });
    expect(await asAdmin(['snapshot', 'rollback', 'sv', 'daily', '--yes'])).toMatchObject({ code: 0, stdout: "Rolled volume 'sv' back to snapshot 'daily'.\n" });
    expect(await asAdmin(['snapshot', 'rm', 'sv', 'daily', '--yes'])).toMatchObject({ code: 0, stdout: "Deleted snapshot 'daily' of volume 'sv'.\n" });
    expect((await gw.api('volumes/sv@daily')).status).toBe(404);
    const actions = (await auditOf(gw, 'actor=admin')).filter((e) => e.action.startsWith('snapshot.') || e.action === 'volume.rollback').map((e) => [e.action, e.source, e.outcome]);
    expect(actions).toEqual([
      ['snapshot.delete', 'ssh:127.0.0.1', 'success'],
      ['volume.rollback', 'ssh:127.0.0.1', 'success'],
      ['snapshot.clone', 'ssh:127.0.0.1', 'success'],
      ['snapshot.create', 'ssh:127.0.0.1', 'success'],
    ]);
    // Later tests expect only their own volumes.
    for (const v of ['sv-clone', 'sv']) expect(await asAdmin(['volume', 'delete', v, '--yes'])).toMatchObject({ code: 0 });
  });

  it.skipIf(!HAVE_SSHPASS)('creates a share with an export rule and deletes it, as REST sees it, audited as the shell admin', async () => {
    expect(await asAdmin(['share', 'create', 'docs', '--pool', 'default', '--size', '4M'])).toMatchObject({ code: 0, stderr: '' });
    const added = await asAdmin(['share', 'rule', 'add', 'docs', '10.0.0.0/8,::1', '--rw', '--insecure']);
    expect(added).toMatchObject({ code: 0, stderr: '', stdout: "Added rule 1 of share 'docs': 10.0.0.0/8,::1 rw, root_squash.\n" });
    const share = await (await gw.api('shares/docs')).json();
    expect(share.rules).toEqual([expect.objectContaining({ position: 1, clients: ['10.0.0.0/8', '::1'], access: 'rw', requirePrivilegedPort: false })]);
    const shown = await asAdmin(['share', 'show', 'docs']);
    expect(shown.stdout).toMatch(/^Mount path:\s+\/docs$/m);
    expect(shown.stdout).toMatch(/^1\s+10\.0\.0\.0\/8,::1\s+rw\s+root_squash\s+insecure\s/m);
    expect(await asAdmin(['share', 'delete', 'docs', '--yes'])).toMatchObject({ code: 0, stdout: "Deleted share 'docs'.\n" });
    expect((await gw.api('shares/docs')).status).toBe(404);
    const actions = (await auditOf(gw, 'object=docs&objectType=share')).map((e) => [e.action, e.actor, e.source, e.outcome]);
    expect(actions).toEqual([
      ['share.delete', 'admin', 'ssh:127.0.0.1', 'success'],
      ['share.rule.add', 'admin', 'ssh:127.0.0.1', 'success'],
      ['share.create', 'admin', 'ssh:127.0.0.1', 'success'],
    ]);
  });

  it.skipIf(!HAVE_SSHPASS)('prints tables by default and JSON with --json', async () => {
    const list = await asAdmin(['volume', 'list']);
    expect(list.code).toBe(0);
    const lines = list.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+POOL\s+SIZE\s+ALLOCATED\s+PROVISIONING\s+STATE\s+HOSTS$/);
    expect(lines[1]).toMatch(/^v1\s+default\s+4 MiB\s+0 B\s+thin\s+online\s+-$/);

    const json = await asAdmin(['volume', 'list', '--json']);
    expect(json.code).toBe(0);
    expect((JSON.parse(json.stdout) as VolumeInfo[]).map((v) => v.name)).toEqual(['v1']);

    const status = await asAdmin(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^Ready:\s+yes$/m);
    const fingerprint = gw.app.get(ShellServer).hostKeyFingerprint!;
    const listeners = status.stdout.split('\n').find((l) => l.startsWith('Listeners:'));
    expect(listeners).toContain(`ssh 127.0.0.1:${port} (host key ${fingerprint})`);
    expect(listeners).toMatch(/rest 127\.0\.0\.1:\d+/);
    expect(status.stdout).toMatch(/^default\s+concat\s+online\s+64 MiB/m);
  });

  it.skipIf(!HAVE_SSHPASS)('reports errors as "error: <message> (<CODE>)" on stderr with a non-zero exit status', async () => {
    const missing = await asAdmin(['volume', 'show', 'nope']);
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(missing.stderr).toBe("error: volume 'nope' does not exist (VOLUME_NOT_FOUND)\n");

    const usage = await asAdmin(['volume', 'create', 'v9']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^error: --pool is required \(USAGE\)\nusage: volume create <name> --pool <pool> --size <size> \[--thick\]\n$/);

    const unknown = await asAdmin(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
  });

  it.skipIf(!HAVE_SSHPASS)('refuses a destructive command without --yes when there is no terminal to ask on', async () => {
    const refused = await asAdmin(['volume', 'delete', 'v1']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/refusing to delete volume 'v1' and everything on it without confirmation.*add --yes \(CONFIRMATION_REQUIRED\)/);
    expect((await gw.api('volumes/v1')).status).toBe(200);
  });

  it.skipIf(!HAVE_SSHPASS)('runs the interactive shell on a pty: prompt, help, completion, history, confirmation, exit', async () => {
    const input = [
      'help',
      'volume list',
      // Tab completes the command, the subcommand and the pool name.
      'vol\tcr\tv2 --pool def\t--size 4M',
      // Up twice recalls "volume list".
      '\x1b[A\x1b[A',
      'volume delete v2',
      'n',
      'exit',
      '',
    ].join('\n');
    const r = await asAdmin([], { tty: true, input });
    expect(r.code).toBe(0);
    const out = r.stdout.replace(/\r\n/g, '\n');
    expect(out).toContain('admin@strata> help\n');
    expect(out).toMatch(/Commands \(help <command> for more\):\n\s+status\s+/);
    expect(out).toMatch(/volume list\|show\|create\|grow\|rename\|delete\s+volumes: block devices carved from pools/);
    expect(out).toMatch(/admin@strata> volume list\nNAME\s+POOL.*\nv1\s+default/);
    expect(out).toContain("Created thin volume 'v2' (4 MiB) in pool 'default'.");
    expect(out).toMatch(/admin@strata> volume list\x1b\[K\nNAME\s+POOL.*\nv1\s+default.*\nv2\s+default/);
    expect(out).toContain("Delete volume 'v2' and everything on it? [y/N] n\nCancelled.");
    expect(out).toContain('admin@strata> exit\n');
    expect((await gw.api('volumes/v2')).status).toBe(200);
  });

  it('logs in with an Ed25519 or RSA key registered over REST, and not with an unregistered one', async () => {
    for (const type of ['ed25519', 'rsa']) {
      const file = join(keys, `id_${type}`);
      execFileSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-C', `${type}@test`, '-f', file]);
      const refused = await ssh(port, ['status'], { identity: file });
      expect(refused.code).toBe(255);
      expect(refused.stderr).toMatch(/Permission denied/);

      const added = await gw.api('users/admin/keys', { method: 'POST', json: { publicKey: readFileSync(`${file}.pub`, 'utf8') } });
      expect(added.status).toBe(201);
      const fingerprint = execFileSync('ssh-keygen', ['-l', '-f', `${file}.pub`]).toString().split(' ')[1];
      expect(await added.json()).toMatchObject({ username: 'admin', name: `${type}@test`, type: `ssh-${type}`, fingerprint });

      const r = await ssh(port, ['volume', 'show', 'v1'], { identity: file });
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toMatch(/^Name:\s+v1$/m);
      const [login] = await auditOf(gw, 'action=shell.login&outcome=success&limit=1');
      expect(login).toMatchObject({ actor: 'admin', source: 'ssh:127.0.0.1', detail: { method: 'publickey', fingerprint } });
    }
  });

  it.skipIf(!HAVE_SSHPASS)('creates an admin with the password on stdin, who can then log in and is audited as such', async () => {
    const add = await asAdmin(['user', 'add', 'ops'], { input: 'ops-password-1\n' });
    expect(add).toMatchObject({ code: 0, stdout: "Created admin user 'ops'.\n", stderr: '' });
    const who = await ssh(port, ['host', 'list'], { password: 'ops-password-1', user: 'ops' });
    expect(who).toMatchObject({ code: 0, stdout: 'No hosts.\n' });
    const [created] = await auditOf(gw, 'action=user.create&object=ops');
    expect(created).toMatchObject({ actor: 'admin', source: 'ssh:127.0.0.1', outcome: 'success' });
  });

  it.skipIf(!HAVE_SSHPASS)('refuses a wrong password and audits it as a failed shell.login', async () => {
    const r = await ssh(port, ['status'], { password: 'not-the-password' });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    const [failure] = await auditOf(gw, 'action=shell.login&outcome=failure');
    expect(failure).toMatchObject({
      actor: 'admin',
      source: 'ssh:127.0.0.1',
      objectType: 'user',
      objectName: 'admin',
      errorCode: 'UNAUTHENTICATED',
      detail: { method: 'password' },
    });
  });
});

describe.skipIf(!HAVE_SSH)('SSH host key', () => {
  it('is made once (mode 0600) and the same after a restart on the same data directory', async () => {
    const first = await startTestGateway({ STRATA_SHELL_PORT: '0' });
    const dir = first.dataDir;
    try {
      const file = join(dir, HOST_KEY_FILE);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const printed = execFileSync('ssh-keygen', ['-l', '-f', file]).toString();
      const fingerprint = first.app.get(ShellServer).hostKeyFingerprint!;
      expect(printed).toMatch(new RegExp(`^256 ${fingerprint.replace(/[+/]/g, '\\$&')} .*\\(ED25519\\)\\n$`));
      // What a client sees: `127.0.0.1 ssh-ed25519 AAAA…` without the host part.
      const scan = async (gw: TestGateway) => (await run('ssh-keyscan', ['-t', 'ed25519', '-p', String(shellPort(gw)), '127.0.0.1'])).stdout.split(' ').slice(1).join(' ');
      const before = await scan(first);
      expect(before).toBe(`${readFileSync(`${file}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`);

      await first.close({ keepData: true });
      const second = await startTestGateway({ STRATA_SHELL_PORT: '0' }, dir);
      try {
        expect(await scan(second)).toBe(before);
        expect(second.app.get(ShellServer).hostKeyFingerprint).toBe(fingerprint);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SSH shell listener', () => {
  it('turns /readyz to 503 with the reason when its port is taken, while REST keeps serving', async () => {
    const first = await startTestGateway({ STRATA_SHELL_PORT: '0' });
    try {
      const taken = shellPort(first);
      const second = await startTestGateway({ STRATA_SHELL_PORT: String(taken) });
      try {
        const ready = await fetch(`${second.url}/readyz`);
        expect(ready.status).toBe(503);
        const body = (await ready.json()) as { reasons: string[] };
        expect(body.reasons).toEqual([`ssh listener is down: cannot listen on 127.0.0.1:${taken}: listen EADDRINUSE: address already in use 127.0.0.1:${taken}`]);
        expect((await second.api('volumes')).status).toBe(200);
        expect(second.app.get(ShellServer).address()).toBeNull();
      } finally {
        await second.close();
      }
    } finally {
      await first.close();
    }
  });

  it.skipIf(!HAVE_SSH || !HAVE_SSHPASS)('tells open sessions the gateway is shutting down, and closes them', async () => {
    const gw = await startTestGateway({ STRATA_SHELL_PORT: '0' });
    const [program, argv] = sshCommand(shellPort(gw), [], { password: ADMIN_PASSWORD, tty: true });
    // stdin stays open: an admin sitting at the prompt.
    const child = spawn(program, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    const prompt = new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('admin@strata> ')) resolve();
      }),
    );
    try {
      await prompt;
      await gw.close();
      expect(await exited).not.toBe(0);
      expect(stdout).toContain('The gateway is shutting down; closing this session.');
    } finally {
      child.kill();
    }
  });

  it('throttles a source after five failed logins, refusing even the right password (ssh2 client)', async () => {
    const gw = await startTestGateway({ STRATA_SHELL_PORT: '0' });
    const port = shellPort(gw);
    const attempt = (password: string) =>
      new Promise<'ok' | 'refused'>((resolve) => {
        const client = new Client();
        client
          .on('ready', () => {
            client.end();
            resolve('ok');
          })
          .on('error', () => resolve('refused'))
          // A blocked source is disconnected: no error, just the end.
          .on('close', () => resolve('refused'))
          .connect({ host: '127.0.0.1', port, username: 'admin', password, tryKeyboard: false, readyTimeout: 20_000 });
      });
    try {
      for (let i = 0; i < 5; i++) expect(await attempt('wrong-password')).toBe('refused');
      expect(await attempt(ADMIN_PASSWORD)).toBe('refused');
      const entries = await auditOf(gw, 'action=shell.login');
      expect(entries.filter((e) => e.errorCode === 'UNAUTHENTICATED')).toHaveLength(5);
      expect(entries[0]).toMatchObject({ outcome: 'failure', errorCode: 'RATE_LIMITED', source: 'ssh:127.0.0.1', detail: { blockedForSeconds: 60 } });
      expect(entries.some((e) => e.outcome === 'success')).toBe(false);
    } finally {
      await gw.close();
    }
  });
});
