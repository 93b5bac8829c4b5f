import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import type { ShareFsckReport } from '../../nas/share-fsck';
import type { ExportRuleInfo, ShareInfo } from '../../storage/domain';
import { sizeArg } from '../args';
import { seg, usageError } from '../client';
import { Context } from '../context';
import { size } from '../format';
import { confirm, type CliIO } from '../io';
import { ruleFields, SQUASH_MODES, type RuleFlags } from '../rule-flags';
import { fsckText, NO_RULES, ruleTable, shareTable, showRule, showShare } from '../views';

const ASYNC_HELP = 'acknowledge creates, removes, renames and attribute changes before they reach the disk (exports(5) async: a crash of the gateway loses none of them, a crash of the host may lose the last second of them; writes still report their real stability)';

const INSECURE_HELP = 'accept callers from any source port (needed by libnfs tools run as a normal user); the default requires a port below 1024';

/** One line about a rule, after a change. */
const ruleLine = (share: string, r: ExportRuleInfo) =>
  `Rule ${r.position} of share '${share}': ${r.clients.join(',')} ${r.access}, ${r.squash}${r.requirePrivilegedPort ? '' : ', any source port'}.`;

export function registerShare(program: Command, io: CliIO): void {
  const share = program.command('share').description('NAS shares: filesystems on their own thin volumes, exported over NFS');

  share
    .command('list')
    .description('list shares')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const list = await ctx.api.get<ShareInfo[]>('shares');
      ctx.emit(list, (l) => (l.length ? shareTable(l) : 'No shares.'));
    });

  share
    .command('show')
    .description('show a share and its export rules')
    .argument('<share>', 'share id or name')
    .action(async (key: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      ctx.emit(await ctx.api.get<ShareInfo>(`shares/${seg(key)}`), showShare);
    });

  share
    .command('create')
    .description('create a share (and its thin volume); it admits no client until a rule is added')
    .argument('<name>', 'share name; clients mount /<name>')
    .requiredOption('--pool <pool>', 'pool id or name')
    .requiredOption('--size <size>', 'size like 100G, or bytes', sizeArg)
    .option('--async', ASYNC_HELP)
    .action(async (name: string, opts: { pool: string; size: number; async?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const created = await ctx.api.post<ShareInfo>('shares', { name, pool: opts.pool, size: opts.size, ...(opts.async ? { sync: false } : {}) });
      ctx.emit(created, (s) => `Created share '${s.name}' (${size(s.size)}) in pool '${s.poolName}', mounted as ${s.path}; add export rules to let clients in.`);
    });

  share
    .command('grow')
    .description('grow a share (shares never shrink)')
    .argument('<share>', 'share id or name')
    .argument('<size>', 'the new size, like 200G, or bytes', sizeArg)
    .action(async (key: string, newSize: number, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const grown = await ctx.api.patch<ShareInfo>(`shares/${seg(key)}`, { size: newSize });
      ctx.emit(grown, (s) => `Share '${s.name}' is now ${size(s.size)}.`);
    });

  share
    .command('sync')
    .description('set how a share commits creates, removes, renames and attribute changes (exports(5) sync/async)')
    .argument('<share>', 'share id or name')
    .argument('<mode>', "'sync' (the default: on disk before the reply) or 'async' (committed before the reply, on disk within a second)")
    .action(async (key: string, mode: string, _opts: unknown, cmd: Command) => {
      if (mode !== 'sync' && mode !== 'async') throw usageError(`mode must be 'sync' or 'async', not '${mode}'`);
      const ctx = Context.of(cmd, io);
      const changed = await ctx.api.patch<ShareInfo>(`shares/${seg(key)}`, { sync: mode === 'sync' });
      ctx.emit(changed, (s) => `Share '${s.name}' is now ${s.sync ? 'sync' : 'async'}.`);
    });

  share
    .command('rename')
    .description('rename a share (its mount path changes; file handles stay valid)')
    .argument('<share>', 'share id or name')
    .argument('<new-name>', 'its new name')
    .action(async (key: string, name: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const renamed = await ctx.api.patch<ShareInfo>(`shares/${seg(key)}`, { name });
      ctx.emit(renamed, (s) => `Renamed share '${key}' to '${s.name}' (mount path ${s.path}).`);
    });

  share
    .command('delete')
    .description('delete a share, its files and its volume')
    .argument('<share>', 'share id or name')
    .option('--force', 'delete even if clients have it mounted')
    .action(async (key: string, opts: { force?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      await confirm(io, ctx.yes, `delete share '${key}'`, ' and every file on it');
      await ctx.api.delete(`shares/${seg(key)}`, { force: opts.force || undefined });
      if (!ctx.json) ctx.out(`Deleted share '${key}'.`);
    });

  share
    .command('fsck')
    .description("check a share's filesystem: metadata cross-checked against block allocation (exit status 1 when problems are found)")
    .argument('<share>', 'share id or name')
    .option('--snapshot <name>', 'check one of its snapshots instead of the live share')
    .action(async (key: string, opts: { snapshot?: string }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const query = opts.snapshot === undefined ? '' : `?snapshot=${encodeURIComponent(opts.snapshot)}`;
      const report = await ctx.api.post<ShareFsckReport>(`shares/${seg(key)}/fsck${query}`, {});
      ctx.emit(report, fsckText);
      if (!report.clean) process.exitCode = 1;
    });

  const rule = share.command('rule').description("a share's export rules: which clients may mount it, and how (the first match decides)");

  rule
    .command('list')
    .description("list a share's export rules in order")
    .argument('<share>', 'share id or name')
    .action(async (key: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const list = await ctx.api.get<ExportRuleInfo[]>(`shares/${seg(key)}/rules`);
      ctx.emit(list, (l) => (l.length ? ruleTable(l) : NO_RULES));
    });

  rule
    .command('show')
    .description('show one export rule')
    .argument('<share>', 'share id or name')
    .argument('<rule>', 'rule id, or its position (1 = first)')
    .action(async (key: string, ruleKey: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      ctx.emit(await ctx.api.get<ExportRuleInfo>(`shares/${seg(key)}/rules/${seg(ruleKey)}`), showRule);
    });

  rule
    .command('add')
    .description('add an export rule (read-only, root squashed, privileged ports only unless told otherwise)')
    .argument('<share>', 'share id or name')
    .argument('<clients>', 'comma-separated addresses and CIDR networks (IPv4, IPv6), or *')
    .option('--rw', 'read-write (default: read-only)')
    .addOption(new Option('--squash <mode>', 'which callers act as the anonymous user (default root_squash)').choices([...SQUASH_MODES]))
    .option('--anon-uid <uid>', 'uid of squashed callers (default 65534)')
    .option('--anon-gid <gid>', 'gid of squashed callers (default 65534)')
    .option('--insecure', INSECURE_HELP)
    .option('--comment <text>', 'a note for admins')
    .option('--position <n>', 'where the rule goes, 1 = first (default: last)')
    .action(async (key: string, clients: string, opts: RuleFlags, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const added = await ctx.api.post<ExportRuleInfo>(`shares/${seg(key)}/rules`, ruleFields({ ...opts, clients }, usageError));
      ctx.emit(added, (r) => `Added: ${ruleLine(key, r)}`);
    });

  rule
    .command('update')
    .description('change an export rule, or move it')
    .argument('<share>', 'share id or name')
    .argument('<rule>', 'rule id, or its position (1 = first)')
    .option('--clients <clients>', 'replace its clients (comma-separated)')
    .addOption(new Option('--access <access>', 'read-write or read-only').choices(['rw', 'ro']))
    .addOption(new Option('--squash <mode>', 'which callers act as the anonymous user').choices([...SQUASH_MODES]))
    .option('--anon-uid <uid>', 'uid of squashed callers')
    .option('--anon-gid <gid>', 'gid of squashed callers')
    .option('--secure', 'require a source port below 1024')
    .option('--insecure', INSECURE_HELP)
    .option('--comment <text>', "a note for admins ('' clears it)")
    .option('--position <n>', 'move it here, 1 = first')
    .action(async (key: string, ruleKey: string, opts: RuleFlags, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const body = ruleFields(opts, usageError);
      if (Object.keys(body).length === 0) throw usageError('nothing to change: give at least one option (see --help)');
      const updated = await ctx.api.patch<ExportRuleInfo>(`shares/${seg(key)}/rules/${seg(ruleKey)}`, body);
      ctx.emit(updated, (r) => `Updated: ${ruleLine(key, r)}`);
    });

  rule
    .command('remove')
    .description('remove an export rule')
    .argument('<share>', 'share id or name')
    .argument('<rule>', 'rule id, or its position (1 = first)')
    .action(async (key: string, ruleKey: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      await confirm(io, ctx.yes, `remove rule ${ruleKey} of share '${key}'`);
      await ctx.api.delete(`shares/${seg(key)}/rules/${seg(ruleKey)}`);
      if (!ctx.json) ctx.out(`Removed rule ${ruleKey} of share '${key}'.`);
    });

  rule
    .command('replace')
    .description("replace all of a share's rules with those of a JSON file (a list of rules, as the API takes them; [] closes the share)")
    .argument('<share>', 'share id or name')
    .argument('<file>', "JSON file, or - for standard input")
    .action(async (key: string, file: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      let rules: unknown;
      try {
        const text = file === '-' ? await readAll(io.stdin) : readFileSync(file, 'utf8');
        rules = JSON.parse(text);
      } catch (e) {
        throw usageError(`cannot read rules from ${file === '-' ? 'standard input' : file}: ${(e as Error).message}`);
      }
      if (!Array.isArray(rules)) rules = (rules as { rules?: unknown })?.rules;
      if (!Array.isArray(rules)) throw usageError('the file must hold a JSON list of rules, or {"rules": [...]}');
      const replaced = await ctx.api.request<ExportRuleInfo[]>('PUT', `shares/${seg(key)}/rules`, { json: { rules } });
      ctx.emit(replaced, (l) => `Share '${key}' now has ${l.length} export rule(s).${l.length ? `\n${ruleTable(l)}` : ''}`);
    });
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text;
}
