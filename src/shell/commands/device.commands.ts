import { parseSize } from '../../common/size';
import type { DeviceInfo } from '../../storage/domain';
import { size } from '../../cli/format';
import { deviceTable, showDevice } from '../../cli/views';
import type { CommandSpec } from './command';
import { names, oneOf } from './completers';

const device = { name: 'device', complete: names.device };

export const deviceCommands: CommandSpec[] = [
  {
    name: 'device',
    sub: 'list',
    summary: 'list devices',
    async run({ services }) {
      const list = await services.devices.list();
      return { data: list, text: list.length ? deviceTable(list) : 'No devices.' };
    },
  },
  {
    name: 'device',
    sub: 'show',
    summary: 'show a device and the pool extents on it',
    args: [device],
    async run({ services }, p) {
      const d = await services.devices.get(p.arg('device'));
      return { data: d, text: showDevice(d) };
    },
  },
  {
    name: 'device',
    sub: 'add',
    summary: 'register a device (a file device is created when its file does not exist)',
    args: [{ name: 'name' }],
    options: [
      { name: 'kind', value: 'kind', help: 'file, block or ram', required: true, complete: oneOf('file', 'block', 'ram') },
      { name: 'path', value: 'path', help: 'file: the image file (default <dataDir>/devices/<name>.img); block: the device node' },
      { name: 'size', value: 'size', help: 'file (to create it) and ram: like 64M or 10G' },
    ],
    async run({ services, actor }, p) {
      const sizeOpt = p.opt('size');
      const d = await services.devices.create(actor, {
        name: p.arg('name'),
        kind: p.opt('kind') as DeviceInfo['kind'],
        path: p.opt('path'),
        size: sizeOpt === undefined ? undefined : parseSize(sizeOpt),
      });
      return { data: d, text: `Added ${d.kind} device '${d.name}' (${size(d.size)}).` };
    },
  },
  {
    name: 'device',
    sub: 'rename',
    summary: 'rename a device',
    args: [device, { name: 'new-name' }],
    async run({ services, actor }, p) {
      const d = await services.devices.update(actor, p.arg('device'), { name: p.arg('new-name') });
      return { data: d, text: `Renamed device '${p.arg('device')}' to '${d.name}'.` };
    },
  },
  {
    name: 'device',
    sub: 'remove',
    summary: 'unregister a device no pool uses',
    args: [device],
    options: [{ name: 'purge', help: 'also delete the backing file of a file device' }],
    confirm: (p) => `remove device '${p.arg('device')}'${p.flag('purge') ? ' and delete its backing file' : ''}`,
    async run({ services, actor }, p) {
      await services.devices.remove(actor, p.arg('device'), { purge: p.flag('purge') });
      return { text: `Removed device '${p.arg('device')}'${p.flag('purge') ? ' and its backing file' : ''}.` };
    },
  },
];
