import { table, time } from '../../cli/format';
import { UsageError } from '../usage-error';
import type { CommandContext, CommandSpec } from './command';
import { names } from './completers';

/** On a terminal: asked twice without echo, since a typo locks the account out. Otherwise the next line of stdin. */
async function newPassword(ctx: CommandContext, question: string): Promise<string> {
  const first = await ctx.ask(question, { secret: true });
  if (!first) {
    throw new UsageError(ctx.terminal ? 'no password given' : 'no password given: send it as a line on stdin, or use ssh -t to be asked');
  }
  if (ctx.terminal && (await ctx.ask('Repeat it: ', { secret: true })) !== first) throw new UsageError('the passwords do not match');
  return first;
}

const user = { name: 'user', complete: names.user };

export const userCommands: CommandSpec[] = [
  {
    name: 'user',
    sub: 'list',
    summary: 'list admin accounts',
    async run({ services }) {
      const users = await services.auth.listUsers();
      return { data: users, text: table(['USERNAME', 'CREATED', 'LAST LOGIN'], users.map((u) => [u.username, time(u.createdAt), time(u.lastLoginAt)])) };
    },
  },
  {
    name: 'user',
    sub: 'add',
    summary: 'create an admin account (the password is asked, or read from stdin without a terminal)',
    args: [{ name: 'name' }],
    async run(ctx, p) {
      const password = await newPassword(ctx, `Password for ${p.arg('name')}: `);
      const created = await ctx.services.auth.createUser(ctx.actor, p.arg('name'), password);
      return { data: created, text: `Created admin user '${created.username}'.` };
    },
  },
  {
    name: 'user',
    sub: 'passwd',
    summary: "change a password (your own needs the current one first); ends that admin's REST sessions",
    args: [{ ...user, optional: true }],
    async run(ctx, p) {
      const target = p.optionalArg('user') ?? ctx.actor.name;
      const own = target === ctx.actor.name;
      const current = own ? await ctx.ask('Current password: ', { secret: true }) : undefined;
      if (current === null) throw new UsageError('no current password given');
      const next = await newPassword(ctx, `New password for ${target}: `);
      await ctx.services.auth.changePassword(ctx.actor, target, current, next);
      return { text: `Password of '${target}' changed; their REST API sessions were ended.` };
    },
  },
  {
    name: 'user',
    sub: 'remove',
    summary: 'delete an admin account (and its SSH keys)',
    args: [user],
    confirm: (p) => `remove admin user '${p.arg('user')}'`,
    async run({ services, actor }, p) {
      await services.auth.removeUser(actor, p.arg('user'));
      return { text: `Removed admin user '${p.arg('user')}'.` };
    },
  },
  {
    name: 'user',
    sub: 'key list',
    summary: "list an admin's SSH public keys",
    args: [user],
    async run({ services }, p) {
      const keys = await services.auth.listKeys(p.arg('user'));
      const text = keys.length
        ? table(['ID', 'NAME', 'TYPE', 'FINGERPRINT', 'ADDED'], keys.map((k) => [k.id, k.name, k.type, k.fingerprint, time(k.createdAt)]))
        : `Admin '${p.arg('user')}' has no SSH keys.`;
      return { data: keys, text };
    },
  },
  {
    name: 'user',
    sub: 'key add',
    summary: 'register an SSH public key for an admin',
    args: [user],
    options: [
      { name: 'key', value: 'public-key', help: 'the key line, quoted: "ssh-ed25519 AAAA... comment" (ssh-rsa, ecdsa-sha2-* too)', required: true },
      { name: 'name', value: 'label', help: 'a label (default: the comment on the key line)' },
    ],
    async run({ services, actor }, p) {
      const k = await services.auth.addKey(actor, p.arg('user'), { publicKey: p.opt('key')!, name: p.opt('name') });
      return { data: k, text: `Added ${k.type} key '${k.name}' (${k.fingerprint}) for admin '${k.username}'; id ${k.id}.` };
    },
  },
  {
    name: 'user',
    sub: 'key remove',
    summary: "remove one of an admin's SSH keys",
    args: [user, { name: 'id', complete: names.key }],
    confirm: (p) => `remove SSH key '${p.arg('id')}' of admin '${p.arg('user')}'`,
    async run({ services, actor }, p) {
      await services.auth.removeKey(actor, p.arg('user'), p.arg('id'));
      return { text: `Removed SSH key ${p.arg('id')} of admin '${p.arg('user')}'.` };
    },
  },
];
