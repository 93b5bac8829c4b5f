import { parseSize } from '../../common/size';
import { jobLine, mirrorStatus } from '../../cli/job-views';
import { mirrorLine } from '../../cli/views';
import type { MirrorStatusView } from '../../services/mirror-sync.service';
import type { CommandSpec } from './command';
import { names } from './completers';

const volume = { name: 'volume', complete: names.volume };
const RATE = { name: 'rate-limit', value: 'rate', help: 'bandwidth limit per second, like 100M' };
const afterStart = (m: MirrorStatusView) => `Volume '${m.volume.name}': mirror ${m.volume.mirror ? mirrorLine(m.volume.mirror) : ''}.${m.job ? `\n${jobLine(m.job)}` : ''}`;
const rateOf = (v: string | undefined) => (v === undefined ? undefined : parseSize(v, 'rate-limit'));

/** The same verbs as `strata mirror …` in the CLI. */
export const mirrorCommands: CommandSpec[] = [
  {
    name: 'mirror',
    sub: 'add',
    summary: 'give a volume a mirror on another pool; its initial sync runs as a job',
    args: [volume],
    options: [{ name: 'pool', value: 'pool', help: 'the pool for the mirror', required: true, complete: names.pool }, RATE],
    async run({ services, actor }, p) {
      const m = await services.mirrors.add(actor, p.arg('volume'), { pool: p.opt('pool')!, rateLimit: rateOf(p.opt('rate-limit')) });
      return { data: m, text: afterStart(m) };
    },
  },
  {
    name: 'mirror',
    sub: 'rm',
    summary: "remove a volume's mirror and free its pages (a running resync is cancelled)",
    args: [volume],
    confirm: (p) => `remove the mirror of volume '${p.arg('volume')}' (the volume keeps running on its primary alone)`,
    async run({ services, actor }, p) {
      const v = await services.mirrors.remove(actor, p.arg('volume'));
      return { data: v, text: `Removed the mirror of volume '${v.name}'.` };
    },
  },
  {
    name: 'mirror',
    sub: 'swap',
    summary: 'make the mirror the primary; a degraded one only with --force',
    args: [volume],
    options: [{ name: 'force', help: "promote a degraded mirror (the primary's storage is lost): its dirty regions hold older bytes" }],
    confirm: (p) => (p.flag('force') ? `make the mirror of volume '${p.arg('volume')}' the primary, even if it is behind` : ''),
    async run({ services, actor }, p) {
      const v = await services.mirrors.swap(actor, p.arg('volume'), { force: p.flag('force') });
      return { data: v, text: `Volume '${v.name}' now runs on pool '${v.poolName}'; its mirror is ${v.mirror ? mirrorLine(v.mirror) : 'gone'}.` };
    },
  },
  {
    name: 'mirror',
    sub: 'resync',
    summary: "copy a degraded mirror's dirty regions, as a job",
    args: [volume],
    options: [RATE],
    async run({ services, actor }, p) {
      const m = await services.mirrors.resync(actor, p.arg('volume'), { rateLimit: rateOf(p.opt('rate-limit')) });
      return { data: m, text: afterStart(m) };
    },
  },
  {
    name: 'mirror',
    sub: 'status',
    summary: "a volume's mirror: pool, state, dirty regions, resync job",
    args: [volume],
    async run({ services }, p) {
      const m = await services.mirrors.status(p.arg('volume'));
      return { data: m, text: mirrorStatus(m) };
    },
  },
];
