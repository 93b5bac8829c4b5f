import { parseSize } from '../../common/size';
import type { LayoutKind } from '../../virtualization/layout';
import type { PoolMemberRequest } from '../../storage/pool.service';
import { size } from '../../cli/format';
import { poolTable, showPool } from '../../cli/views';
import { UsageError } from '../usage-error';
import type { CommandSpec } from './command';
import { names, oneOf } from './completers';

/** `disk1`, `disk1:1G`, `disk1:1G:10G`, `disk1::10G` (an empty offset: the default). */
function parseMember(spec: string): PoolMemberRequest {
  const [device, offset, length, ...rest] = spec.split(':');
  if (!device || rest.length > 0) throw new UsageError(`--member '${spec}' must be device[:offset[:length]]`);
  const sizeOf = (value: string | undefined, field: string) => (value === undefined || value === '' ? undefined : parseSize(value, field));
  return { device, offset: sizeOf(offset, 'offset'), length: sizeOf(length, 'length') };
}

const pool = { name: 'pool', complete: names.pool };

export const poolCommands: CommandSpec[] = [
  {
    name: 'pool',
    sub: 'list',
    summary: 'list pools',
    async run({ services }) {
      const list = await services.pools.list();
      return { data: list, text: list.length ? poolTable(list) : 'No pools.' };
    },
  },
  {
    name: 'pool',
    sub: 'show',
    summary: 'show a pool and its members',
    args: [pool],
    async run({ services }, p) {
      const info = await services.pools.get(p.arg('pool'));
      return { data: info, text: showPool(info) };
    },
  },
  {
    name: 'pool',
    sub: 'create',
    summary: 'create a pool on device extents',
    args: [{ name: 'name' }],
    options: [
      { name: 'layout', value: 'layout', help: 'concat, raid0, raid1 or raid10', required: true, complete: oneOf('concat', 'raid0', 'raid1', 'raid10') },
      {
        name: 'member',
        value: 'device[:offset[:length]]',
        help: 'a member device, optionally with the extent to use (default: its largest free region); repeat for each member',
        required: true,
        repeat: true,
        complete: names.device,
      },
      { name: 'page-size', value: 'size', help: 'allocation unit, a power of two from 64K to 16M (default 1M)' },
      { name: 'stripe-unit', value: 'size', help: 'raid0/raid10 stripe unit (default 64K)' },
    ],
    async run({ services, actor }, p) {
      const pageSize = p.opt('page-size');
      const stripeUnit = p.opt('stripe-unit');
      const created = await services.pools.create(actor, {
        name: p.arg('name'),
        layout: p.opt('layout') as LayoutKind,
        members: p.all('member').map(parseMember),
        pageSize: pageSize === undefined ? undefined : parseSize(pageSize, 'pageSize'),
        stripeUnit: stripeUnit === undefined ? undefined : parseSize(stripeUnit, 'stripeUnit'),
      });
      return { data: created, text: `Created ${created.layout} pool '${created.name}' (${size(created.capacity)} usable).` };
    },
  },
  {
    name: 'pool',
    sub: 'rename',
    summary: 'rename a pool',
    args: [pool, { name: 'new-name' }],
    async run({ services, actor }, p) {
      const renamed = await services.pools.update(actor, p.arg('pool'), { name: p.arg('new-name') });
      return { data: renamed, text: `Renamed pool '${p.arg('pool')}' to '${renamed.name}'.` };
    },
  },
  {
    name: 'pool',
    sub: 'delete',
    summary: 'delete a pool that has no volumes, freeing its extents',
    args: [pool],
    confirm: (p) => `delete pool '${p.arg('pool')}'`,
    async run({ services, actor }, p) {
      await services.pools.remove(actor, p.arg('pool'));
      return { text: `Deleted pool '${p.arg('pool')}'.` };
    },
  },
  {
    name: 'pool',
    sub: 'check',
    summary: "cross-check the pool's page allocator against its volumes' page maps",
    args: [pool],
    async run({ services }, p) {
      const r = await services.pools.check(p.arg('pool'));
      const text = r.ok
        ? `Pool '${r.pool}': consistent (no leaked or doubly used pages).`
        : `Pool '${r.pool}': ${r.leaked.length} leaked page(s) [${r.leaked.slice(0, 20).join(', ')}], ` +
          `${r.doubleAllocated.length} doubly used page(s) [${r.doubleAllocated.slice(0, 20).join(', ')}]`;
      return { data: r, text, status: r.ok ? 0 : 1 };
    },
  },
];
