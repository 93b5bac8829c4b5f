import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiQuery, ApiTags } from '@nestjs/swagger';
import { InvalidArgument } from '../common/errors';
import { JobService } from '../jobs/job.service';
import type { Actor, JobState } from '../storage/domain';
import { CurrentActor } from './auth.guard';

const STATES: JobState[] = ['queued', 'running', 'paused', 'succeeded', 'failed', 'cancelled'];

/** Long operations (mirror resyncs, replication cycles): progress, rate, ETA, cancel and resume. */
@ApiTags('jobs')
@ApiBearerAuth()
@Controller('jobs')
export class JobsController {
  constructor(private readonly jobs: JobService) {}

  @ApiQuery({ name: 'state', required: false, enum: STATES })
  @ApiQuery({ name: 'target', required: false, description: "the target's id" })
  @Get()
  list(@Query('state') state?: string, @Query('target') target?: string) {
    if (state !== undefined && !STATES.includes(state as JobState)) {
      throw new InvalidArgument(`state must be one of ${STATES.join(', ')}, not '${state}'`, 'state');
    }
    return this.jobs.list({ state: state as JobState | undefined, target });
  }
  @Get(':id') get(@Param('id') id: string) {
    return this.jobs.get(id);
  }
  /** Stops a queued, running or paused job at its next checkpoint; answers once it has stopped. */
  @Post(':id/cancel')
  @HttpCode(200)
  cancel(@CurrentActor() actor: Actor, @Param('id') id: string) {
    return this.jobs.cancel(actor, id);
  }
  /** Runs a failed or cancelled job again from its checkpoint (kinds that allow it). */
  @Post(':id/resume')
  @HttpCode(200)
  resume(@CurrentActor() actor: Actor, @Param('id') id: string) {
    return this.jobs.resume(actor, id);
  }
}
