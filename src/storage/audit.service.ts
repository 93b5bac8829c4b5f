import { Injectable } from '@nestjs/common';
import { DataSource, Repository } from 'typeorm';
import { DomainError } from '../common/errors';
import type { Actor, AuditEntry } from './domain';
import { AuditEntity } from './entities';

export interface AuditObject {
  type: string;
  id?: string | null;
  name?: string | null;
}

export interface AuditQuery {
  actor?: string;
  action?: string;
  objectType?: string;
  object?: string;
  outcome?: 'success' | 'failure';
  since?: string;
  until?: string;
  limit?: number;
  beforeId?: number;
}

/** Who did what to which object, when, from where, and how it ended. */
@Injectable()
export class AuditService {
  private readonly repo: Repository<AuditEntity>;

  constructor(ds: DataSource) {
    this.repo = ds.getRepository(AuditEntity);
  }

  async record(
    actor: Actor,
    action: string,
    object: AuditObject | null,
    outcome: 'success' | 'failure',
    extra: { errorCode?: string; detail?: Record<string, unknown> } = {},
  ): Promise<void> {
    await this.repo.insert({
      at: new Date().toISOString(),
      actor: actor.name,
      source: actor.source ?? null,
      action,
      objectType: object?.type ?? null,
      objectId: object?.id ?? null,
      objectName: object?.name ?? null,
      outcome,
      errorCode: extra.errorCode ?? null,
      detail: extra.detail ? JSON.stringify(extra.detail) : null,
    });
  }

  /**
   * Run a change and audit its outcome, success or failure. `describe` names
   * the object from the result (a created volume's id is known only after).
   */
  async audited<T>(
    actor: Actor,
    action: string,
    object: AuditObject,
    run: () => Promise<T>,
    describe?: (result: T) => AuditObject,
    detail?: Record<string, unknown>,
  ): Promise<T> {
    try {
      const result = await run();
      await this.record(actor, action, describe ? describe(result) : object, 'success', { detail });
      return result;
    } catch (e) {
      const errorCode = e instanceof DomainError ? e.code : 'INTERNAL';
      await this.record(actor, action, object, 'failure', {
        errorCode,
        detail: { ...detail, message: (e as Error).message },
      }).catch(() => undefined);
      throw e;
    }
  }

  async query(q: AuditQuery = {}): Promise<AuditEntry[]> {
    const qb = this.repo.createQueryBuilder('a').orderBy('a.id', 'DESC').limit(Math.min(Math.max(q.limit ?? 100, 1), 1000));
    if (q.actor) qb.andWhere('a.actor = :actor', { actor: q.actor });
    if (q.action) qb.andWhere('a.action LIKE :action', { action: q.action.endsWith('*') ? `${q.action.slice(0, -1)}%` : q.action });
    if (q.objectType) qb.andWhere('a.object_type = :ot', { ot: q.objectType });
    if (q.object) qb.andWhere('(a.object_id = :o OR a.object_name = :o)', { o: q.object });
    if (q.outcome) qb.andWhere('a.outcome = :outcome', { outcome: q.outcome });
    if (q.since) qb.andWhere('a.at >= :since', { since: q.since });
    if (q.until) qb.andWhere('a.at < :until', { until: q.until });
    if (q.beforeId) qb.andWhere('a.id < :bid', { bid: q.beforeId });
    const rows = await qb.getMany();
    return rows.map((r) => ({ ...r, detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null }));
  }
}
