import { Logger } from '@nestjs/common';
import { describe, expect, it, vi } from 'vitest';
import { NotFound } from '../common/errors';
import { CommandRunner, parse } from './command-runner';
import type { CommandContext, CommandSpec, ShellServices } from './commands/command';

const runner = new CommandRunner();

/** Only what a test touches: anything else throws, so a command reaching further shows up. */
function services(parts: Record<string, Record<string, unknown>>): ShellServices {
  return new Proxy(parts, {
    get: (target, key: string) => {
      if (!(key in target)) throw new Error(`unexpected use of services.${key}`);
      return target[key];
    },
  }) as unknown as ShellServices;
}

function context(s: ShellServices, opts: { terminal?: boolean; answers?: Array<string | null> } = {}): CommandContext & { asked: string[] } {
  const answers = [...(opts.answers ?? [])];
  const asked: string[] = [];
  return {
    services: s,
    actor: { name: 'alice', source: 'ssh:10.0.0.9' },
    terminal: opts.terminal ?? false,
    asked,
    ask: async (question) => {
      asked.push(question);
      return answers.length ? answers.shift()! : null;
    },
  };
}

async function exec(line: string, ctx: CommandContext) {
  const out: string[] = [];
  const err: string[] = [];
  const outcome = await runner.execute(line, ctx, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { ...outcome, out: out.join('\n'), err: err.join('\n') };
}

const volume = (name: string) => ({ name, poolName: 'default', size: 4 * 2 ** 20, allocatedBytes: 0, provisioning: 'thin', state: 'online', assignments: [] });

const volumes = () => ({
  list: vi.fn(async () => [volume('v1'), volume('v2')]),
  remove: vi.fn(async () => undefined),
  create: vi.fn(async (_actor: unknown, req: { name: string; size: number; pool: string; provisioning: string }) => ({ ...req, poolName: req.pool })),
  get: vi.fn(async (key: string) => {
    throw new NotFound('volume', key);
  }),
});

describe('parse', () => {
  const spec: CommandSpec = {
    name: 'pool',
    sub: 'create',
    summary: 's',
    args: [{ name: 'name' }, { name: 'extra', optional: true }],
    options: [
      { name: 'layout', value: 'layout', help: '', required: true },
      { name: 'member', value: 'm', help: '', repeat: true },
      { name: 'thick', help: '' },
    ],
    run: async () => ({ text: '' }),
  };

  it('sorts arguments, valued options (--x v and --x=v), repeats, flags and the global switches', () => {
    const p = parse(spec, ['p1', '--layout=raid1', '--member', 'a', '--member', 'b:1G', '--thick', '--json', '-y']);
    expect([p.arg('name'), p.optionalArg('extra'), p.opt('layout'), p.all('member'), p.flag('thick'), p.json, p.yes]).toEqual([
      'p1',
      undefined,
      'raid1',
      ['a', 'b:1G'],
      true,
      true,
      true,
    ]);
    expect(parse(spec, ['--layout', 'concat', '--', '--odd', 'x']).arg('name')).toBe('--odd');
  });

  it('says what is wrong, with the usage line', () => {
    const usage = 'pool create <name> [extra] --layout <layout> [--member <m>...] [--thick]';
    const cases: Array<[string[], RegExp]> = [
      [['--layout', 'x'], /^missing <name>$/],
      [['p'], /^--layout is required$/],
      [['p', '--layout'], /^--layout needs a value: <layout>$/],
      [['p', '--layout', 'a', '--layout', 'b'], /^--layout is given twice$/],
      [['p', '--layout', 'a', '--bogus'], /^'pool create' has no option --bogus$/],
      [['p', '--layout', 'a', '--thick=yes'], /^--thick takes no value$/],
      [['p', 'q', 'r', '--layout', 'a'], /^too many arguments: r$/],
    ];
    for (const [words, message] of cases) {
      expect(() => parse(spec, words)).toThrow(message);
      expect(() => parse(spec, words)).toThrow(expect.objectContaining({ code: 'USAGE', usage }));
    }
  });
});

describe('CommandRunner.execute', () => {
  it('runs a command with the session actor and prints its text, or its data under --json', async () => {
    const v = volumes();
    const ctx = context(services({ volumes: v }));
    const r = await exec('volume create "v 3" --pool default --size 8M', ctx);
    expect(r).toMatchObject({ status: 0, err: '' });
    expect(v.create).toHaveBeenCalledWith(ctx.actor, { name: 'v 3', pool: 'default', size: 8 * 2 ** 20, provisioning: 'thin' });
    const json = await exec('volume list --json', ctx);
    expect(JSON.parse(json.out).map((x: { name: string }) => x.name)).toEqual(['v1', 'v2']);
    expect((await exec('volume list', ctx)).out).toMatch(/^NAME +POOL +SIZE.*\nv1 +default +4 MiB +0 B +thin +online +-\nv2 /);
  });

  it('prints domain errors as error: message (CODE), or as JSON, with status 1', async () => {
    const ctx = context(services({ volumes: volumes() }));
    expect(await exec('volume show nope', ctx)).toMatchObject({ status: 1, out: '', err: "error: volume 'nope' does not exist (VOLUME_NOT_FOUND)" });
    const json = await exec('volume show nope --json', ctx);
    expect(JSON.parse(json.err)).toEqual({ code: 'VOLUME_NOT_FOUND', message: "volume 'nope' does not exist", details: { entity: 'volume', key: 'nope' } });
    expect(await exec('volume create v9 --pool p --size lots', ctx)).toMatchObject({ status: 1, err: expect.stringMatching(/is not a size.*\(INVALID_ARGUMENT\)$/) });
  });

  it('hides unexpected errors behind INTERNAL, logging them in full', async () => {
    const logged = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const ctx = context(services({ volumes: { list: async () => Promise.reject(new Error('SQLITE_BUSY at /secret/path')) } }));
    const r = await exec('volume list', ctx);
    expect(r).toMatchObject({ status: 1, err: 'error: internal error (see the gateway log) (INTERNAL)' });
    expect(logged).toHaveBeenCalledWith(expect.stringMatching(/^shell command failed: Error: SQLITE_BUSY at \/secret\/path\n {4}at /));
    logged.mockRestore();
  });

  it('says how far a line made sense: unknown command, missing or unknown subcommand, unclosed quote', async () => {
    const ctx = context(services({}));
    expect(await exec('frob', ctx)).toMatchObject({ status: 2, err: "error: unknown command 'frob': type help for the list (USAGE)" });
    expect((await exec('volume', ctx)).err).toBe("error: 'volume' needs one of: list, show, create, grow, rename, delete (USAGE)");
    expect((await exec('user key', ctx)).err).toBe("error: 'user key' needs one of: list, add, remove (USAGE)");
    expect((await exec('user key drop', ctx)).err).toBe("error: 'user key' has no subcommand 'drop'; it has: list, add, remove (USAGE)");
    expect(await exec('host add "web1', ctx)).toMatchObject({ status: 2, err: 'error: unclosed " quote (USAGE)' });
    expect(await exec('   # a comment', ctx)).toMatchObject({ status: 0, out: '', err: '' });
  });

  it('explains: the overview, a group, one command (also through --help)', async () => {
    const ctx = context(services({}));
    const overview = (await exec('help', ctx)).out;
    expect(overview).toMatch(/^Commands \(help <command> for more\):$/m);
    expect(overview).toMatch(/^ {2}user list\|add\|passwd\|remove\|key +admin accounts and their SSH keys$/m);
    expect(overview).toMatch(/^ {2}exit, quit +leave the shell/m);
    expect((await exec('help user key', ctx)).out).toMatch(/^ {2}user key add <user> --key <public-key> \[--name <label>\] +register an SSH public key/m);
    const detail = (await exec('help volume delete', ctx)).out;
    expect(detail).toMatch(/^usage: volume delete <volume> \[--force\] \[--recursive\] \[--yes\]\n\ndelete a volume and its data\n\noptions:\n/);
    expect(detail).toMatch(/^ {2}--yes +do it without asking for confirmation$/m);
    expect((await exec('volume delete --help', ctx)).out).toBe(detail);
    expect(await exec('help nothing', ctx)).toMatchObject({ status: 2, err: "error: no command 'nothing': type help for the list (USAGE)" });
  });

  it('leaves on exit and quit', async () => {
    const ctx = context(services({}));
    expect(await exec('exit', ctx)).toMatchObject({ status: 0, leave: true });
    expect(await exec('quit', ctx)).toMatchObject({ status: 0, leave: true });
  });

  describe('destructive commands', () => {
    it('refuse without --yes when there is no terminal, and do not run', async () => {
      const v = volumes();
      const r = await exec('volume delete v1', context(services({ volumes: v })));
      expect(r.status).toBe(2);
      expect(r.err).toBe(
        "error: refusing to delete volume 'v1' and everything on it without confirmation: there is no terminal to ask on (ssh without -t); add --yes (CONFIRMATION_REQUIRED)",
      );
      expect(v.remove).not.toHaveBeenCalled();
    });

    it('ask on a terminal: y runs it, anything else (or Ctrl-C) cancels', async () => {
      for (const [answer, runs] of [['y', true], ['YES', true], ['n', false], ['', false], [null, false]] as const) {
        const v = volumes();
        const ctx = context(services({ volumes: v }), { terminal: true, answers: [answer] });
        const r = await exec('volume delete v1 --force', ctx);
        expect(ctx.asked).toEqual(["Delete volume 'v1' and everything on it, revoking its assignments? [y/N] "]);
        expect(v.remove).toHaveBeenCalledTimes(runs ? 1 : 0);
        expect(r).toMatchObject(runs ? { status: 0, out: "Deleted volume 'v1'." } : { status: 1, err: 'Cancelled.' });
      }
    });

    it('run at once with --yes or -y', async () => {
      const v = volumes();
      const ctx = context(services({ volumes: v }));
      expect((await exec('volume delete v1 --yes', ctx)).status).toBe(0);
      expect((await exec('volume delete v2 -y --json', ctx)).out).toBe('');
      expect(v.remove.mock.calls.map((c) => c.slice(1))).toEqual([['v1', { force: false, recursive: false }], ['v2', { force: false, recursive: false }]]);
    });
  });
});

describe('share commands', () => {
  const rule = { id: 'r-1', position: 1, clients: ['10.0.0.0/8'], access: 'rw', squash: 'root_squash', anonUid: 65534, anonGid: 65534, requirePrivilegedPort: false, comment: null };
  const shares = () => ({
    list: vi.fn(async () => [{ name: 'home', path: '/home', poolName: 'default', size: 2 ** 30, allocatedBytes: 0, exportId: 3, rules: [rule], state: 'online' }]),
    listRules: vi.fn(async () => [rule]),
    addRule: vi.fn(async () => rule),
    updateRule: vi.fn(async () => rule),
    removeRule: vi.fn(async () => undefined),
    remove: vi.fn(async () => undefined),
  });

  it('turns rule flags into rule fields, clients comma-separated', async () => {
    const sh = shares();
    const ctx = context(services({ shares: sh }));
    const r = await exec('share rule add home 10.0.0.0/8,2001:db8::/32 --rw --squash all_squash --anon-uid 1000 --anon-gid 100 --insecure --comment "lab bench" --position 1', ctx);
    expect(r).toMatchObject({ status: 0, err: '', out: "Added rule 1 of share 'home': 10.0.0.0/8 rw, root_squash." });
    expect(sh.addRule).toHaveBeenCalledWith(ctx.actor, 'home', {
      clients: ['10.0.0.0/8', '2001:db8::/32'],
      access: 'rw',
      squash: 'all_squash',
      anonUid: 1000,
      anonGid: 100,
      requirePrivilegedPort: false,
      comment: 'lab bench',
      position: 1,
    });
    expect(await exec('share rule update home 1 --secure --access ro --comment ""', ctx)).toMatchObject({ status: 0 });
    expect(sh.updateRule).toHaveBeenCalledWith(ctx.actor, 'home', '1', { access: 'ro', requirePrivilegedPort: true, comment: null });
  });

  it('refuses contradictory, empty or malformed rule flags before calling the service', async () => {
    const sh = shares();
    const ctx = context(services({ shares: sh }));
    expect((await exec('share rule update home 1', ctx)).err).toBe('error: nothing to change: give at least one option (help share rule update) (USAGE)');
    expect((await exec('share rule update home 1 --secure --insecure', ctx)).err).toBe('error: --secure and --insecure contradict each other (USAGE)');
    expect((await exec('share rule add home , ', ctx)).err).toContain('give at least one client');
    expect((await exec('share rule add home * --anon-uid -5', ctx)).err).toContain("--anon-uid must be a whole number, not '-5'");
    expect((await exec('share rule add home * --squash most', ctx)).err).toContain("--squash must be root_squash, all_squash, no_root_squash, not 'most'");
    expect(sh.addRule).not.toHaveBeenCalled();
    expect(sh.updateRule).not.toHaveBeenCalled();
  });

  it('lists shares and rules, and confirms removals', async () => {
    const sh = shares();
    const ctx = context(services({ shares: sh }));
    expect((await exec('share list', ctx)).out).toMatch(/^NAME +PATH +POOL +SIZE +ALLOCATED +EXPORT +RULES +STATE\nhome +\/home +default +1 GiB +0 B +3 +1 +online$/);
    expect((await exec('share rule list home', ctx)).out).toMatch(/^# +CLIENTS.*\n1 +10\.0\.0\.0\/8 +rw +root_squash +insecure +- +r-1$/);
    expect((await exec('share rule remove home 1', ctx)).err).toContain("refusing to remove rule 1 of share 'home' without confirmation");
    expect((await exec('share delete home -y', ctx)).out).toBe("Deleted share 'home'.");
    expect(sh.remove).toHaveBeenCalledWith(ctx.actor, 'home', { force: false });
    expect((await exec('share', ctx)).err).toBe("error: 'share' needs one of: list, show, create, grow, rename, delete, fsck, rule (USAGE)");
    expect((await exec('help', ctx)).out).toMatch(/^ {2}share list\|show\|create\|grow\|rename\|delete\|fsck\|rule +NAS shares and their export rules$/m);
    expect(await runner.complete('share rule remove home ', services({ shares: sh }))).toEqual(['1']);
  });
});

describe('mirror and job commands', () => {
  const mirrorInfo = { poolId: 'p2', poolName: 'p2', state: 'degraded', reason: 'mirror write failed: EIO', syncPercent: 0, regionSize: 2 ** 20, dirtyRegions: 3, dirtyBytes: 3 * 2 ** 20 };
  const job = {
    id: 'j-1',
    kind: 'mirror-resync',
    target: { type: 'volume', id: 'v', name: 'v1' },
    state: 'running',
    bytesDone: 2 ** 20,
    bytesTotal: 4 * 2 ** 20,
    percent: 25,
    rate: 2e6,
    etaSeconds: 2,
    error: null,
    resumable: true,
    createdBy: 'alice',
    createdAt: '2026-11-23T21:00:00.000Z',
    startedAt: '2026-11-23T21:00:00.000Z',
    finishedAt: null,
  };
  const view = { volume: { ...volume('v1'), mirror: mirrorInfo }, job };
  const mirrors = () => ({
    add: vi.fn(async () => view),
    resync: vi.fn(async () => view),
    swap: vi.fn(async () => ({ ...volume('v1'), poolName: 'p2', mirror: { ...mirrorInfo, poolName: 'default', state: 'in-sync', dirtyRegions: 0, dirtyBytes: 0 } })),
    remove: vi.fn(async () => ({ ...volume('v1'), mirror: null })),
    status: vi.fn(async () => view),
  });
  const jobs = () => ({
    list: vi.fn(async () => [job, { ...job, id: 'j-0', state: 'succeeded', percent: 100 }]),
    get: vi.fn(async () => job),
    cancel: vi.fn(async () => ({ ...job, state: 'cancelled' })),
    resume: vi.fn(async () => job),
    wait: vi.fn(async () => ({ ...job, state: 'failed', error: 'EIO' })),
  });

  it('adds, resyncs with a rate limit, swaps, shows and removes (with confirmation) a mirror', async () => {
    const m = mirrors();
    const ctx = context(services({ mirrors: m }));
    const added = await exec('mirror add v1 --pool p2 --rate-limit 100M', ctx);
    expect(added.out).toBe("Volume 'v1': mirror on pool p2, degraded, 3 dirty regions (3 MiB): mirror write failed: EIO.\nJob j-1 (mirror-resync of volume 'v1') is running, 25% done.");
    expect(m.add).toHaveBeenCalledWith(ctx.actor, 'v1', { pool: 'p2', rateLimit: 100 * 2 ** 20 });
    expect((await exec('mirror add v1', ctx)).err).toContain('--pool');
    await exec('mirror resync v1', ctx);
    expect(m.resync).toHaveBeenCalledWith(ctx.actor, 'v1', { rateLimit: undefined });
    expect((await exec('mirror swap v1', ctx)).out).toBe("Volume 'v1' now runs on pool 'p2'; its mirror is on pool default, in-sync.");
    expect(m.swap).toHaveBeenLastCalledWith(ctx.actor, 'v1', { force: false });
    expect((await exec('mirror swap v1 --force', ctx)).err).toContain("refusing to make the mirror of volume 'v1' the primary, even if it is behind");
    await exec('mirror swap v1 --force --yes', ctx);
    expect(m.swap).toHaveBeenLastCalledWith(ctx.actor, 'v1', { force: true });
    expect((await exec('mirror status v1', ctx)).out).toMatch(/Resync job: +j-1 running 25% \(1 MiB of 4 MiB\), 2\.0 MB\/s/);
    expect((await exec('mirror rm v1', ctx)).err).toContain("refusing to remove the mirror of volume 'v1'");
    expect(m.remove).not.toHaveBeenCalled();
    expect((await exec('mirror rm v1 --yes', ctx)).out).toBe("Removed the mirror of volume 'v1'.");
  });

  it('lists, shows, cancels, resumes and waits for jobs; jobs lists the unfinished ones', async () => {
    const j = jobs();
    const ctx = context(services({ jobs: j }));
    expect((await exec('job ls', ctx)).out).toMatch(/^ID +KIND +TARGET +STATE +PROGRESS +RATE +ETA +CREATED\nj-1 +mirror-resync +volume v1 +running +25% \(1 MiB of 4 MiB\) +2\.0 MB\/s +2s/);
    expect((await exec('job ls --state done', ctx)).err).toContain('--state must be one of');
    expect((await exec('jobs', ctx)).out.split('\n')).toHaveLength(2);
    expect((await exec('job show j-1', ctx)).out).toMatch(/Progress: +25% \(1 MiB of 4 MiB\)/);
    expect((await exec('job cancel j-1', ctx)).out).toBe("Job j-1 (mirror-resync of volume 'v1') is cancelled, 25% done.");
    expect(j.cancel).toHaveBeenCalledWith(ctx.actor, 'j-1');
    await exec('job resume j-1', ctx);
    expect(j.resume).toHaveBeenCalledWith(ctx.actor, 'j-1');
    expect(await exec('job wait j-1', ctx)).toMatchObject({ status: 1 });
  });
});

describe('backup commands', () => {
  const job = { id: 'j-9', kind: 'backup', target: { type: 'volume', id: 'v', name: 'db' }, state: 'running', bytesDone: 0, bytesTotal: 8 * 2 ** 20, percent: 0, rate: 0, etaSeconds: null, error: null, resumable: true, createdBy: 'alice', createdAt: '2026-11-23T21:00:00.000Z', startedAt: null, finishedAt: null };
  const target = { id: 't', name: 'nightly', kind: 'directory', path: '/srv/b', poolId: null, poolName: null, backupCount: 1, createdAt: '2026-11-23T21:00:00.000Z' };
  const backup = { id: 'b-1', volumeId: 'v', volumeName: 'db', snapshotName: 'backup-b-1', kind: 'full', parentId: null, targetId: 't', targetName: 'nightly', targetKind: 'directory', location: '/srv/b/db/b-1.img', size: 8 * 2 ** 20, pageSize: 2 ** 20, bytesStored: 8 * 2 ** 20, imageDigest: 'ab'.repeat(32), state: 'complete', jobId: 'j-9', job: { ...job, state: 'succeeded' }, dependents: ['b-2'], createdBy: 'alice', createdAt: '2026-11-23T21:00:00.000Z', finishedAt: '2026-11-23T21:00:01.000Z' };
  const backups = () => ({
    addTarget: vi.fn(async () => target),
    listTargets: vi.fn(async () => [target]),
    removeTarget: vi.fn(async () => target),
    create: vi.fn(async () => ({ backup: { ...backup, state: 'pending' }, job })),
    list: vi.fn(async () => [backup]),
    get: vi.fn(async () => backup),
    remove: vi.fn(async () => undefined),
    restore: vi.fn(async () => ({ volume: volume('db2'), job: { ...job, kind: 'restore', target: { type: 'volume', id: 'w', name: 'db2' } } })),
    verify: vi.fn(async () => ({ ...job, kind: 'backup-verify' })),
  });
  const jobs = (end: Record<string, unknown>) => ({ wait: vi.fn(async () => ({ ...job, ...end })) });

  it('adds and lists targets, backs up with a rate and waits, lists and shows backups', async () => {
    const b = backups();
    const ctx = context(services({ backups: b, jobs: jobs({ state: 'succeeded', percent: 100 }) }));
    expect((await exec('backup target add nightly --directory /srv/b', ctx)).out).toBe("Added backup target 'nightly' (directory, /srv/b).");
    expect(b.addTarget).toHaveBeenCalledWith(ctx.actor, { name: 'nightly', kind: 'directory', path: '/srv/b' });
    expect(await exec('backup target add x --directory /a --pool p', ctx)).toMatchObject({ status: 2, err: expect.stringContaining('give exactly one of --directory, --device or --pool') });
    expect((await exec('backup target ls', ctx)).out).toMatch(/^NAME +KIND +WHERE +BACKUPS +CREATED\nnightly +directory +\/srv\/b +1 /);
    const created = await exec('backup create db --target nightly --incremental --rate 50M --wait', ctx);
    expect(b.create).toHaveBeenCalledWith(ctx.actor, { volume: 'db', target: 'nightly', incremental: true, rateLimit: 50 * 2 ** 20 });
    expect(created).toMatchObject({ status: 0 });
    expect(created.out).toBe("Backup b-1 (full) of volume 'db' to target 'nightly' started.\nJob j-9 (backup of volume 'db') is running, 0% done.\nJob j-9 (backup of volume 'db') is succeeded, 100% done.");
    expect((await exec('backup ls --volume db', ctx)).out).toMatch(/^ID +VOLUME +KIND +TARGET +STATE +SIZE +STORED +CREATED\nb-1 +db +full +nightly +complete +8 MiB +8 MiB /);
    expect((await exec('backup show b-1', ctx)).out).toMatch(/Dependents: +b-2\n/);
  });

  it('restores with --to, --to-share or --over and --force (confirmed), verifies waiting for the result, removes with confirmation', async () => {
    const b = backups();
    const ctx = context(services({ backups: b, jobs: jobs({ kind: 'backup-verify', state: 'failed', error: 'page 3 does not match' }) }));
    expect(await exec('backup restore b-1', ctx)).toMatchObject({ status: 2, err: expect.stringContaining('give one of --to <new volume>, --over <volume> --force, or --to-share <new share>') });
    expect(await exec('backup restore b-1 --to a --to-share b', ctx)).toMatchObject({ status: 2 });
    await exec('backup restore b-1 --to-share home2', ctx);
    expect(b.restore).toHaveBeenLastCalledWith(ctx.actor, 'b-1', { to: undefined, toShare: 'home2', pool: undefined, over: undefined, force: false, rateLimit: undefined });
    expect((await exec('backup restore b-1 --to db2', ctx)).out).toBe("Restoring into volume 'db2'.\nJob j-9 (restore of volume 'db2') is running, 0% done.");
    expect((await exec('backup restore b-1 --over db --force', ctx)).err).toContain("refusing to restore backup b-1 over volume 'db'");
    await exec('backup restore b-1 --over db --force --yes', ctx);
    expect(b.restore).toHaveBeenLastCalledWith(ctx.actor, 'b-1', { to: undefined, toShare: undefined, pool: undefined, over: 'db', force: true, rateLimit: undefined });
    const verified = await exec('backup verify b-1', ctx);
    expect(verified).toMatchObject({ status: 1 });
    expect(verified.out).toContain('page 3 does not match');
    expect((await exec('backup rm b-1', ctx)).err).toContain('refusing to remove backup b-1');
    await exec('backup rm b-1 --with-dependents --yes', ctx);
    expect(b.remove).toHaveBeenCalledWith(ctx.actor, 'b-1', { withDependents: true });
  });
});

describe('CommandRunner.complete', () => {
  const s = services({ volumes: volumes(), pools: { list: async () => [{ name: 'default' }, { name: 'fast' }] } });

  it('offers commands, then subcommands, then what the argument or option wants', async () => {
    expect(await runner.complete('', s)).toEqual(expect.arrayContaining(['status', 'volume', 'user', 'help', 'exit', 'sessions', 'jobs']));
    expect(await runner.complete('volume ', s)).toEqual(['list', 'show', 'create', 'grow', 'rename', 'delete']);
    expect(await runner.complete('user key r', s)).toEqual(['list', 'add', 'remove']);
    expect(await runner.complete('volume show ', s)).toEqual(['v1', 'v2']);
    expect(await runner.complete('volume create v3 --pool ', s)).toEqual(['default', 'fast']);
    expect(await runner.complete('volume create v3 --pool fast --size 1G --th', s)).toEqual(['--pool', '--size', '--thick', '--json', '--help']);
    expect(await runner.complete('volume delete v1 --', s)).toContain('--yes');
    expect(await runner.complete('volume grow v1 ', s)).toEqual([]);
    expect(await runner.complete('help vol', s)).toContain('volume');
    expect(await runner.complete('help volume ', s)).toEqual(['list', 'show', 'create', 'grow', 'rename', 'delete']);
  });

  it('offers nothing inside quotes or after a word it does not know', async () => {
    expect(await runner.complete('volume show "v', s)).toEqual([]);
    expect(await runner.complete('frob ', s)).toEqual([]);
  });
});
