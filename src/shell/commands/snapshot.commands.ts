import { size } from '../../cli/format';
import { clonedText, groupTable, NO_SNAPSHOTS, rolledBackText, scheduleLine, scheduleTable, snapshotTable } from '../../cli/views';
import type { ScheduleUnit } from '../../storage/domain';
import type { CommandSpec } from './command';
import { UsageError } from '../usage-error';
import { names, oneOf } from './completers';

const volume = { name: 'volume', complete: names.volume };
const snapshot = { name: 'snapshot', complete: names.snapshot };
const FORCE_ROLLBACK = 'even though hosts have it assigned read-write, it is exported over NBD, or NFS clients have the share mounted';

/** The same commands as `strata snapshot …` (src/cli/commands/snapshot.ts), over the services directly. */
export const snapshotCommands: CommandSpec[] = [
  {
    name: 'snapshot',
    sub: 'create',
    summary: "take a snapshot of a volume now (instant; hosts can be assigned it read-only as '<volume>@<name>')",
    args: [volume, { name: 'name' }],
    async run({ services, actor }, p) {
      const s = await services.snapshots.create(actor, p.arg('volume'), { name: p.arg('name') });
      return { data: s, text: `Created snapshot '${s.name}' of volume '${s.originName}' (${s.volumeName}).` };
    },
  },
  {
    name: 'snapshot',
    sub: 'ls',
    summary: "list a volume's snapshots",
    args: [volume],
    async run({ services }, p) {
      const list = await services.snapshots.list(p.arg('volume'));
      return { data: list, text: list.length ? snapshotTable(list) : NO_SNAPSHOTS(p.arg('volume')) };
    },
  },
  {
    name: 'snapshot',
    sub: 'rm',
    summary: 'delete a snapshot (pages only it holds go back to the pool)',
    args: [volume, snapshot],
    options: [{ name: 'force', help: 'revoke its assignments first instead of refusing' }],
    confirm: (p) => `delete snapshot '${p.arg('snapshot')}' of volume '${p.arg('volume')}'${p.flag('force') ? ', revoking its assignments' : ''}`,
    async run({ services, actor }, p) {
      await services.snapshots.remove(actor, p.arg('volume'), p.arg('snapshot'), { force: p.flag('force') });
      return { text: `Deleted snapshot '${p.arg('snapshot')}' of volume '${p.arg('volume')}'.` };
    },
  },
  {
    name: 'snapshot',
    sub: 'rollback',
    summary: 'make a volume, or a share, read as one of its snapshots again (what was written since is lost)',
    args: [volume, snapshot],
    options: [{ name: 'force', help: FORCE_ROLLBACK }],
    confirm: (p) => `roll volume '${p.arg('volume')}' back to snapshot '${p.arg('snapshot')}', losing everything written since`,
    async run({ services, actor }, p) {
      const v = await services.snapshots.rollback(actor, p.arg('volume'), { snapshot: p.arg('snapshot'), force: p.flag('force') });
      return { data: v, text: rolledBackText(v, p.arg('snapshot')) };
    },
  },
  {
    name: 'snapshot',
    sub: 'clone',
    summary: "create a writable thin volume (or, of a share's snapshot, a share) that starts as a snapshot",
    args: [volume, snapshot, { name: 'new-volume' }],
    async run({ services, actor }, p) {
      const v = await services.snapshots.clone(actor, p.arg('volume'), p.arg('snapshot'), { name: p.arg('new-volume') });
      return { data: v, text: clonedText(v, p.arg('snapshot'), p.arg('volume')) };
    },
  },
  {
    name: 'snapshot',
    sub: 'group create',
    summary: 'create a consistency group of block volumes',
    args: [{ name: 'name' }],
    options: [{ name: 'volume', value: 'volume', help: 'a member volume; repeat for each', required: true, repeat: true, complete: names.volume }],
    async run({ services, actor }, p) {
      const g = await services.groups.create(actor, { name: p.arg('name'), volumes: p.all('volume') });
      return { data: g, text: `Created consistency group '${g.name}' of ${g.volumes.map((v) => v.name).join(', ')}.` };
    },
  },
  {
    name: 'snapshot',
    sub: 'group ls',
    summary: 'list consistency groups',
    async run({ services }) {
      const list = await services.groups.list();
      return { data: list, text: list.length ? groupTable(list) : 'No consistency groups.' };
    },
  },
  {
    name: 'snapshot',
    sub: 'group take',
    summary: 'snapshot every member of a group at one instant, each as <volume>@<name>',
    args: [{ name: 'group' }, { name: 'name' }],
    async run({ services, actor }, p) {
      const list = await services.groups.snapshot(actor, p.arg('group'), { name: p.arg('name') });
      return { data: list, text: `Took ${list.map((s) => s.volumeName).join(', ')} at one instant.` };
    },
  },
  {
    name: 'snapshot',
    sub: 'group rm',
    summary: 'delete a consistency group (its volumes and snapshots stay)',
    args: [{ name: 'group' }],
    confirm: (p) => `delete consistency group '${p.arg('group')}'`,
    async run({ services, actor }, p) {
      await services.groups.remove(actor, p.arg('group'));
      return { text: `Deleted consistency group '${p.arg('group')}'.` };
    },
  },
  {
    name: 'snapshot',
    sub: 'schedule add',
    summary: 'snapshot a volume or a consistency group on a schedule',
    args: [{ name: 'name' }],
    options: [
      { name: 'volume', value: 'volume', help: 'the volume to snapshot', complete: names.volume },
      { name: 'group', value: 'group', help: 'the consistency group to snapshot' },
      { name: 'every', value: 'n', help: 'how many units between snapshots', required: true },
      { name: 'unit', value: 'minutes|hours|days', help: 'the unit of --every', required: true, complete: oneOf('minutes', 'hours', 'days') },
      { name: 'keep', value: 'k', help: 'how many of its snapshots to keep per volume', required: true },
      { name: 'start', value: 'time', help: 'first run, ISO-8601 (default: one interval from now)' },
    ],
    async run({ services, actor }, p) {
      const s = await services.schedules.create(actor, {
        name: p.arg('name'),
        volume: p.opt('volume'),
        group: p.opt('group'),
        every: wholeNumber(p.opt('every')!, 'every'),
        unit: p.opt('unit') as ScheduleUnit,
        keep: wholeNumber(p.opt('keep')!, 'keep'),
        startAt: p.opt('start'),
      });
      return { data: s, text: scheduleLine(s) };
    },
  },
  {
    name: 'snapshot',
    sub: 'schedule ls',
    summary: 'list snapshot schedules',
    async run({ services }) {
      const list = await services.schedules.list();
      return { data: list, text: list.length ? scheduleTable(list) : 'No snapshot schedules.' };
    },
  },
  {
    name: 'snapshot',
    sub: 'schedule rm',
    summary: 'delete a schedule (the snapshots it took stay)',
    args: [{ name: 'schedule' }],
    confirm: (p) => `delete snapshot schedule '${p.arg('schedule')}'`,
    async run({ services, actor }, p) {
      await services.schedules.remove(actor, p.arg('schedule'));
      return { text: `Deleted snapshot schedule '${p.arg('schedule')}'.` };
    },
  },
];

/** The service checks the range; a word that is no number at all is a usage error here. */
function wholeNumber(value: string, option: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`--${option} must be a whole number, not '${value}'`);
  return Number(value);
}
