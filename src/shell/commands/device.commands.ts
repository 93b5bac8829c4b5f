import { parseSize } from '../../common/size';
import type { DeviceInfo } from '../../storage/domain';
import { details, size, sizeExact, table, time } from '../../cli/format';
import type { CommandSpec } from './command';
import { names, oneOf } from './completers';

const poolsOf = (d: DeviceInfo) => [...new Set(d.extents.map((e) => e.poolName))].join(',');

export function deviceTable(list: DeviceInfo[]): string {
  return table(
    ['NAME', 'KIND', 'SIZE', 'FREE', 'STATE', 'POOLS', 'PATH'],
    list.map((d) => [d.name, d.kind, size(d.size), size(d.freeBytes), d.state, poolsOf(d), d.path]),
  );
}

function showDevice(d: DeviceInfo): string {
  const head = details([
    ['Name', d.name],
    ['ID', d.id],
    ['Kind', d.kind],
    ['Path', d.path],
    ['Size', sizeExact(d.size)],
    ['Sector size', d.sectorSize],
    ['Free', sizeExact(d.freeBytes)],
    ['State', d.stateReason ? `${d.state} (${d.stateReason})` : d.state],
    ['Created', time(d.createdAt)],
  ]);
  if (d.extents.length === 0) return `${head}\n\nNo pool extents.`;
  const extents = table(
    ['POOL', 'POSITION', 'OFFSET', 'LENGTH', 'STATE', 'ERRORS', 'LAST ERROR'],
    d.extents.map((e) => [e.poolName, e.position, size(e.offset), size(e.length), e.state, e.errors, e.lastError]),
  );
  return `${head}\n\nExtents:\n${extents}`;
}

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
