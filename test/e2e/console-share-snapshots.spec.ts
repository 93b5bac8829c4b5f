import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prng } from '../../src/common/prng';
import type { ShareInfo, SnapshotInfo, SnapshotScheduleInfo } from '../../src/storage/domain';
import { ARTIFACTS, buildConsoleIfStale, chromiumFor, loginAsAdmin, openBrowser } from '../utils/console-browser';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../utils/gateway';
import { createShare, nasPorts } from '../utils/nas-fixture';
import { Nfs3Client } from '../utils/nfs3-client';

const haveChromium = chromiumFor('console share snapshots e2e');

/** The share page's snapshots: taken in the browser, read by an NFS client under /.snapshots/, checked, cloned, rolled back to, deleted; and its schedules. */
describe.skipIf(!haveChromium)('console share snapshots and schedules in a real browser', () => {
  let gw: TestGateway;
  let nfs: Nfs3Client;
  let browser: Awaited<ReturnType<typeof openBrowser>>;
  let page: Page;
  const pageErrors: string[] = [];
  const before = new Prng(21).bytes(300_000);
  const after = new Prng(22).bytes(300_000);

  const json = async <T>(path: string, init?: RequestInit & { json?: unknown }): Promise<T> => {
    const res = await gw.api(path, init);
    expect(res.ok, `${init?.method ?? 'GET'} ${path}: ${res.status}`).toBe(true);
    return (await res.json()) as T;
  };
  const region = (name: string) => page.getByRole('region', { name, exact: true });
  const dialog = () => page.getByRole('dialog');
  const flash = (text: string) => page.locator('.flash', { hasText: text });
  const text = async (l: Locator) => (await l.innerText()).replace(/\s+/g, ' ').trim();

  beforeAll(async () => {
    buildConsoleIfStale();
    mkdirSync(ARTIFACTS, { recursive: true });
    gw = await startTestGateway({ STRATA_DEFAULT_DEVICE_SIZE: '128M' });
    await createShare(gw, 'home');
    nfs = await Nfs3Client.connect(nasPorts(gw).nfs);
    const root = await nfs.mount('/home');
    await nfs.write(await nfs.create(root, 'notes.txt'), 0, before);
    browser = await openBrowser();
    page = browser.page;
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await loginAsAdmin(page, gw.url, ADMIN_PASSWORD);
  }, 180_000);

  afterAll(async () => {
    await nfs?.close();
    await browser?.close();
    await gw?.close();
  });

  it('takes a snapshot named by the time; an NFS client reads the file as it was under /.snapshots/<name>/', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Shares', exact: true }).click();
    await page.getByRole('link', { name: 'home', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'home', exact: true }).waitFor();
    const panel = region('Snapshots (0)');
    await panel.getByText('No snapshots yet', { exact: false }).waitFor();
    expect(await text(panel)).toContain('read-only under /home/.snapshots/<name>/');

    // A blank name: the console names it snap-YYYYMMDD-HHMMSS, as on a volume's page.
    await page.getByRole('form', { name: 'Take a snapshot' }).getByRole('button', { name: 'Take snapshot' }).click();
    await flash("of share 'home'").waitFor();
    const [snap] = await json<SnapshotInfo[]>('volumes/home/snapshots');
    expect(snap.name).toMatch(/^snap-\d{8}-\d{6}$/);
    expect(snap.share?.name).toBe('home');
    const row = page.locator(`tr[data-snapshot="${snap.name}"]`);
    await row.waitFor();
    expect(await text(row)).toContain(`/home/.snapshots/${snap.name}/`);
    expect(await text(row)).toContain(snap.createdAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'));

    // The live file changes; the snapshot's copy does not.
    const root = await nfs.mount('/home');
    await nfs.write((await nfs.lookup(root, 'notes.txt')).fh, 0, after);
    const inSnapshot = await nfs.lookup((await nfs.lookup(await nfs.lookup(root, '.snapshots').then((d) => d.fh), snap.name)).fh, 'notes.txt');
    expect((await nfs.readAll(inSnapshot.fh)).equals(before)).toBe(true);
    expect((await nfs.readAll((await nfs.lookup(root, 'notes.txt')).fh)).equals(after)).toBe(true);
  });

  it("checks a snapshot's metadata copy, and a name taken twice shows the API's message", async () => {
    const [snap] = await json<SnapshotInfo[]>('volumes/home/snapshots');
    await page.getByRole('button', { name: `Check snapshot ${snap.name}` }).click();
    const report = page.locator(`[data-fsck="${snap.name}"]`);
    await report.waitFor();
    expect(await text(report)).toBe(`Snapshot ${snap.name}: clean: 1 file, 1 directory`);

    const form = page.getByRole('form', { name: 'Take a snapshot' });
    await form.getByLabel('Name').fill('monday');
    await form.getByRole('button', { name: 'Take snapshot' }).click();
    await flash("Took snapshot 'monday' of share 'home': clients read it under /home/.snapshots/monday/").waitFor();
    await form.getByLabel('Name').fill('monday');
    await form.getByRole('button', { name: 'Take snapshot' }).click();
    await form.locator('.error-note').waitFor();
    expect(await text(form.locator('.error-note'))).toMatch(/monday.*NAME_TAKEN/);
    expect((await json<SnapshotInfo[]>('volumes/home/snapshots')).map((s) => s.name)).toEqual([snap.name, 'monday']);
  });

  it('deletes a snapshot after a confirm that names its path; clients no longer find it', async () => {
    await page.getByRole('button', { name: 'Delete snapshot monday' }).click();
    expect(await text(dialog())).toContain('/home/.snapshots/monday/');
    await dialog().getByRole('button', { name: 'Cancel' }).click();
    expect((await json<SnapshotInfo[]>('volumes/home/snapshots')).map((s) => s.name)).toContain('monday');
    await page.getByRole('button', { name: 'Delete snapshot monday' }).click();
    await dialog().getByRole('button', { name: 'Delete snapshot' }).click();
    await flash("Deleted snapshot 'monday' of share 'home'.").waitFor();
    await page.locator('tr[data-snapshot="monday"]').waitFor({ state: 'detached' });
    expect((await json<SnapshotInfo[]>('volumes/home/snapshots')).map((s) => s.name)).not.toContain('monday');
    const dir = (await nfs.lookup(await nfs.mount('/home'), '.snapshots')).fh;
    await expect(nfs.lookup(dir, 'monday')).rejects.toThrow();
  });

  it("clones a snapshot into a new share with the share's rules; an NFS client reads the snapshot's file there", async () => {
    const [snap] = await json<SnapshotInfo[]>('volumes/home/snapshots');
    await page.getByRole('button', { name: `Clone snapshot ${snap.name}` }).click();
    expect(await text(dialog())).toContain("It gets this share's export rules (1 rule: 127.0.0.0/8 ::1 read-write)");
    await dialog().getByLabel('New share name').fill('home-copy');
    await dialog().getByRole('button', { name: 'Clone', exact: true }).click();
    await flash(`Cloned snapshot '${snap.name}' of share 'home' into the new share 'home-copy'.`).waitFor();

    const [home, copy] = await Promise.all([json<ShareInfo>('shares/home'), json<ShareInfo>('shares/home-copy')]);
    expect(copy.path).toBe('/home-copy');
    expect(copy.volumeName).toBe('share:home-copy');
    const ruleOf = (r: ShareInfo['rules'][number]) => ({ clients: r.clients, access: r.access, squash: r.squash, position: r.position });
    expect(copy.rules.map(ruleOf)).toEqual(home.rules.map(ruleOf));
    const copyRoot = await nfs.mount('/home-copy');
    expect((await nfs.readAll((await nfs.lookup(copyRoot, 'notes.txt')).fh)).equals(before)).toBe(true);
    // The source share keeps what was written after the snapshot.
    expect((await nfs.readAll((await nfs.lookup(await nfs.mount('/home'), 'notes.txt')).fh)).equals(after)).toBe(true);

    // The panel links to the new share.
    await page.locator('[data-cloned="home-copy"]').getByRole('link', { name: 'home-copy', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'home-copy', exact: true }).waitFor();
    await page.goBack();
    await page.getByRole('heading', { level: 1, name: 'home', exact: true }).waitFor();
  });

  it('rolls the share back: refused while this NFS client has it mounted, then forced; a file written since is gone', async () => {
    const [snap] = await json<SnapshotInfo[]>('volumes/home/snapshots');
    const root = await nfs.mount('/home');
    await nfs.write(await nfs.create(root, 'later.txt'), 0, Buffer.from('written after the snapshot'));

    await page.locator(`tr[data-snapshot="${snap.name}"]`).waitFor();
    await page.getByRole('button', { name: `Roll back to snapshot ${snap.name}` }).click();
    const words = await text(dialog());
    expect(words).toContain(`everything written to home since ${snap.createdAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}`);
    expect(words).toContain('NFS clients should mount it again afterwards');
    await dialog().getByRole('button', { name: 'Roll back', exact: true }).click();
    await dialog().locator('.error-note').waitFor();
    expect(await text(dialog().locator('.error-note'))).toMatch(/client\(s\) .*unmount it there first.*SHARE_IN_USE/);
    // Nothing changed yet: the refusal came before any I/O.
    expect((await nfs.readAll((await nfs.lookup(root, 'later.txt')).fh)).toString()).toBe('written after the snapshot');

    await dialog().getByRole('button', { name: 'Roll back anyway' }).click();
    await flash(`Share 'home' reads as snapshot '${snap.name}' again`).waitFor();
    await dialog().waitFor({ state: 'detached' });
    const again = await nfs.mount('/home');
    expect(await nfs.readdirNames(again)).not.toContain('later.txt');
    await expect(nfs.lookup(again, 'later.txt')).rejects.toThrow(/NFS3ERR_NOENT/);
    expect((await nfs.readAll((await nfs.lookup(again, 'notes.txt')).fh)).equals(before)).toBe(true);
    // The clone is a share of its own: the rollback of its source leaves it alone.
    expect((await nfs.readdirNames(await nfs.mount('/home-copy'))).sort()).toEqual(['.', '..', 'notes.txt']);
  });

  it('adds and removes a snapshot schedule of the share', async () => {
    const form = page.getByRole('form', { name: 'Add a schedule' });
    await form.getByLabel('Name').fill('home-hourly');
    await form.getByLabel('Every').fill('2');
    await form.getByLabel('Keep the last').fill('5');
    await form.getByRole('button', { name: 'Add schedule' }).click();
    await flash("Schedule 'home-hourly' snapshots 'home' every 2 hours, keeps the last 5").waitFor();
    const [sched] = await json<SnapshotScheduleInfo[]>('snapshot-schedules');
    expect(sched).toMatchObject({ name: 'home-hourly', every: 2, unit: 'hours', keep: 5 });
    expect(sched.volume?.name).toBe('share:home');
    await region('Snapshot schedules (1)').locator('tr[data-schedule="home-hourly"]').waitFor();

    await page.getByRole('button', { name: 'Remove schedule home-hourly' }).click();
    await dialog().getByRole('button', { name: 'Remove schedule' }).click();
    await flash("Removed schedule 'home-hourly'.").waitFor();
    expect(await json<SnapshotScheduleInfo[]>('snapshot-schedules')).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'console-share-snapshots.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});
