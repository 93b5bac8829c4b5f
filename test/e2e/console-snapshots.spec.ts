// page.evaluate callbacks run in the browser: they use its globals.
/// <reference lib="dom" />
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prng } from '../../src/common/prng';
import type { ConsistencyGroupInfo, SnapshotInfo, SnapshotScheduleInfo, VolumeInfo } from '../../src/storage/domain';
import { StorageRuntime } from '../../src/storage/runtime';
import { ARTIFACTS, buildConsoleIfStale, chromiumFor, loginAsAdmin, openBrowser } from '../utils/console-browser';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../utils/gateway';

const MiB = 2 ** 20;
const haveChromium = chromiumFor('console snapshots e2e');

describe.skipIf(!haveChromium)('console snapshots, schedules, consistency groups and mirrors in a real browser', () => {
  let gw: TestGateway;
  let browser: Awaited<ReturnType<typeof openBrowser>>;
  let page: Page;
  const pageErrors: string[] = [];
  /** What vol1 held when its snapshot was taken, and what overwrote its first 4 MiB after. */
  const original = new Prng(11).bytes(16 * MiB);
  const overwrite = new Prng(12).bytes(4 * MiB);

  const runtime = () => gw.app.get(StorageRuntime);
  const json = async <T>(path: string, init?: RequestInit & { json?: unknown }): Promise<T> => {
    const res = await gw.api(path, init);
    expect(res.ok, `${init?.method ?? 'GET'} ${path}: ${res.status}`).toBe(true);
    return (await res.json()) as T;
  };
  const volume = (name: string) => json<VolumeInfo>(`volumes/${name}`);
  const read = async (name: string, offset: number, length: number) => runtime().disk((await volume(name)).id)!.read(offset, length);
  const heading = (name: string) => page.getByRole('heading', { level: 1, name, exact: true });
  const region = (name: string) => page.getByRole('region', { name, exact: true });
  const dialog = () => page.getByRole('dialog');
  const flash = (text: string) => page.locator('.flash', { hasText: text });
  const text = async (l: Locator) => (await l.innerText()).replace(/\s+/g, ' ').trim();
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  async function openVolume(name: string): Promise<void> {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Volumes', exact: true }).click();
    await heading('Volumes').waitFor();
    await page.getByRole('link', { name, exact: true }).click();
    await heading(name).waitFor();
  }

  beforeAll(async () => {
    buildConsoleIfStale();
    mkdirSync(ARTIFACTS, { recursive: true });
    // No mirror monitor: only the test and the console start resyncs.
    gw = await startTestGateway({ STRATA_MIRROR_PROBE_MS: '0' });
    await json('devices', { method: 'POST', json: { name: 'd2', kind: 'file', path: join(gw.dataDir, 'd2.img'), size: '64M' } });
    await json('pools', { method: 'POST', json: { name: 'p2', layout: 'concat', members: [{ device: 'd2' }] } });
    for (const name of ['vol1', 'vol2', 'vol3', 'm1', 'm2']) await json('volumes', { method: 'POST', json: { name, pool: 'default', size: name.startsWith('m') ? '8M' : '16M' } });
    await runtime().disk((await volume('vol1')).id)!.write(0, original);
    await runtime().disk((await volume('m1')).id)!.write(0, new Prng(13).bytes(8 * MiB));
    await runtime().disk((await volume('m2')).id)!.write(0, new Prng(14).bytes(8 * MiB));
    browser = await openBrowser();
    page = browser.page;
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await loginAsAdmin(page, gw.url, ADMIN_PASSWORD);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  it('takes a snapshot, lists it, and shows the API message for a duplicate name', async () => {
    await openVolume('vol1');
    const panel = region('Snapshots (0)');
    await panel.getByText('No snapshots yet', { exact: false }).waitFor();
    const form = page.getByRole('form', { name: 'Take a snapshot' });
    await form.getByLabel('Name').fill('before');
    await form.getByRole('button', { name: 'Take snapshot' }).click();
    await flash("Took snapshot 'before' of volume 'vol1'.").waitFor();
    const row = page.locator('tr[data-snapshot="before"]');
    await row.waitFor();
    const [snap] = await json<SnapshotInfo[]>('volumes/vol1/snapshots');
    expect(snap.name).toBe('before');
    expect(await text(row.getByRole('cell').nth(1))).toBe('16 MiB');
    // Right after the snapshot every page is shared with the volume: none is its own.
    expect(await text(row.getByRole('cell').nth(3))).toBe('0 B (0 pages)');

    // The same name again: the console shows the gateway's own words for the refusal.
    await form.getByLabel('Name').fill('before');
    await form.getByRole('button', { name: 'Take snapshot' }).click();
    const refusal = await gw.api('volumes/vol1/snapshots', { method: 'POST', json: { name: 'before' } });
    const body = (await refusal.json()) as { code: string; message: string };
    expect(refusal.status).toBeGreaterThanOrEqual(400);
    await form.locator('.error-message', { hasText: body.message }).waitFor();
    expect(await text(form.locator('.error-code'))).toBe(body.code);
    expect(await page.locator('tr[data-snapshot]').count()).toBe(1);
  });

  it('shows the pages a snapshot alone holds once the volume is rewritten, and clones it into a volume that reads as it was', async () => {
    await runtime().disk((await volume('vol1')).id)!.write(0, overwrite);
    await page.reload();
    const row = page.locator('tr[data-snapshot="before"]');
    // Redirect-on-write: the 4 rewritten pages now belong to the snapshot only.
    await row.getByRole('cell', { name: '4 MiB (4 pages)' }).waitFor();
    await row.getByRole('button', { name: 'Clone snapshot before' }).click();
    await dialog().getByLabel('New volume name').fill('vol1-copy');
    await dialog().getByRole('button', { name: 'Clone', exact: true }).click();
    await flash("Cloned snapshot 'before' into the new volume 'vol1-copy'.").waitFor();
    expect(await dialog().count()).toBe(0);
    expect((await read('vol1-copy', 0, 16 * MiB)).equals(original)).toBe(true);
    expect((await read('vol1', 0, 4 * MiB)).equals(overwrite)).toBe(true);
  });

  it('rolls back only after a confirm that says what is lost', async () => {
    const row = page.locator('tr[data-snapshot="before"]');
    await row.getByRole('button', { name: 'Roll back to snapshot before' }).click();
    const confirm = dialog();
    await confirm.getByRole('heading', { name: 'Roll back vol1 to before?' }).waitFor();
    const [snap] = await json<SnapshotInfo[]>('volumes/vol1/snapshots');
    const said = await text(confirm);
    expect(said).toContain(`everything written to vol1 since ${snap.createdAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}`);
    // Cancel leaves the volume alone.
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    expect(await dialog().count()).toBe(0);
    expect((await read('vol1', 0, 4 * MiB)).equals(overwrite)).toBe(true);

    await row.getByRole('button', { name: 'Roll back to snapshot before' }).click();
    await shot('snapshots-rollback-confirm');
    await dialog().getByRole('button', { name: 'Roll back', exact: true }).click();
    await flash("Volume 'vol1' reads as snapshot 'before' again.").waitFor();
    expect((await read('vol1', 0, 16 * MiB)).equals(original)).toBe(true);
    // The snapshot stays after a rollback.
    expect((await json<SnapshotInfo[]>('volumes/vol1/snapshots')).map((s) => s.name)).toEqual(['before']);
  });

  it('adds a snapshot schedule and removes it', async () => {
    const form = page.getByRole('form', { name: 'Add a schedule' });
    await form.getByLabel('Name').fill('hourly');
    await form.getByLabel('Every').fill('2');
    await form.getByLabel('Unit').selectOption('hours');
    await form.getByLabel('Keep the last').fill('5');
    await form.getByRole('button', { name: 'Add schedule' }).click();
    const row = page.locator('tr[data-schedule="hourly"]');
    await row.waitFor();
    expect(await text(row.getByRole('cell').nth(1))).toBe('every 2 hours, keeps the last 5');
    const [schedule] = await json<SnapshotScheduleInfo[]>('snapshot-schedules');
    expect(schedule).toMatchObject({ name: 'hourly', volume: { name: 'vol1' }, every: 2, unit: 'hours', keep: 5 });
    await shot('snapshots-volume');

    await row.getByRole('button', { name: 'Remove schedule hourly' }).click();
    expect(await text(dialog())).toContain('The snapshots it took stay');
    await dialog().getByRole('button', { name: 'Remove schedule' }).click();
    await flash("Removed schedule 'hourly'.").waitFor();
    await row.waitFor({ state: 'detached' });
    expect(await json<SnapshotScheduleInfo[]>('snapshot-schedules')).toEqual([]);
  });

  it('creates a consistency group of two volumes, snapshots it at one instant, and deletes it', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Consistency groups', exact: true }).click();
    await heading('Consistency groups').waitFor();
    await page.getByRole('button', { name: 'Create group' }).click();
    await dialog().getByLabel('Name').fill('erp');
    await dialog().getByRole('checkbox', { name: /^vol2 / }).check();
    await dialog().getByRole('checkbox', { name: /^vol3 / }).check();
    await dialog().getByRole('button', { name: 'Create group' }).click();
    await flash("Created consistency group 'erp' of 2 volumes.").waitFor();
    const row = page.locator('tr[data-group="erp"]');
    expect(await text(row.getByRole('cell').nth(1))).toBe('vol2, vol3');
    const [group] = await json<ConsistencyGroupInfo[]>('consistency-groups');
    expect(group.volumes.map((v) => v.name).sort()).toEqual(['vol2', 'vol3']);

    await row.getByRole('button', { name: 'Snapshot group erp' }).click();
    await dialog().getByLabel('Snapshot name').fill('cg1');
    await dialog().getByRole('button', { name: 'Take snapshot' }).click();
    await flash("Took snapshot 'cg1' of").waitFor();
    const [s2] = await json<SnapshotInfo[]>('volumes/vol2/snapshots');
    const [s3] = await json<SnapshotInfo[]>('volumes/vol3/snapshots');
    expect([s2.name, s3.name]).toEqual(['cg1', 'cg1']);
    // One instant: the gateway stamps every member's snapshot with the same time.
    expect(s2.createdAt).toBe(s3.createdAt);
    await shot('consistency-groups');

    await row.getByRole('button', { name: 'Delete group erp' }).click();
    await dialog().getByRole('button', { name: 'Delete group' }).click();
    await flash("Deleted consistency group 'erp'.").waitFor();
    await row.waitFor({ state: 'detached' });
    expect(await json<ConsistencyGroupInfo[]>('consistency-groups')).toEqual([]);
    // The group's snapshots outlive it.
    expect((await json<SnapshotInfo[]>('volumes/vol2/snapshots')).map((s) => s.name)).toEqual(['cg1']);
  });

  it('deletes a volume with its snapshots after a confirm that names them; its clone stays', async () => {
    await openVolume('vol1');
    await page.getByRole('button', { name: 'Delete volume' }).click();
    const said = await text(dialog());
    expect(said).toContain('1 snapshot, deleted with it: before (clones of them stay)');
    await dialog().getByRole('button', { name: 'Delete volume' }).click();
    await heading('Volumes').waitFor();
    expect((await gw.api('volumes/vol1')).status).toBe(404);
    expect((await read('vol1-copy', 0, 16 * MiB)).equals(original)).toBe(true);
  });

  it('adds a mirror on a second pool, sees it healthy, swaps the roles and removes it', async () => {
    await openVolume('m1');
    const mirror = region('Mirror');
    await mirror.getByLabel('Pool').selectOption('p2');
    await mirror.getByRole('button', { name: 'Add mirror' }).click();
    await flash("Added a mirror of 'm1' on pool 'p2'").waitFor();
    // The panel follows the initial sync by itself until the mirror is healthy.
    await mirror.getByText('healthy', { exact: true }).waitFor({ timeout: 30_000 });
    expect(await text(mirror)).toContain('no dirty regions: both sides hold the same data');
    expect((await volume('m1')).mirror).toMatchObject({ poolName: 'p2', state: 'in-sync', dirtyRegions: 0 });
    await shot('mirror-healthy');

    await mirror.getByRole('button', { name: 'Swap roles' }).click();
    expect(await text(dialog())).toContain('The copy on pool p2 becomes the primary');
    await dialog().getByRole('button', { name: 'Swap roles' }).click();
    await flash("Swapped the mirror roles of 'm1': pool 'p2' is now the primary.").waitFor();
    const swapped = await volume('m1');
    expect(swapped.poolName).toBe('p2');
    expect(swapped.mirror).toMatchObject({ poolName: 'default', state: 'in-sync' });
    await mirror.getByRole('link', { name: 'default', exact: true }).waitFor();

    await mirror.getByRole('button', { name: 'Remove mirror' }).click();
    await dialog().getByRole('button', { name: 'Remove mirror' }).click();
    await flash("Removed the mirror of 'm1' from pool 'default'.").waitFor();
    await mirror.getByRole('button', { name: 'Add mirror' }).waitFor();
    expect((await volume('m1')).mirror).toBeNull();
  });

  it('resyncs a degraded mirror as a job, with a link to the Jobs page', async () => {
    // A slow initial sync (1 MiB/s over 8 MiB) cancelled midway leaves the mirror degraded with dirty regions.
    const added = await json<{ job: { id: string } }>('volumes/m2/mirror', { method: 'POST', json: { pool: 'p2', rateLimit: '1M' } });
    await json(`jobs/${added.job.id}/cancel`, { method: 'POST' });
    const before = (await volume('m2')).mirror!;
    expect(before.state).toBe('degraded');
    expect(before.dirtyRegions).toBeGreaterThan(0);

    await openVolume('m2');
    const mirror = region('Mirror');
    await mirror.getByText('degraded', { exact: true }).waitFor();
    expect(await text(mirror)).toContain(`${before.dirtyRegions} dirty region`);
    await mirror.getByRole('button', { name: 'Resync' }).click();
    await flash("Resync of 'm2' started").waitFor();
    await mirror.getByText('healthy', { exact: true }).waitFor({ timeout: 30_000 });
    expect((await volume('m2')).mirror).toMatchObject({ state: 'in-sync', dirtyRegions: 0 });
    expect((await read('m2', 0, 8 * MiB)).equals(new Prng(14).bytes(8 * MiB))).toBe(true);
    await shot('mirror-resynced');
    // The resync ran as a job: the link leads to it on the Jobs page, finished.
    const jobs = await json<Array<{ id: string; kind: string; state: string; createdBy: string }>>('jobs?target=' + (await volume('m2')).id);
    const resync = jobs.find((j) => j.id !== added.job.id)!;
    expect(resync).toMatchObject({ kind: 'mirror-resync', state: 'succeeded', createdBy: 'admin' });
    await mirror.getByRole('link', { name: 'See the resync job on the Jobs page' }).click();
    await heading('Jobs').waitFor();
    await page.locator(`tr[data-job="${resync.id}"]`).getByText('succeeded', { exact: true }).waitFor();
    expect(pageErrors).toEqual([]);
  });
});
