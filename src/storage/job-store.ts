import { Injectable } from '@nestjs/common';
import { DataSource, In, Repository } from 'typeorm';
import { NotFound } from '../common/errors';
import type { JobRecord, JobState } from './domain';
import { JobEntity } from './entities';
import { newId, now } from './lookup';

export interface NewJob {
  kind: string;
  target: { type: string; id: string; name: string };
  params: Record<string, unknown>;
  createdBy: string;
}

export type JobChanges = Partial<Pick<JobRecord, 'state' | 'checkpoint' | 'bytesDone' | 'bytesTotal' | 'error' | 'startedAt' | 'finishedAt'>>;

/** Jobs in the catalog. The job runner (src/jobs) keeps the live state; this keeps what a restart needs. */
@Injectable()
export class JobStore {
  private readonly repo: Repository<JobEntity>;

  constructor(ds: DataSource) {
    this.repo = ds.getRepository(JobEntity);
  }

  async create(job: NewJob): Promise<JobRecord> {
    const at = now();
    const row = this.repo.create({
      id: newId(),
      kind: job.kind,
      targetType: job.target.type,
      targetId: job.target.id,
      targetName: job.target.name,
      state: 'queued',
      params: JSON.stringify(job.params),
      checkpoint: null,
      bytesDone: 0,
      bytesTotal: 0,
      error: null,
      createdBy: job.createdBy,
      createdAt: at,
      startedAt: null,
      finishedAt: null,
      updatedAt: at,
    });
    await this.repo.insert(row);
    return toRecord(row);
  }

  async update(id: string, changes: JobChanges): Promise<void> {
    const { checkpoint, ...rest } = changes;
    await this.repo.update(id, {
      ...rest,
      ...(checkpoint !== undefined ? { checkpoint: checkpoint === null ? null : JSON.stringify(checkpoint) } : {}),
      bytesDone: changes.bytesDone === undefined ? undefined : Math.floor(changes.bytesDone),
      updatedAt: now(),
    });
  }

  async get(id: string): Promise<JobRecord> {
    const row = await this.repo.findOne({ where: { id } });
    if (!row) throw new NotFound('job', id);
    return toRecord(row);
  }

  async list(filter: { states?: JobState[]; targetId?: string; kind?: string; limit?: number } = {}): Promise<JobRecord[]> {
    const rows = await this.repo.find({
      where: {
        ...(filter.states ? { state: In(filter.states) } : {}),
        ...(filter.targetId ? { targetId: filter.targetId } : {}),
        ...(filter.kind ? { kind: filter.kind } : {}),
      },
      order: { createdAt: 'DESC' },
      take: filter.limit ?? 200,
    });
    return rows.map(toRecord);
  }
}

function toRecord(row: JobEntity): JobRecord {
  return {
    id: row.id,
    kind: row.kind,
    target: { type: row.targetType, id: row.targetId, name: row.targetName },
    state: row.state,
    params: JSON.parse(row.params) as Record<string, unknown>,
    checkpoint: row.checkpoint === null ? null : (JSON.parse(row.checkpoint) as Record<string, unknown>),
    bytesDone: row.bytesDone,
    bytesTotal: row.bytesTotal,
    error: row.error,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    updatedAt: row.updatedAt,
  };
}
