// page.evaluate callbacks run in the browser: they use its globals.
/// <reference lib="dom" />
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prng } from '../../src/common/prng';
import { StorageRuntime } from '../../src/storage/runtime';
import { ARTIFACTS, buildConsoleIfStale, chromiumFor, loginAsAdmin, openBrowser } from '../utils/console-browser';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../utils/gateway';

const MiB = 2 ** 20;
const haveChromium = chromiumFor('console jobs e2e');

describe.skipIf(!haveChromium)('console Jobs page in a real browser', () => {
  let gw: TestGateway;
  let browser: Awaited<ReturnType<typeof openBrowser>>;
  let page: Page;
  let jobId: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    buildConsoleIfStale();
    mkdirSync(ARTIFACTS, { recursive: true });
    gw = await startTestGateway({ STRATA_MIRROR_PROBE_MS: '0' });
    await gw.api('devices', { method: 'POST', json: { name: 'd2', kind: 'file', path: join(gw.dataDir, 'd2.img'), size: '64M' } });
    await gw.api('pools', { method: 'POST', json: { name: 'p2', layout: 'concat', members: [{ device: 'd2' }] } });
    const v = await (await gw.api('volumes', { method: 'POST', json: { name: 'web1', pool: 'default', size: '24M' } })).json();
    await gw.app.get(StorageRuntime).disk(v.id)!.write(0, new Prng(5).bytes(24 * MiB));
    // Two regions a second (about 12 s in all): slow enough to watch, cancel and resume.
    const added = await (await gw.api('volumes/web1/mirror', { method: 'POST', json: { pool: 'p2', rateLimit: '2M' } })).json();
    jobId = added.job.id;
    browser = await openBrowser();
    page = browser.page;
    page.on('pageerror', (e) => pageErrors.push(e.message));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  const row = () => page.locator(`tr[data-job="${jobId}"]`);
  const bar = () => row().getByRole('progressbar');

  it('lists the running resync with a progress bar that moves by itself', async () => {
    await loginAsAdmin(page, gw.url, ADMIN_PASSWORD);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Jobs', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Jobs', exact: true }).waitFor();
    expect(await row().getByRole('cell').first().innerText()).toBe('mirror-resync');
    await row().getByRole('link', { name: 'web1' }).waitFor();
    await row().getByText('running', { exact: true }).waitFor();
    expect(await bar().getAttribute('aria-label')).toBe('mirror-resync of web1');
    // Polling, no reload: the bar's value grows.
    const before = Number(await bar().getAttribute('aria-valuenow'));
    await page.waitForFunction(
      ([id, was]) => Number(document.querySelector(`tr[data-job="${id}"] [role="progressbar"]`)?.getAttribute('aria-valuenow')) > was,
      [jobId, before] as const,
      { timeout: 15_000 },
    );
    await page.screenshot({ path: join(ARTIFACTS, 'jobs-running.png'), fullPage: true });
  });

  it('cancels the job, then resumes it to the end', async () => {
    await row().getByRole('button', { name: 'Cancel' }).click();
    await row().getByText('cancelled', { exact: true }).waitFor();
    const volume = await (await gw.api('volumes/web1')).json();
    expect(volume.mirror.state).toBe('degraded');
    await row().getByRole('button', { name: 'Resume' }).click();
    await row().getByText('succeeded', { exact: true }).waitFor({ timeout: 30_000 });
    expect(await bar().getAttribute('aria-valuenow')).toBe('100');
    expect(await row().getByRole('button').count()).toBe(0);
    expect((await (await gw.api('volumes/web1')).json()).mirror.state).toBe('in-sync');
    await page.screenshot({ path: join(ARTIFACTS, 'jobs-done.png'), fullPage: true });
    // The volume's page shows where its mirror is and that it is in sync.
    await row().getByRole('link', { name: 'web1' }).click();
    await page.getByRole('heading', { level: 1, name: 'web1', exact: true }).waitFor();
    const mirror = page.locator('dt', { hasText: /^Mirror$/ }).locator('xpath=following-sibling::dd[1]');
    expect((await mirror.innerText()).replace(/\s+/g, ' ').trim()).toBe('on pool p2 in-sync');
    expect(pageErrors).toEqual([]);
  });
});
