import type { Access, Sharing } from '../../storage/assignment.service';
import { assignmentTable, showAssignment } from '../../cli/views';
import { UsageError } from '../usage-error';
import type { CommandSpec } from './command';
import { names, oneOf } from './completers';

const assignment = { name: 'id', complete: names.assignment };

export const assignmentCommands: CommandSpec[] = [
  {
    name: 'assignment',
    sub: 'list',
    summary: 'list assignments',
    options: [
      { name: 'host', value: 'host', help: 'only this host', complete: names.host },
      { name: 'volume', value: 'volume', help: 'only this volume', complete: names.volume },
    ],
    async run({ services }, p) {
      const list = await services.assignments.list({ host: p.opt('host'), volume: p.opt('volume') });
      return { data: list, text: list.length ? assignmentTable(list) : 'No assignments.' };
    },
  },
  {
    name: 'assignment',
    sub: 'show',
    summary: 'show an assignment',
    args: [assignment],
    async run({ services }, p) {
      const a = await services.assignments.get(p.arg('id'));
      return { data: a, text: showAssignment(a) };
    },
  },
  {
    name: 'assignment',
    sub: 'create',
    summary: 'let a host use a volume (read-write and exclusive unless told otherwise)',
    args: [
      { name: 'host', complete: names.host },
      { name: 'volume', complete: names.volume },
    ],
    options: [
      { name: 'ro', help: 'read-only access' },
      { name: 'shared', help: 'other hosts may be assigned the volume too (they must coordinate, e.g. a cluster file system)' },
    ],
    async run({ services, actor }, p) {
      const a = await services.assignments.create(actor, {
        host: p.arg('host'),
        volume: p.arg('volume'),
        access: p.flag('ro') ? 'ro' : 'rw',
        sharing: p.flag('shared') ? 'shared' : 'exclusive',
      });
      return { data: a, text: `Assigned volume '${a.volumeName}' to host '${a.hostName}' (${a.access}, ${a.sharing}); assignment ${a.id}.` };
    },
  },
  {
    name: 'assignment',
    sub: 'update',
    summary: "change an assignment's access or sharing",
    args: [assignment],
    options: [
      { name: 'access', value: 'rw|ro', help: 'read-write or read-only', complete: oneOf('rw', 'ro') },
      { name: 'sharing', value: 'exclusive|shared', help: 'exclusive to this host, or shared', complete: oneOf('exclusive', 'shared') },
    ],
    async run({ services, actor }, p) {
      const access = p.opt('access') as Access | undefined;
      const sharing = p.opt('sharing') as Sharing | undefined;
      if (access === undefined && sharing === undefined) throw new UsageError('nothing to change: give --access and/or --sharing');
      const a = await services.assignments.update(actor, p.arg('id'), { access, sharing });
      return { data: a, text: `Assignment ${a.id} is now ${a.access}, ${a.sharing}.` };
    },
  },
  {
    name: 'assignment',
    sub: 'revoke',
    summary: 'take a volume away from a host',
    args: [assignment],
    confirm: (p) => `revoke assignment '${p.arg('id')}'`,
    async run({ services, actor }, p) {
      await services.assignments.remove(actor, p.arg('id'));
      return { text: `Revoked assignment ${p.arg('id')}.` };
    },
  },
];
