import type { JobState } from '../../storage/domain';
import { jobLine, jobTable, showJob } from '../../cli/job-views';
import { UsageError } from '../usage-error';
import type { CommandSpec } from './command';
import { names, oneOf } from './completers';

const STATES: JobState[] = ['queued', 'running', 'paused', 'succeeded', 'failed', 'cancelled'];
const job = { name: 'id', complete: names.job };

/** The same verbs as `strata job …` in the CLI. */
export const jobCommands: CommandSpec[] = [
  {
    name: 'job',
    sub: 'ls',
    summary: 'list jobs, newest first',
    options: [{ name: 'state', value: 'state', help: `only jobs in this state: ${STATES.join(', ')}`, complete: oneOf(...STATES) }],
    async run({ services }, p) {
      const state = p.opt('state');
      if (state !== undefined && !STATES.includes(state as JobState)) throw new UsageError(`--state must be one of ${STATES.join(', ')}`);
      const list = await services.jobs.list({ state: state as JobState | undefined });
      return { data: list, text: list.length ? jobTable(list) : 'No jobs.' };
    },
  },
  {
    name: 'job',
    sub: 'show',
    summary: 'show a job',
    args: [job],
    async run({ services }, p) {
      const j = await services.jobs.get(p.arg('id'));
      return { data: j, text: showJob(j) };
    },
  },
  {
    name: 'job',
    sub: 'cancel',
    summary: 'stop a job at its next checkpoint (a resync leaves its mirror degraded)',
    args: [job],
    async run({ services, actor }, p) {
      const j = await services.jobs.cancel(actor, p.arg('id'));
      return { data: j, text: jobLine(j) };
    },
  },
  {
    name: 'job',
    sub: 'resume',
    summary: 'run a failed or cancelled job again from its checkpoint',
    args: [job],
    async run({ services, actor }, p) {
      const j = await services.jobs.resume(actor, p.arg('id'));
      return { data: j, text: jobLine(j) };
    },
  },
  {
    name: 'job',
    sub: 'wait',
    summary: 'wait for a job to end; status 1 unless it succeeded',
    args: [job],
    async run({ services }, p) {
      const j = await services.jobs.wait(p.arg('id'));
      return { data: j, text: jobLine(j), status: j.state === 'succeeded' ? 0 : 1 };
    },
  },
];
