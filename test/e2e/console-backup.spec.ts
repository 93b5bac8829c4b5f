import { closeSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prng } from '../../src/common/prng';
import { JobService } from '../../src/jobs/job.service';
import type { BackupTargetInfo } from '../../src/storage/domain';
import type { BackupView, StartedBackup } from '../../src/services/backup/backup.service';
import { ARTIFACTS, buildConsoleIfStale, chromiumFor, loginAsAdmin, openBrowser } from '../utils/console-browser';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../utils/gateway';
import { volumeHash, writeVolume } from '../utils/replication-fixture';
import { createShare, nasPorts, OPEN_RULE } from '../utils/nas-fixture';
import { Nfs3Client } from '../utils/nfs3-client';
import { admin } from '../utils/san-fixture';

const MiB = 2 ** 20;
const haveChromium = chromiumFor('console backup e2e');

/** The Backups page against a real gateway: a directory target, a full and an incremental backup, verify, restore, remove. */
describe.skipIf(!haveChromium)('console Backups page in a real browser', () => {
  let gw: TestGateway;
  let browser: Awaited<ReturnType<typeof openBrowser>>;
  let page: Page;
  let dir: string;
  const pageErrors: string[] = [];

  const json = async <T>(path: string): Promise<T> => {
    const res = await gw.api(path);
    expect(res.ok, `GET ${path}: ${res.status}`).toBe(true);
    return (await res.json()) as T;
  };
  const backups = () => json<BackupView[]>('backups');
  const flash = (text: string) => page.locator('.flash', { hasText: text });
  const dialog = () => page.getByRole('dialog');
  const text = async (l: Locator) => (await l.innerText()).replace(/\s+/g, ' ').trim();
  const row = (id: string) => page.locator(`tr[data-backup="${id}"]`);
  const short = (id: string) => id.slice(0, 8);

  /** Start a backup of db through the create dialog; returns the new backup once its row says complete. */
  async function backUp(incremental: boolean): Promise<BackupView> {
    const known = new Set((await backups()).map((b) => b.id));
    await page.getByRole('button', { name: 'Create backup' }).click();
    const form = page.getByRole('form', { name: 'Create backup' });
    await form.getByLabel('Volume', { exact: true }).selectOption('db');
    await form.getByLabel('Target', { exact: true }).selectOption('nightly');
    if (incremental) await form.getByRole('radio', { name: /^incremental:/ }).check();
    await form.getByRole('button', { name: 'Start backup' }).click();
    await flash(`Started a ${incremental ? 'incremental' : 'full'} backup of 'db' to target 'nightly'`).waitFor();
    const b = (await backups()).find((x) => !known.has(x.id))!;
    // The list polls: the row turns complete without a reload.
    await row(b.id).locator('[data-cell="state"]', { hasText: /^complete$/ }).waitFor({ timeout: 60_000 });
    return (await backups()).find((x) => x.id === b.id)!;
  }

  beforeAll(async () => {
    buildConsoleIfStale();
    mkdirSync(ARTIFACTS, { recursive: true });
    gw = await startTestGateway({ STRATA_DEFAULT_DEVICE_SIZE: '128M' });
    dir = join(gw.dataDir, 'backups');
    mkdirSync(dir);
    await admin(gw, 'POST', 'volumes', { name: 'db', pool: 'default', size: '16M' });
    await writeVolume(gw, 'db', 0, new Prng(41).bytes(4 * MiB));
    browser = await openBrowser();
    page = browser.page;
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await loginAsAdmin(page, gw.url, ADMIN_PASSWORD);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  it("adds a directory target from the page; a directory that does not exist gets the gateway's reason", async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Backups', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Backups', exact: true }).waitFor();
    await page.getByText('No backup targets yet', { exact: false }).waitFor();
    await page.getByText('No backups yet', { exact: false }).waitFor();
    const form = page.getByRole('form', { name: 'Add a target' });
    await form.getByLabel('Name').fill('nightly');
    await form.getByLabel('Directory').fill(join(dir, 'missing'));
    await form.getByRole('button', { name: 'Add target' }).click();
    await form.locator('.error-note').waitFor();
    expect(await text(form.locator('.error-note'))).toContain('missing');
    expect(await json<BackupTargetInfo[]>('backup-targets')).toEqual([]);

    await form.getByLabel('Directory').fill(dir);
    await form.getByRole('button', { name: 'Add target' }).click();
    await flash(`Added backup target 'nightly' (directory ${dir}).`).waitFor();
    expect(await text(page.locator('tr[data-target="nightly"]'))).toContain(`directory ${dir}`);
  });

  it('makes a full and then an incremental backup; the incremental shows its chain and stores only what changed', async () => {
    const full = await backUp(false);
    expect(full).toMatchObject({ kind: 'full', state: 'complete', targetName: 'nightly', parentId: null });
    expect(await text(row(full.id).locator('[data-cell="chain"]'))).toBe(`${short(full.id)} (full)`);

    await writeVolume(gw, 'db', 9 * MiB, new Prng(42).bytes(MiB));
    const inc = await backUp(true);
    expect(inc).toMatchObject({ kind: 'incremental', parentId: full.id });
    // The one changed page, and its manifest; the full one stored the four written pages.
    expect(inc.bytesStored).toBeGreaterThanOrEqual(MiB);
    expect(inc.bytesStored).toBeLessThan(2 * MiB);
    expect(full.bytesStored).toBeGreaterThanOrEqual(4 * MiB);
    expect(await text(row(inc.id).locator('[data-cell="chain"]'))).toBe(`${short(full.id)} (full) → ${short(inc.id)}`);
    expect(await text(row(inc.id))).toContain('incremental');
  });

  it('verifies a backup, and names the damaged page of one whose image was changed on disk', async () => {
    const [full, inc] = await backups();
    await page.getByRole('button', { name: `Verify backup ${short(inc.id)}` }).click();
    const status = page.locator(`[data-verify="${inc.id}"]`);
    await status.getByText(`Verify of backup ${short(inc.id)} of db: every page matches its digest.`).waitFor({ timeout: 60_000 });

    // 4 KiB of page 2 of the full image, overwritten behind the gateway's back.
    const image = join(dir, 'db', `${full.id}.img`);
    const at = 2 * MiB + 8192;
    const original = Buffer.alloc(4096);
    const fd = openSync(image, 'r+');
    try {
      readSync(fd, original, 0, 4096, at);
      writeSync(fd, Buffer.alloc(4096, 0xee), 0, 4096, at);
      await page.getByRole('button', { name: `Verify backup ${short(full.id)}` }).click();
      const bad = page.locator(`[data-verify="${full.id}"]`);
      await bad.locator('.text-bad', { hasText: 'page 2' }).waitFor({ timeout: 60_000 });
      expect(await text(bad)).toContain('does not match its SHA-256');
    } finally {
      // The page as it was: the next test restores through this image.
      writeSync(fd, original, 0, 4096, at);
      closeSync(fd);
    }
  });

  it('restores the incremental into a new volume that reads as db did', async () => {
    const [full, inc] = await backups();
    await page.getByRole('button', { name: `Restore backup ${short(inc.id)}` }).click();
    expect(await text(dialog())).toContain(`composed from 2 backups (${short(full.id)} → ${short(inc.id)})`);
    await dialog().getByLabel('New volume name').fill('db-copy');
    await dialog().getByRole('button', { name: 'Restore', exact: true }).click();
    await flash(`Restoring backup ${short(inc.id)} into the new volume 'db-copy'`).waitFor();
    const job = (await json<Array<{ id: string; kind: string }>>('jobs')).find((j) => j.kind === 'restore')!;
    const ended = await gw.app.get(JobService).wait(job.id);
    expect(ended.state, ended.error ?? '').toBe('succeeded');
    expect(await volumeHash(gw, 'db-copy')).toBe(await volumeHash(gw, 'db'));
    await page.screenshot({ path: join(ARTIFACTS, 'console-backup-list.png'), fullPage: true });
  });

  it('removes the full backup with the incremental built on it after a confirm naming both, then the target', async () => {
    const [full, inc] = await backups();
    await page.getByRole('button', { name: `Remove backup ${short(full.id)}` }).click();
    expect(await text(dialog())).toContain(`1 incremental backup built on it, which cannot be restored without it: ${short(inc.id)}`);
    await dialog().getByRole('button', { name: 'Cancel' }).click();
    expect(await backups()).toHaveLength(2);
    await page.getByRole('button', { name: `Remove backup ${short(full.id)}` }).click();
    await dialog().getByRole('button', { name: 'Remove it and 1 dependent' }).click();
    await flash(`Removed backup ${short(full.id)} of 'db' and 1 backup built on it.`).waitFor();
    expect(await backups()).toEqual([]);
    await page.getByText('No backups yet', { exact: false }).waitFor();

    // The target counts no backups now, and can go.
    await page.locator('tr[data-target="nightly"] td.num', { hasText: /^0$/ }).waitFor();
    await page.getByRole('button', { name: 'Remove target nightly' }).click();
    expect(await text(dialog())).toContain('It holds no backups.');
    await dialog().getByRole('button', { name: 'Remove target' }).click();
    await flash("Removed backup target 'nightly'.").waitFor();
    expect(await json<BackupTargetInfo[]>('backup-targets')).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'console-backup.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it("restores a share's backup into a new share, served only once checked, whose files read back over NFS", async () => {
    await createShare(gw, 'home');
    const nfs = await Nfs3Client.connect(nasPorts(gw).nfs);
    try {
      const root = await nfs.mount('/home');
      const data = new Prng(43).bytes(300_000);
      await nfs.write(await nfs.create(root, 'report.bin'), 0, data);
      await admin(gw, 'POST', 'backup-targets', { name: 'shelf', kind: 'directory', path: dir });
      const started = await admin<StartedBackup>(gw, 'POST', 'backups', { volume: 'home', target: 'shelf' });
      expect((await gw.app.get(JobService).wait(started.job.id)).state).toBe('succeeded');
      // The original changes after the backup; the restore must bring back what was backed up.
      await nfs.write((await nfs.lookup(root, 'report.bin')).fh, 0, Buffer.alloc(4096, 7));

      await page.reload();
      await page.getByRole('button', { name: `Restore backup ${short(started.backup.id)}` }).click();
      expect(await text(dialog())).toContain('It starts with no export rules');
      expect(await dialog().getByLabel('New share name').inputValue()).toBe('home-restored');
      await dialog().getByRole('button', { name: 'Restore', exact: true }).click();
      await flash(`Restoring backup ${short(started.backup.id)} into the new share 'home-restored'`).waitFor();
      const job = (await json<Array<{ id: string; kind: string; target: { name: string } }>>('jobs')).find((j) => j.kind === 'restore' && j.target.name.includes('home-restored'))!;
      const ended = await gw.app.get(JobService).wait(job.id);
      expect(ended.state, ended.error ?? '').toBe('succeeded');

      // No rules yet: nobody may mount it until the admin says who.
      await expect(nfs.mount('/home-restored')).rejects.toThrow();
      await admin(gw, 'POST', 'shares/home-restored/rules', OPEN_RULE);
      const restored = await nfs.mount('/home-restored');
      expect((await nfs.readAll((await nfs.lookup(restored, 'report.bin')).fh)).equals(data)).toBe(true);
      expect(pageErrors).toEqual([]);
    } finally {
      await nfs.close();
    }
  });
});
