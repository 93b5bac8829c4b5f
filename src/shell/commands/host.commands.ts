import { hostTable, showHost } from '../../cli/views';
import { HOST_SECURITIES, type HostSecurity } from '../../storage/domain';
import { UsageError } from '../usage-error';
import type { CommandSpec } from './command';
import { names, oneOf } from './completers';

const host = { name: 'host', complete: names.host };
// The key is one quoted argument: --key "ssh-ed25519 AAAA... comment". Files stay on the admin's side.
const KEY_HELP = 'the Ed25519 key, quoted: "ssh-ed25519 AAAA..." as strata-client keygen prints it';
const security = {
  name: 'security',
  value: 'mode',
  help: 'encrypt (default) or integrity: the host may send its SAN data in clear, authenticated (it asks for it: strata-client login --security integrity)',
  complete: oneOf(...HOST_SECURITIES),
};

export const hostCommands: CommandSpec[] = [
  {
    name: 'host',
    sub: 'list',
    summary: 'list hosts',
    async run({ services }) {
      const list = await services.hosts.list();
      return { data: list, text: list.length ? hostTable(list) : 'No hosts.' };
    },
  },
  {
    name: 'host',
    sub: 'show',
    summary: 'show a host and its assignments',
    args: [host],
    async run({ services }, p) {
      const h = await services.hosts.get(p.arg('host'));
      return { data: h, text: showHost(h) };
    },
  },
  {
    name: 'host',
    sub: 'add',
    summary: 'register a host by its public key',
    args: [{ name: 'name' }],
    options: [
      { name: 'key', value: 'public-key', help: KEY_HELP, required: true },
      { name: 'description', value: 'text', help: 'free text, e.g. where the host is' },
      security,
    ],
    async run({ services, actor }, p) {
      const h = await services.hosts.create(actor, { name: p.arg('name'), publicKey: p.opt('key')!, description: p.opt('description'), security: p.opt('security') as HostSecurity | undefined });
      return { data: h, text: `Added host '${h.name}' (${h.keyFingerprint}).` };
    },
  },
  {
    name: 'host',
    sub: 'update',
    summary: "change a host's name, key, description or SAN security",
    args: [host],
    options: [
      { name: 'name', value: 'name', help: 'new name' },
      { name: 'key', value: 'public-key', help: `new key: ${KEY_HELP}` },
      { name: 'description', value: 'text', help: 'new description' },
      security,
    ],
    async run({ services, actor }, p) {
      const change = { name: p.opt('name'), publicKey: p.opt('key'), description: p.opt('description'), security: p.opt('security') as HostSecurity | undefined };
      if (Object.values(change).every((v) => v === undefined)) throw new UsageError('nothing to change: give --name, --key, --description or --security');
      const h = await services.hosts.update(actor, p.arg('host'), change);
      return { data: h, text: `Updated host '${h.name}'.` };
    },
  },
  {
    name: 'host',
    sub: 'remove',
    summary: 'unregister a host',
    args: [host],
    options: [{ name: 'force', help: 'revoke its assignments first instead of refusing' }],
    confirm: (p) => `remove host '${p.arg('host')}'${p.flag('force') ? ' and revoke its assignments' : ''}`,
    async run({ services, actor }, p) {
      await services.hosts.remove(actor, p.arg('host'), { force: p.flag('force') });
      return { text: `Removed host '${p.arg('host')}'.` };
    },
  },
];
