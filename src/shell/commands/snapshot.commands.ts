import { size } from '../../cli/format';
import { NO_SNAPSHOTS, snapshotTable } from '../../cli/views';
import type { CommandSpec } from './command';
import { names } from './completers';

const volume = { name: 'volume', complete: names.volume };
const snapshot = { name: 'snapshot', complete: names.snapshot };
const FORCE_ROLLBACK = 'even though hosts have it assigned read-write or it is exported over NBD';

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
    summary: 'make a volume read as one of its snapshots again (what was written since is lost)',
    args: [volume, snapshot],
    options: [{ name: 'force', help: FORCE_ROLLBACK }],
    confirm: (p) => `roll volume '${p.arg('volume')}' back to snapshot '${p.arg('snapshot')}', losing everything written since`,
    async run({ services, actor }, p) {
      const v = await services.snapshots.rollback(actor, p.arg('volume'), { snapshot: p.arg('snapshot'), force: p.flag('force') });
      return { data: v, text: `Rolled volume '${v.name}' back to snapshot '${p.arg('snapshot')}'.` };
    },
  },
  {
    name: 'snapshot',
    sub: 'clone',
    summary: 'create a writable thin volume that starts as a snapshot (instant; shares its pages until written)',
    args: [volume, snapshot, { name: 'new-volume' }],
    async run({ services, actor }, p) {
      const v = await services.snapshots.clone(actor, p.arg('volume'), p.arg('snapshot'), { name: p.arg('new-volume') });
      return { data: v, text: `Created volume '${v.name}' (${size(v.size)}) from snapshot '${p.arg('snapshot')}' of volume '${p.arg('volume')}'.` };
    },
  },
];
