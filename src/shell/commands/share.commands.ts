import { parseSize } from '../../common/size';
import { size } from '../../cli/format';
import { ruleFields, SQUASH_MODES } from '../../cli/rule-flags';
import { fsckText, NO_RULES, ruleTable, shareTable, showRule, showShare } from '../../cli/views';
import type { ExportRuleInput } from '../../storage/share.service';
import { UsageError } from '../usage-error';
import type { CommandSpec, OptionSpec, Parsed } from './command';
import { names, oneOf } from './completers';

const share = { name: 'share', complete: names.share };
const rule = { name: 'rule', complete: names.rule };
const usage = (message: string) => new UsageError(message);

const INSECURE: OptionSpec = {
  name: 'insecure',
  help: 'accept callers from any source port (needed by libnfs tools run as a normal user); the default requires a port below 1024',
};
const RULE_OPTIONS: OptionSpec[] = [
  { name: 'squash', value: 'mode', help: 'which callers act as the anonymous user: root_squash (default), all_squash, no_root_squash', complete: oneOf(...SQUASH_MODES) },
  { name: 'anon-uid', value: 'uid', help: 'uid of squashed callers (default 65534)' },
  { name: 'anon-gid', value: 'gid', help: 'gid of squashed callers (default 65534)' },
  INSECURE,
  { name: 'comment', value: 'text', help: 'a note for admins' },
];

/** The rule options of a parsed line, as the API's rule fields. */
const fieldsOf = (p: Parsed, clients?: string) =>
  ruleFields(
    {
      clients: clients ?? p.opt('clients'),
      access: p.opt('access'),
      rw: p.flag('rw'),
      squash: p.opt('squash'),
      anonUid: p.opt('anon-uid'),
      anonGid: p.opt('anon-gid'),
      secure: p.flag('secure'),
      insecure: p.flag('insecure'),
      comment: p.opt('comment'),
      position: p.opt('position'),
    },
    usage,
  ) as Partial<ExportRuleInput> & { position?: number };

export const shareCommands: CommandSpec[] = [
  {
    name: 'share',
    sub: 'list',
    summary: 'list shares',
    async run({ services }) {
      const list = await services.shares.list();
      return { data: list, text: list.length ? shareTable(list) : 'No shares.' };
    },
  },
  {
    name: 'share',
    sub: 'show',
    summary: 'show a share and its export rules',
    args: [share],
    async run({ services }, p) {
      const s = await services.shares.get(p.arg('share'));
      return { data: s, text: showShare(s) };
    },
  },
  {
    name: 'share',
    sub: 'create',
    summary: 'create a share (and its thin volume); it admits no client until a rule is added',
    args: [{ name: 'name' }],
    options: [
      { name: 'pool', value: 'pool', help: 'the pool for its volume', required: true, complete: names.pool },
      { name: 'size', value: 'size', help: 'like 100G, or bytes', required: true },
    ],
    async run({ services, actor }, p) {
      const s = await services.shares.create(actor, { name: p.arg('name'), pool: p.opt('pool')!, size: parseSize(p.opt('size')) });
      return { data: s, text: `Created share '${s.name}' (${size(s.size)}) in pool '${s.poolName}', mounted as ${s.path}; add export rules to let clients in.` };
    },
  },
  {
    name: 'share',
    sub: 'grow',
    summary: 'grow a share (shares never shrink)',
    args: [share, { name: 'size' }],
    async run({ services, actor }, p) {
      const s = await services.shares.grow(actor, p.arg('share'), parseSize(p.arg('size')));
      return { data: s, text: `Share '${s.name}' is now ${size(s.size)}.` };
    },
  },
  {
    name: 'share',
    sub: 'rename',
    summary: 'rename a share (its mount path changes; file handles stay valid)',
    args: [share, { name: 'new-name' }],
    async run({ services, actor }, p) {
      const s = await services.shares.update(actor, p.arg('share'), { name: p.arg('new-name') });
      return { data: s, text: `Renamed share '${p.arg('share')}' to '${s.name}' (mount path ${s.path}).` };
    },
  },
  {
    name: 'share',
    sub: 'delete',
    summary: 'delete a share, its files and its volume',
    args: [share],
    options: [{ name: 'force', help: 'delete even if clients have it mounted' }],
    confirm: (p) => `delete share '${p.arg('share')}' and every file on it`,
    async run({ services, actor }, p) {
      await services.shares.remove(actor, p.arg('share'), { force: p.flag('force') });
      return { text: `Deleted share '${p.arg('share')}'.` };
    },
  },
  {
    name: 'share',
    sub: 'fsck',
    summary: "check a share's filesystem: metadata cross-checked against block allocation (exit status 1 when problems are found)",
    args: [share],
    options: [{ name: 'snapshot', value: 'name', help: 'check one of its snapshots instead of the live share' }],
    async run({ services, actor }, p) {
      const snapshot = p.opt('snapshot');
      const r = await services.nas.fsck(actor, p.arg('share'), snapshot === undefined ? {} : { snapshot });
      return { data: r, text: fsckText(r), status: r.clean ? 0 : 1 };
    },
  },
  {
    name: 'share',
    sub: 'rule list',
    summary: "list a share's export rules in order (the first match decides)",
    args: [share],
    async run({ services }, p) {
      const list = await services.shares.listRules(p.arg('share'));
      return { data: list, text: list.length ? ruleTable(list) : NO_RULES };
    },
  },
  {
    name: 'share',
    sub: 'rule show',
    summary: 'show one export rule',
    args: [share, rule],
    async run({ services }, p) {
      const r = await services.shares.getRule(p.arg('share'), p.arg('rule'));
      return { data: r, text: showRule(r) };
    },
  },
  {
    name: 'share',
    sub: 'rule add',
    summary: 'add an export rule (read-only, root squashed, privileged ports only unless told otherwise)',
    args: [share, { name: 'clients' }],
    options: [
      { name: 'rw', help: 'read-write (default: read-only)' },
      ...RULE_OPTIONS,
      { name: 'position', value: 'n', help: 'where the rule goes, 1 = first (default: last)' },
    ],
    async run({ services, actor }, p) {
      const r = await services.shares.addRule(actor, p.arg('share'), fieldsOf(p, p.arg('clients')) as ExportRuleInput & { position?: number });
      return { data: r, text: `Added rule ${r.position} of share '${p.arg('share')}': ${r.clients.join(',')} ${r.access}, ${r.squash}.` };
    },
  },
  {
    name: 'share',
    sub: 'rule update',
    summary: 'change an export rule, or move it',
    args: [share, rule],
    options: [
      { name: 'clients', value: 'clients', help: 'replace its clients (comma-separated)' },
      { name: 'access', value: 'rw|ro', help: 'read-write or read-only', complete: oneOf('rw', 'ro') },
      ...RULE_OPTIONS,
      { name: 'secure', help: 'require a source port below 1024' },
      { name: 'position', value: 'n', help: 'move it here, 1 = first' },
    ],
    async run({ services, actor }, p) {
      const changes = fieldsOf(p);
      if (Object.keys(changes).length === 0) throw new UsageError('nothing to change: give at least one option (help share rule update)');
      const r = await services.shares.updateRule(actor, p.arg('share'), p.arg('rule'), changes);
      return { data: r, text: `Updated rule ${r.position} of share '${p.arg('share')}': ${r.clients.join(',')} ${r.access}, ${r.squash}.` };
    },
  },
  {
    name: 'share',
    sub: 'rule remove',
    summary: 'remove an export rule',
    args: [share, rule],
    confirm: (p) => `remove rule ${p.arg('rule')} of share '${p.arg('share')}'`,
    async run({ services, actor }, p) {
      await services.shares.removeRule(actor, p.arg('share'), p.arg('rule'));
      return { text: `Removed rule ${p.arg('rule')} of share '${p.arg('share')}'.` };
    },
  },
];
