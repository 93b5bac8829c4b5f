import { parseSize } from '../../common/size';
import { size } from '../../cli/format';
import { showVolume, volumeTable } from '../../cli/views';
import type { CommandSpec } from './command';
import { names, oneOf } from './completers';
import type { VolumeListRole } from '../../storage/volume.service';

const volume = { name: 'volume', complete: names.volume };

export const volumeCommands: CommandSpec[] = [
  {
    name: 'volume',
    sub: 'list',
    summary: 'list volumes',
    options: [
      { name: 'pool', value: 'pool', help: 'only the volumes of this pool', complete: names.pool },
      { name: 'role', value: 'block|share|snapshot|all', help: "block volumes (default), the shares' own volumes, snapshots, or all", complete: oneOf('block', 'share', 'snapshot', 'all') },
    ],
    async run({ services }, p) {
      const list = await services.volumes.list({ pool: p.opt('pool'), role: p.opt('role') as VolumeListRole | undefined });
      return { data: list, text: list.length ? volumeTable(list) : 'No volumes.' };
    },
  },
  {
    name: 'volume',
    sub: 'show',
    summary: 'show a volume and its assignments',
    args: [volume],
    async run({ services }, p) {
      const v = await services.volumes.get(p.arg('volume'));
      return { data: v, text: showVolume(v) };
    },
  },
  {
    name: 'volume',
    sub: 'create',
    summary: 'create a volume (thin unless --thick)',
    args: [{ name: 'name' }],
    options: [
      { name: 'pool', value: 'pool', help: 'the pool to carve it from', required: true, complete: names.pool },
      { name: 'size', value: 'size', help: 'like 10G or 512M, or bytes', required: true },
      { name: 'thick', help: 'allocate all of it now, so writes never run out of pool space' },
    ],
    async run({ services, actor }, p) {
      const v = await services.volumes.create(actor, {
        name: p.arg('name'),
        pool: p.opt('pool')!,
        size: parseSize(p.opt('size')),
        provisioning: p.flag('thick') ? 'thick' : 'thin',
      });
      return { data: v, text: `Created ${v.provisioning} volume '${v.name}' (${size(v.size)}) in pool '${v.poolName}'.` };
    },
  },
  {
    name: 'volume',
    sub: 'grow',
    summary: 'grow a volume (volumes never shrink)',
    args: [volume, { name: 'size' }],
    async run({ services, actor }, p) {
      const v = await services.volumes.update(actor, p.arg('volume'), { size: parseSize(p.arg('size')) });
      return { data: v, text: `Volume '${v.name}' is now ${size(v.size)}.` };
    },
  },
  {
    name: 'volume',
    sub: 'rename',
    summary: 'rename a volume',
    args: [volume, { name: 'new-name' }],
    async run({ services, actor }, p) {
      const v = await services.volumes.update(actor, p.arg('volume'), { name: p.arg('new-name') });
      return { data: v, text: `Renamed volume '${p.arg('volume')}' to '${v.name}'.` };
    },
  },
  {
    name: 'volume',
    sub: 'delete',
    summary: 'delete a volume and its data',
    args: [volume],
    options: [
      { name: 'force', help: 'revoke its assignments first instead of refusing' },
      { name: 'recursive', help: 'delete its snapshots too (clones stay)' },
    ],
    confirm: (p) => `delete volume '${p.arg('volume')}' and everything on it${p.flag('recursive') ? ' and its snapshots' : ''}${p.flag('force') ? ', revoking its assignments' : ''}`,
    async run({ services, actor }, p) {
      await services.volumes.remove(actor, p.arg('volume'), { force: p.flag('force'), recursive: p.flag('recursive') });
      return { text: `Deleted volume '${p.arg('volume')}'.` };
    },
  },
];
