import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduledSnapshotName, SnapshotScheduleService } from '../../src/storage/snapshot-schedule.service';
import { apiJson, startTestGateway, type TestGateway } from '../utils/gateway';

const MiB = 2 ** 20;
const MINUTE = 60_000;

describe('snapshot schedules', () => {
  let gw: TestGateway;
  let dataDir: string;
  const json = (path: string, init?: Parameters<TestGateway['api']>[1]) => apiJson(gw, path, init);
  const names = async (volume: string) => (await json(`volumes/${volume}/snapshots`)).body.map((s: { name: string }) => s.name);

  beforeAll(async () => {
    // A fast tick, so the timer itself is exercised; schedules created with a far first run stay out of its way.
    gw = await startTestGateway({ STRATA_SNAPSHOT_TICK_MS: '50' });
    dataDir = gw.dataDir;
    for (const name of ['v', 'w']) expect((await json('volumes', { method: 'POST', json: { name, pool: 'default', size: 4 * MiB } })).status).toBe(201);
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('validates precisely', async () => {
    const base = { name: 's', volume: 'v', every: 1, unit: 'hours', keep: 2 };
    const cases: Array<[Record<string, unknown>, number, string, string]> = [
      [{ ...base, unit: 'weeks' }, 400, 'INVALID_ARGUMENT', 'unit must be one of the following values: minutes, hours, days'],
      [{ ...base, every: 0 }, 400, 'INVALID_ARGUMENT', 'every must not be less than 1'],
      [{ ...base, keep: 1.5 }, 400, 'INVALID_ARGUMENT', 'keep must be an integer number'],
      [{ ...base, volume: undefined }, 400, 'INVALID_ARGUMENT', 'give exactly one of volume or group'],
      [{ ...base, group: 'g' }, 400, 'INVALID_ARGUMENT', 'give exactly one of volume or group'],
      [{ ...base, volume: 'nope' }, 404, 'VOLUME_NOT_FOUND', "volume 'nope' does not exist"],
      [{ ...base, name: 'x'.repeat(48) }, 400, 'INVALID_ARGUMENT', 'name must be shorter than or equal to 47 characters'],
      [{ ...base, startAt: 'tomorrow' }, 400, 'INVALID_ARGUMENT', 'startAt must be a valid ISO 8601 date string'],
    ];
    for (const [body, status, code, message] of cases) {
      const res = await json('snapshot-schedules', { method: 'POST', json: body });
      expect({ body, status: res.status, code: res.body.code }).toEqual({ body, status, code });
      expect(JSON.stringify(res.body.message)).toContain(message);
    }
  });

  it('takes a snapshot named with the time at each due run and keeps the last K', async () => {
    const t0 = Date.parse('2030-01-01T00:00:00Z');
    const created = await json('snapshot-schedules', {
      method: 'POST',
      json: { name: 'every-min', volume: 'v', every: 1, unit: 'minutes', keep: 2, startAt: new Date(t0).toISOString() },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'every-min', volume: { name: 'v' }, group: null, every: 1, unit: 'minutes', keep: 2, nextRunAt: '2030-01-01T00:00:00.000Z', lastRunAt: null });
    const schedules = gw.app.get(SnapshotScheduleService);
    await schedules.runDue(new Date(t0 - 1000));
    expect(await names('v')).toEqual([]);
    for (let i = 0; i < 4; i++) await schedules.runDue(new Date(t0 + i * MINUTE + 500));
    expect(await names('v')).toEqual(['every-min-20300101-000200', 'every-min-20300101-000300']);
    const snaps = (await json('volumes/v/snapshots')).body;
    expect(snaps.every((s: { scheduleId: string }) => s.scheduleId === created.body.id)).toBe(true);
    const after = (await json('snapshot-schedules/every-min')).body;
    expect(after).toMatchObject({ lastRunAt: '2030-01-01T00:03:00.500Z', nextRunAt: '2030-01-01T00:04:00.000Z', lastError: null });
    // A gateway down for an hour runs a missed schedule once, then keeps to its grid.
    await schedules.runDue(new Date(t0 + 63 * MINUTE + 10_000));
    expect((await json('snapshot-schedules/every-min')).body.nextRunAt).toBe('2030-01-01T01:04:00.000Z');
    expect(await names('v')).toEqual(['every-min-20300101-000300', 'every-min-20300101-010310']);
    const audit = (await json('audit?action=snapshot.delete')).body;
    expect(audit[0]).toMatchObject({ actor: 'system', source: 'schedule:every-min', outcome: 'success' });
  });

  it('survives a restart of the gateway', async () => {
    await gw.close({ keepData: true });
    gw = await startTestGateway({ STRATA_SNAPSHOT_TICK_MS: '50' }, dataDir);
    expect((await json('snapshot-schedules')).body.map((s: { name: string; nextRunAt: string }) => [s.name, s.nextRunAt])).toEqual([['every-min', '2030-01-01T01:04:00.000Z']]);
    await gw.app.get(SnapshotScheduleService).runDue(new Date(Date.parse('2030-01-01T01:04:01Z')));
    expect(await names('v')).toEqual(['every-min-20300101-010310', 'every-min-20300101-010401']);
  });

  it('is run by the gateway timer once due', async () => {
    const res = await json('snapshot-schedules', { method: 'POST', json: { name: 'now', volume: 'w', every: 1, unit: 'days', keep: 3, startAt: new Date().toISOString() } });
    expect(res.status).toBe(201);
    for (let i = 0; i < 200 && (await names('w')).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    const taken = await names('w');
    expect(taken).toHaveLength(1);
    expect(taken[0]).toMatch(/^now-\d{8}-\d{6}$/);
    expect((await json('snapshot-schedules/now')).body.lastRunAt).not.toBeNull();
  });

  it('snapshots a consistency group, and deleting a schedule keeps its snapshots', async () => {
    expect((await json('consistency-groups', { method: 'POST', json: { name: 'both', volumes: ['v', 'w'] } })).status).toBe(201);
    const t = Date.parse('2031-06-01T12:00:00Z');
    expect((await json('snapshot-schedules', { method: 'POST', json: { name: 'grp', group: 'both', every: 6, unit: 'hours', keep: 1, startAt: new Date(t).toISOString() } })).status).toBe(201);
    const refused = await json('consistency-groups/both', { method: 'DELETE' });
    expect(refused).toMatchObject({ status: 400, body: { code: 'INVALID_ARGUMENT' } });
    await gw.app.get(SnapshotScheduleService).runDue(new Date(t));
    const name = scheduledSnapshotName('grp', new Date(t));
    expect(name).toBe('grp-20310601-120000');
    expect(await names('v')).toContain(name);
    expect(await names('w')).toContain(name);
    expect((await json('snapshot-schedules/grp', { method: 'DELETE' })).status).toBe(204);
    expect((await json('snapshot-schedules')).body.map((s: { name: string }) => s.name)).not.toContain('grp');
    const kept = (await json(`volumes/v/snapshots/${name}`)).body;
    expect(kept).toMatchObject({ name, scheduleId: null });
    // Deleting a volume takes its schedules with it.
    expect((await json('volumes/w?recursive=true', { method: 'DELETE' })).status).toBe(204);
    expect((await json('snapshot-schedules')).body.map((s: { name: string }) => s.name)).toEqual(['every-min']);
  });
});
