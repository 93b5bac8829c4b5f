import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobService } from '../../src/jobs/job.service';
import { CommandRunner } from '../../src/shell/command-runner';
import { SHELL_SERVICES, type ShellServices } from '../../src/shell/commands/command';
import type { AuditEntry } from '../../src/storage/domain';
import { apiJson, startTestGateway, type TestGateway } from '../utils/gateway';
import { strata } from '../utils/in-process-cli';
import { REPLICATION_ENV, volumeHash, writeVolume } from '../utils/replication-fixture';
import { admin, sanAddress } from '../utils/san-fixture';
import { createShare } from '../utils/nas-fixture';

const MiB = 2 ** 20;

/** `strata …` in this process against a gateway. */
const cli = (gw: TestGateway, ...argv: string[]) => strata(gw, argv);

/** A line in the SSH admin shell, run by its command runner on the gateway's own services. */
async function shell(gw: TestGateway, line: string): Promise<{ status: number; out: string; err: string }> {
  const services = gw.app.get<ShellServices>(SHELL_SERVICES);
  const out: string[] = [];
  const err: string[] = [];
  const r = await new CommandRunner().execute(line, { services, actor: { name: 'admin', source: 'ssh:test' }, terminal: false, ask: async () => 'y' }, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { status: r.status, out: out.join('\n'), err: err.join('\n') };
}

describe('replication from the CLI and the SSH shell', () => {
  let a: TestGateway;
  let b: TestGateway;

  beforeAll(async () => {
    [a, b] = await Promise.all([startTestGateway(REPLICATION_ENV), startTestGateway(REPLICATION_ENV)]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('identity, host add, replica accept, replication create / run / ls / show, replica status / promote, replication rm', async () => {
    const id = await cli(a, 'replication', 'identity');
    expect(id.code, id.stderr).toBe(0);
    const key = id.stdout.split('\n')[0];
    expect(key).toMatch(/^ssh-ed25519 [A-Za-z0-9+/=]+$/);
    expect(id.stdout).toMatch(/strata host add \S+ --key 'ssh-ed25519 /);
    // The same key at every call, from the 0600 file.
    expect((await cli(a, 'replication', 'identity')).stdout.split('\n')[0]).toBe(key);

    expect((await cli(b, 'host', 'add', 'site-a', '--key', key)).code).toBe(0);
    expect((await cli(b, 'volume', 'create', 'web-r', '--pool', 'default', '--size', '8M')).code).toBe(0);
    const accepted = await cli(b, 'replica', 'accept', 'web-r', '--host', 'site-a');
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(accepted.stdout).toMatch(/replica written by host 'site-a'/);

    await admin(a, 'POST', 'volumes', { name: 'web', pool: 'default', size: '8M' });
    await writeVolume(a, 'web', 0, randomBytes(2 * MiB));
    const created = await cli(a, 'replication', 'create', 'web', '--target', sanAddress(b), '--target-volume', 'web-r', '--host-name', 'site-a', '--every', '1h', '--rate', '500M');
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/replicates to 'web-r' on 127\.0\.0\.1:\d+ as host 'site-a', every 1h 0m/);

    const ran = await cli(a, 'replication', 'run', 'web', '--wait');
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toMatch(/replication of replication 'web'\) is succeeded/);
    expect(await volumeHash(b, 'web-r@cycle-1')).toBe(await volumeHash(a, 'web@repl-1'));

    const ls = await cli(a, 'replication', 'ls');
    expect(ls.stdout.split('\n')[0]).toMatch(/^VOLUME\s+TARGET\s+TARGET VOLUME\s+SCHEDULE\s+LAST CYCLE\s+LAG\s+SENT/);
    expect(ls.stdout.split('\n')[1]).toMatch(/^web\s+127\.0\.0\.1:\d+\s+web-r\s+every 1h 0m\s+1\s+\S+\s+2 MiB\s+idle/);
    const show = await cli(a, 'replication', 'show', 'web');
    expect(show.stdout).toMatch(/Last good cycle:\s+1, done/);
    expect(show.stdout).toMatch(/Rate limit:\s+500 MiB\/s/);
    expect(show.stdout).toMatch(/Cycle job:\s+\S+ \(cycle 1\) succeeded 100% of 2 MiB/);

    // Schedule and bandwidth limit change after create: CLI, REST validation, shell.
    const set = await cli(a, 'replication', 'set', 'web', '--every', '30m', '--rate', '0');
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/every 30m/);
    expect((await cli(a, 'replication', 'show', 'web')).stdout).not.toMatch(/Rate limit:\s+500/);
    const nothing = await apiJson(a, 'replications/web', { method: 'PATCH', json: {} });
    expect(nothing).toMatchObject({ status: 400, body: { code: 'INVALID_ARGUMENT' } });
    const bad = await apiJson(a, 'replications/web', { method: 'PATCH', json: { every: 'often' } });
    expect(bad).toMatchObject({ status: 400, body: { code: 'INVALID_ARGUMENT' } });
    const shellSet = await shell(a, 'replication set web --every off --rate 200M');
    expect(shellSet.status, shellSet.err).toBe(0);
    const after = (await apiJson(a, 'replications/web')).body.replication;
    expect(after).toMatchObject({ everySeconds: null, rateLimit: 200 * MiB });
    expect(after.nextRunAt ?? null).toBeNull();

    // The same from the SSH shell.
    const shellLs = await shell(a, 'replication ls');
    expect(shellLs.status).toBe(0);
    expect(shellLs.out).toMatch(/web\s+127\.0\.0\.1:\d+\s+web-r/);
    const shellRun = await shell(a, 'replication run web');
    expect(shellRun.status, shellRun.err).toBe(0);
    await a.app.get(JobService).wait((await apiJson(a, 'replications/web')).body.job.id);
    const status = await shell(b, 'replica status web-r');
    expect(status.out).toMatch(/Written by host:\s+site-a/);
    expect(status.out).toMatch(/Consistent point:\s+web-r@cycle-2/);

    const promoted = await cli(b, '--yes', 'replica', 'promote', 'web-r');
    expect(promoted.code, promoted.stderr).toBe(0);
    expect((await cli(b, 'replica', 'status', 'web-r')).stdout).toMatch(/is not a replica/);
    const gone = await shell(a, 'replication rm web --yes');
    expect(gone.status, gone.err).toBe(0);
    expect((await cli(a, 'replication', 'ls')).stdout).toMatch(/No replications/);

    const audit = (await apiJson(a, 'audit?limit=200')).body as AuditEntry[];
    expect(audit.map((e) => e.action)).toEqual(expect.arrayContaining(['replication.create', 'replication.update', 'replication.run', 'replication.delete']));
    const auditB = (await apiJson(b, 'audit?limit=200')).body as AuditEntry[];
    expect(auditB.map((e) => e.action)).toEqual(expect.arrayContaining(['replica.accept', 'replica.promote']));
  });

  it('a share: replica accept (refused when it holds files, unless --force), replication create / run / ls / show, promote serves it', async () => {
    await createShare(a, 'docs');
    await createShare(b, 'docs-r');
    const accepted = await cli(b, 'replica', 'accept', 'docs-r', '--host', 'site-a');
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(accepted.stdout).toMatch(/Share 'docs-r' is now a replica written by host 'site-a': it is not served until promoted/);
    expect((await shell(b, 'replica status docs-r')).out).toMatch(/Written by host:\s+site-a/);

    // A share with files in it is refused without --force, from the shell too.
    await createShare(b, 'full');
    await writeVolume(b, 'share:full', 0, randomBytes(4096));
    const refused = await shell(b, 'replica accept full --host site-a');
    expect(refused.status).not.toBe(0);
    expect(refused.err).toMatch(/holds .* of file data.*accept it with force/);
    const forced = await shell(b, 'replica accept full --host site-a --force');
    expect(forced.status, forced.err).toBe(0);

    const created = await cli(a, 'replication', 'create', 'docs', '--target', sanAddress(b), '--target-volume', 'docs-r', '--host-name', 'site-a');
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/Share 'docs' replicates to share 'docs-r' on 127\.0\.0\.1:\d+ as host 'site-a'/);
    expect(created.stdout).toMatch(/strata replication run docs$/m);
    const ran = await cli(a, 'replication', 'run', 'docs', '--wait');
    expect(ran.code, ran.stderr).toBe(0);
    expect((await cli(a, 'replication', 'ls')).stdout).toMatch(/docs \(share\)\s+127\.0\.0\.1:\d+\s+docs-r/);
    expect((await shell(a, 'replication show docs')).out).toMatch(/Share:\s+docs[\s\S]*Target:\s+share docs-r on/);

    const promoted = await cli(b, '--yes', 'replica', 'promote', 'docs-r');
    expect(promoted.code, promoted.stderr).toBe(0);
    expect(promoted.stdout).toMatch(/Share 'docs-r' is served now, as of its last committed cycle/);
    expect((await admin(b, 'GET', 'shares/docs-r')).replica).toBeNull();
  });
});

