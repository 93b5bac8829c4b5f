import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource, In, IsNull, LessThanOrEqual, Not, Repository } from 'typeorm';
import { InvalidArgument, NameTaken } from '../common/errors';
import { STRATA_CONFIG, type StrataConfig } from '../config/config';
import { AuditService } from './audit.service';
import { ConsistencyGroupService } from './consistency-group.service';
import { SYSTEM_ACTOR, type Actor, type ScheduleUnit, type SnapshotScheduleInfo } from './domain';
import { ConsistencyGroupEntity, SnapshotScheduleEntity, VolumeEntity } from './entities';
import { findByKey, newId, now } from './lookup';
import { SnapshotService } from './snapshot.service';

const UNIT_MS: Record<ScheduleUnit, number> = { minutes: 60_000, hours: 3_600_000, days: 86_400_000 };
/** Room for `-YYYYMMDD-HHMMSS` in a 63-character snapshot name. */
const SCHEDULE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,46}$/;

export interface CreateSchedule {
  name: string;
  volume?: string;
  group?: string;
  every: number;
  unit: ScheduleUnit;
  keep: number;
  /** First run (ISO time); default: one interval from now. */
  startAt?: string;
}

/** `<schedule>-YYYYMMDD-HHMMSS` (UTC): sorts by time, and says which schedule took it. */
export function scheduledSnapshotName(schedule: string, at: Date): string {
  const t = at.toISOString();
  return `${schedule}-${t.slice(0, 10).replace(/-/g, '')}-${t.slice(11, 19).replace(/:/g, '')}`;
}

/**
 * Snapshot schedules, kept in the catalog and run by a timer in the gateway:
 * every tick, each schedule whose next run is due takes its snapshot(s),
 * deletes its own snapshots beyond `keep`, and moves its next run on by whole
 * intervals (a gateway that was down runs a missed schedule once, not once per
 * missed interval).
 */
@Injectable()
export class SnapshotScheduleService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('SnapshotSchedules');
  private readonly schedules: Repository<SnapshotScheduleEntity>;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(
    @Inject(STRATA_CONFIG) private readonly config: StrataConfig,
    private readonly ds: DataSource,
    private readonly audit: AuditService,
    private readonly snapshots: SnapshotService,
    private readonly groups: ConsistencyGroupService,
  ) {
    this.schedules = ds.getRepository(SnapshotScheduleEntity);
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.config.snapshots.scheduleTickMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  async list(): Promise<SnapshotScheduleInfo[]> {
    return this.describe(await this.schedules.find({ order: { createdAt: 'ASC' } }));
  }

  async get(key: string): Promise<SnapshotScheduleInfo> {
    return (await this.describe([await findByKey(this.schedules, 'schedule', key)]))[0];
  }

  create(actor: Actor, req: CreateSchedule): Promise<SnapshotScheduleInfo> {
    return this.audit.audited(
      actor,
      'schedule.create',
      { type: 'schedule', name: String(req.name) },
      async () => {
        if (typeof req.name !== 'string' || !SCHEDULE_NAME_RE.test(req.name)) {
          throw new InvalidArgument("schedule name must be 1-47 letters, digits, '.', '_' or '-', starting with a letter or digit", 'name');
        }
        if (!Number.isSafeInteger(req.every) || req.every < 1 || req.every > 10_000) throw new InvalidArgument('every must be a whole number from 1 to 10000', 'every');
        if (!(req.unit in UNIT_MS)) throw new InvalidArgument(`unit must be minutes, hours or days, not '${String(req.unit)}'`, 'unit');
        if (!Number.isSafeInteger(req.keep) || req.keep < 1 || req.keep > 1000) throw new InvalidArgument('keep must be a whole number from 1 to 1000', 'keep');
        if ((req.volume === undefined) === (req.group === undefined)) throw new InvalidArgument('give exactly one of volume or group', req.volume === undefined ? 'volume' : 'group');
        let first = Date.now() + req.every * UNIT_MS[req.unit];
        if (req.startAt !== undefined) {
          first = Date.parse(req.startAt);
          if (typeof req.startAt !== 'string' || !/^\d{4}-\d\d-\d\dT/.test(req.startAt) || Number.isNaN(first)) {
            throw new InvalidArgument(`startAt must be an ISO-8601 time like 2026-01-31T02:00:00Z, not '${String(req.startAt)}'`, 'startAt');
          }
        }
        if (await this.schedules.findOne({ where: { name: req.name } })) throw new NameTaken('schedule', req.name);
        let volumeId: string | null = null;
        let groupId: string | null = null;
        if (req.volume !== undefined) {
          // A block volume or a share (by share name or `share:<name>`).
          volumeId = (await this.snapshots.origin(String(req.volume))).id;
        } else {
          groupId = (await findByKey(this.ds.getRepository(ConsistencyGroupEntity), 'group', req.group as string)).id;
        }
        const row = this.schedules.create({
          id: newId(),
          name: req.name,
          volumeId,
          groupId,
          every: req.every,
          unit: req.unit,
          keep: req.keep,
          nextRunAt: new Date(first).toISOString(),
          lastRunAt: null,
          lastError: null,
          createdAt: now(),
        });
        await this.schedules.insert(row);
        return this.get(row.id);
      },
      (s) => ({ type: 'schedule', id: s.id, name: s.name }),
      { volume: req.volume, group: req.group, every: req.every, unit: req.unit, keep: req.keep },
    );
  }

  /** The schedule goes; the snapshots it took stay, as ordinary snapshots. */
  remove(actor: Actor, key: string): Promise<void> {
    return this.audit.audited(actor, 'schedule.delete', { type: 'schedule', name: key }, async () => {
      const row = await findByKey(this.schedules, 'schedule', key);
      await this.ds.transaction(async (m) => {
        await m.update(VolumeEntity, { scheduleId: row.id }, { scheduleId: null });
        await m.delete(SnapshotScheduleEntity, row.id);
      });
    });
  }

  /** Run every schedule due at `at`; the timer calls this, tests call it with a time of their choosing. */
  runDue(at = new Date()): Promise<void> {
    const run = this.running.then(() => this.runAll(at));
    this.running = run.catch(() => undefined);
    return run;
  }

  private async tick(): Promise<void> {
    try {
      await this.runDue();
    } catch (e) {
      this.log.error(`snapshot schedules: ${(e as Error).message}`);
    }
  }

  private async runAll(at: Date): Promise<void> {
    if (!this.ds.isInitialized) return;
    const due = await this.schedules.find({ where: { nextRunAt: LessThanOrEqual(at.toISOString()) }, order: { nextRunAt: 'ASC' } });
    for (const row of due) await this.runOne(row, at);
  }

  private async runOne(row: SnapshotScheduleEntity, at: Date): Promise<void> {
    const actor: Actor = { ...SYSTEM_ACTOR, source: `schedule:${row.name}` };
    const name = scheduledSnapshotName(row.name, at);
    let lastError: string | null = null;
    try {
      if (row.groupId) {
        await this.groups.snapshot(actor, row.groupId, { name }, row.id);
      } else {
        const volume = await findByKey(this.ds.getRepository(VolumeEntity), 'volume', row.volumeId as string);
        await this.audit.audited(actor, 'snapshot.create', { type: 'volume', name: `${volume.name}@${name}` }, () =>
          this.snapshots.takeExclusive([{ volume, name, scheduleId: row.id }]),
        );
      }
      await this.prune(actor, row);
    } catch (e) {
      lastError = (e as Error).message;
      this.log.warn(`schedule ${row.name}: ${lastError}`);
    }
    const interval = row.every * UNIT_MS[row.unit];
    let next = Date.parse(row.nextRunAt);
    while (next <= at.getTime()) next += interval;
    await this.schedules.update(row.id, { lastRunAt: at.toISOString(), nextRunAt: new Date(next).toISOString(), lastError });
  }

  /** Per volume, the schedule's snapshots beyond the newest `keep` go (oldest first). */
  private async prune(actor: Actor, row: SnapshotScheduleEntity): Promise<void> {
    const taken = await this.ds.getRepository(VolumeEntity).find({
      where: { scheduleId: row.id, role: 'snapshot', state: 'online', originId: Not(IsNull()) },
      order: { createdAt: 'DESC', name: 'DESC' },
    });
    const perVolume = new Map<string, VolumeEntity[]>();
    for (const s of taken) {
      const list = perVolume.get(s.originId as string) ?? [];
      list.push(s);
      perVolume.set(s.originId as string, list);
    }
    for (const list of perVolume.values()) {
      for (const old of list.slice(row.keep)) {
        await this.audit.audited(actor, 'snapshot.delete', { type: 'volume', id: old.id, name: old.name }, () =>
          this.snapshots.destroyExclusive(actor, old),
        );
      }
    }
  }

  private async describe(rows: SnapshotScheduleEntity[]): Promise<SnapshotScheduleInfo[]> {
    const volumeIds = rows.map((r) => r.volumeId).filter((x): x is string => !!x);
    const groupIds = rows.map((r) => r.groupId).filter((x): x is string => !!x);
    const volumes = volumeIds.length ? await this.ds.getRepository(VolumeEntity).find({ where: { id: In(volumeIds) } }) : [];
    const groups = groupIds.length ? await this.ds.getRepository(ConsistencyGroupEntity).find({ where: { id: In(groupIds) } }) : [];
    return rows.map((r) => {
      const v = volumes.find((x) => x.id === r.volumeId);
      const g = groups.find((x) => x.id === r.groupId);
      return {
        id: r.id,
        name: r.name,
        volume: v ? { id: v.id, name: v.name } : null,
        group: g ? { id: g.id, name: g.name } : null,
        every: r.every,
        unit: r.unit,
        keep: r.keep,
        nextRunAt: r.nextRunAt,
        lastRunAt: r.lastRunAt,
        lastError: r.lastError,
        createdAt: r.createdAt,
      };
    });
  }
}
