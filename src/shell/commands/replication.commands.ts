import { acceptedText, identityText, promotedText, NO_REPLICATIONS, replicaText, replicationLine, replicationTable, showReplication } from '../../cli/replication-views';
import { jobLine } from '../../cli/job-views';
import type { CommandSpec } from './command';
import { names } from './completers';

const replicated = { name: 'volume', complete: async (s: Parameters<typeof names.volume>[0]) => (await s.replications.list()).map((r) => r.volume.name) };
const volume = { name: 'volume', complete: names.volume };

/** The same verbs as `strata replication …` and `strata replica …` in the CLI. */
export const replicationCommands: CommandSpec[] = [
  {
    name: 'replication',
    sub: 'identity',
    summary: "this gateway's replication key, to register on target gateways with 'host add'",
    async run({ services }) {
      const i = await services.replications.identityInfo();
      return { data: i, text: identityText(i) };
    },
  },
  {
    name: 'replication',
    sub: 'create',
    summary: 'replicate a volume to a replica volume on another gateway',
    args: [volume],
    options: [
      { name: 'target', value: 'host[:port]', help: "the target gateway's SAN address (port 7700 when left out)", required: true },
      { name: 'target-volume', value: 'name', help: 'the replica volume on the target', required: true },
      { name: 'host-name', value: 'name', help: "the host name the target registered this gateway's key under" },
      { name: 'every', value: 'period', help: 'run a cycle this often: 30s, 15m, 1h, 1d' },
      { name: 'rate', value: 'rate', help: 'bandwidth limit per second, like 50M' },
    ],
    async run({ services, actor }, p) {
      const r = await services.replications.create(actor, {
        volume: p.arg('volume'),
        target: p.opt('target')!,
        targetVolume: p.opt('target-volume')!,
        hostName: p.opt('host-name'),
        every: p.opt('every'),
        rateLimit: p.opt('rate'),
      });
      return { data: r, text: `${replicationLine(r)}\nRun the first cycle (a full copy) with: replication run ${r.share?.name ?? r.volume.name}` };
    },
  },
  {
    name: 'replication',
    sub: 'set',
    summary: 'change the schedule or the bandwidth limit (the next cycle uses them)',
    args: [replicated],
    options: [
      { name: 'every', value: 'period', help: "run a cycle this often: 30s, 15m, 1h, 1d; 'off' for on demand only" },
      { name: 'rate', value: 'rate', help: 'bandwidth limit per second, like 50M; 0 for none' },
    ],
    async run({ services, actor }, p) {
      const every = p.opt('every');
      const r = await services.replications.update(actor, p.arg('volume'), { every: every === 'off' ? null : every, rateLimit: p.opt('rate') });
      return { data: r, text: replicationLine(r) };
    },
  },
  {
    name: 'replication',
    sub: 'ls',
    summary: 'list replications: target, schedule, last good cycle, lag, bytes sent, last error',
    async run({ services }) {
      const list = await services.replications.list();
      return { data: list, text: list.length ? replicationTable(list) : NO_REPLICATIONS };
    },
  },
  {
    name: 'replication',
    sub: 'show',
    summary: 'show a replication and its running (or last) cycle',
    args: [replicated],
    async run({ services }, p) {
      const v = await services.replications.show(p.arg('volume'));
      return { data: v, text: showReplication(v) };
    },
  },
  {
    name: 'replication',
    sub: 'run',
    summary: 'run a cycle now (an interrupted one goes on from its checkpoint)',
    args: [replicated],
    async run({ services, actor }, p) {
      const v = await services.replications.run(actor, p.arg('volume'));
      return { data: v, text: v.job ? jobLine(v.job) : 'No cycle started.' };
    },
  },
  {
    name: 'replication',
    sub: 'rm',
    summary: 'stop replicating a volume (the replica stays on the target)',
    args: [replicated],
    confirm: (p) => `stop replicating '${p.arg('volume')}' (the replica on the target keeps its last cycle)`,
    async run({ services, actor }, p) {
      await services.replications.remove(actor, p.arg('volume'));
      return { text: `Removed the replication of '${p.arg('volume')}'.` };
    },
  },
  {
    name: 'replica',
    sub: 'accept',
    summary: 'make a volume, or a share, the replica a source gateway writes',
    args: [volume],
    options: [
      { name: 'host', value: 'host', help: "the host registered with the source's replication key", required: true, complete: names.host },
      { name: 'force', help: "a share that holds files: accept it anyway (the source's copy replaces them)" },
    ],
    async run({ services, actor }, p) {
      const v = await services.replicas.accept(actor, p.arg('volume'), { host: p.opt('host')!, force: p.flag('force') });
      return { data: v, text: acceptedText(v, p.opt('host')!) };
    },
  },
  {
    name: 'replica',
    sub: 'status',
    summary: 'which host writes a replica and its last consistent point',
    args: [volume],
    async run({ services }, p) {
      const v = await services.replicas.status(p.arg('volume'));
      return { data: v, text: replicaText(v) };
    },
  },
  {
    name: 'replica',
    sub: 'promote',
    summary: 'make a replica an ordinary volume, rolled back to its last committed cycle if one was interrupted',
    args: [volume],
    options: [{ name: 'force', help: 'promote a replica that has no committed cycle yet (its contents may be partial)' }],
    confirm: (p) => `promote replica '${p.arg('volume')}': the source can no longer write it, and what an unfinished cycle wrote is rolled back`,
    async run({ services, actor }, p) {
      const v = await services.replicas.promote(actor, p.arg('volume'), { force: p.flag('force') });
      return { data: v, text: promotedText(v) };
    },
  },
];
