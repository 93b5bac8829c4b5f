// page.evaluate callbacks run in the browser: they use its globals.
/// <reference lib="dom" />
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostInfo, ShareInfo, VolumeInfo } from '../../src/storage/domain';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../utils/gateway';

const ROOT = resolve(__dirname, '../..');
const WEB = join(ROOT, 'web');
const INDEX = join(WEB, 'dist', 'index.html');
const ARTIFACTS = join(ROOT, 'test', 'artifacts');
const CHROMIUM = '/usr/bin/chromium';
const MiB = 2 ** 20;

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`console e2e skipped: ${CHROMIUM} is missing (apt-get install chromium to run it)`);

/** Newest modification time of the files under a directory. */
function newest(dir: string): number {
  return Math.max(
    0,
    ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)),
  );
}

/** The gateway serves web/dist: build it when it is missing or older than what it is built from. */
function buildConsoleIfStale(): void {
  const sources = Math.max(newest(join(WEB, 'src')), ...['index.html', 'vite.config.ts'].map((f) => statSync(join(WEB, f)).mtimeMs));
  if (existsSync(INDEX) && statSync(INDEX).mtimeMs >= sources) return;
  execFileSync('npx', ['vite', 'build', '--config', 'web/vite.config.ts'], { cwd: ROOT, stdio: 'pipe' });
}

/** An OpenSSH public key line, as strata-client keygen prints it. */
function sshEd25519Key(): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  const type = Buffer.from('ssh-ed25519');
  const blob = Buffer.alloc(8 + type.length + raw.length);
  blob.writeUInt32BE(type.length, 0);
  type.copy(blob, 4);
  blob.writeUInt32BE(raw.length, 4 + type.length);
  raw.copy(blob, 8 + type.length);
  return `ssh-ed25519 ${blob.toString('base64')} host1@console-test`;
}

describe.skipIf(!haveChromium)('web console in a real browser', () => {
  let gw: TestGateway;
  let profile: string;
  let ctx: BrowserContext;
  let page: Page;
  /** Script errors in the page: any one fails the run at the end. */
  const pageErrors: string[] = [];

  /** A full-page picture from the top (a scrolled page would carry the sticky sidebar down with it). */
  async function shot(name: string): Promise<void> {
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  }
  const heading = (name: string) => page.getByRole('heading', { level: 1, name, exact: true });
  const dialog = () => page.getByRole('dialog');
  const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
  const token = () => page.evaluate(() => (JSON.parse(sessionStorage.getItem('strata.session') ?? 'null') as { token: string } | null)?.token ?? null);
  const status = (t: string | null) => fetch(`${gw.url}/api/v1/auth/me`, { headers: t ? { authorization: `Bearer ${t}` } : {} }).then((r) => r.status);

  async function go(section: string): Promise<void> {
    await nav(section).click();
    await heading(section).waitFor();
  }

  async function login(password: string): Promise<void> {
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
  }

  /**
   * GET /api/v1/stats is younger than the console: whether the gateway serves
   * it or not, the dashboard must tell the truth: charts that move on their
   * own when it does, "statistics not available" when it does not.
   */
  async function expectLiveStats(): Promise<void> {
    const res = await gw.api('stats');
    const perf = page.getByRole('region', { name: 'Performance' });
    const san = page.getByRole('region', { name: 'SAN sessions' });
    if (res.status === 404) {
      await perf.getByText('Statistics not available').waitFor();
      await san.getByText('Statistics not available').waitFor();
      expect(await perf.locator('svg').count()).toBe(0);
      return;
    }
    expect(res.status).toBe(200);
    const stats = (await res.json()) as { san: { available: boolean; reason?: string } };
    const charts = perf.locator('svg[role="img"]');
    await charts.first().waitFor();
    expect(await charts.count()).toBe(3);
    expect(await visibleText(san)).toBe(`SAN sessions ${stats.san.available ? 'The SAN target is running.' : stats.san.reason}`);
    // Without a reload, the newest sample time on the axis moves on.
    const clock = perf.locator('.chart-time text').last();
    const before = await clock.textContent();
    await page.waitForFunction(
      ([el, was]) => el?.textContent !== was,
      [await clock.elementHandle(), before] as const,
      { timeout: 10_000 },
    );
    expect(await visibleText(page.getByRole('region', { name: 'Busiest volumes' }))).toContain('vol1');
  }

  async function visibleText(l: Locator): Promise<string> {
    await l.waitFor();
    return (await l.innerText()).replace(/\s+/g, ' ').trim();
  }

  beforeAll(async () => {
    buildConsoleIfStale();
    mkdirSync(ARTIFACTS, { recursive: true });
    gw = await startTestGateway();
    profile = mkdtempSync(join(tmpdir(), 'strata-chromium-'));
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
      viewport: { width: 1280, height: 800 },
      acceptDownloads: true,
    });
    page = ctx.pages()[0] ?? (await ctx.newPage());
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (e) => pageErrors.push(e.message));
  }, 180_000);

  afterAll(async () => {
    await ctx?.close();
    await gw?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('says so in words when the password is wrong', async () => {
    await page.goto(`${gw.url}/`);
    await page.getByRole('heading', { name: 'Log in to the storage gateway' }).waitFor();
    await shot('login');
    await login('not-the-password');
    const error = await visibleText(page.locator('.error-note'));
    expect(error).toContain('wrong username or password');
    expect(error).toContain('UNAUTHENTICATED');
    expect(await token()).toBeNull();
  });

  it('logs in, and a deep link survives a reload', async () => {
    await login(ADMIN_PASSWORD);
    await heading('Dashboard').waitFor();
    expect(await status(await token())).toBe(200);
    // The gateway answers /pools with index.html; the session lives in the tab, so a reload stays logged in.
    await page.goto(`${gw.url}/pools`);
    await heading('Pools').waitFor();
    expect(await page.title()).toBe('Pools · Strata');
  });

  it('adds a RAM device', async () => {
    await go('Devices');
    await page.getByRole('button', { name: 'Add device' }).click();
    const d = dialog();
    await d.getByLabel('Name').fill('ram1');
    await d.getByRole('radio', { name: /RAM disk/ }).check();
    await d.getByLabel('Size', { exact: true }).fill('64');
    await d.getByLabel('Size unit').selectOption('M');
    await d.getByRole('button', { name: 'Add device' }).click();
    await page.getByText("Added ram device 'ram1' (64 MiB).").waitFor();
    await expect(dialog().count()).resolves.toBe(0);
    const row = await visibleText(page.getByRole('row', { name: /ram1/ }));
    expect(row).toMatch(/ram1 ram 64 MiB 64 MiB online unused/);
  });

  it('creates a pool on it', async () => {
    await go('Pools');
    await page.getByRole('button', { name: 'Create pool' }).click();
    const d = dialog();
    await d.getByLabel('Name').fill('fast');
    await d.getByLabel('Layout').selectOption('concat');
    await d.getByLabel('Page size').selectOption(String(256 * 1024));
    await d.getByRole('checkbox', { name: 'ram1' }).check();
    await shot('pool-create');
    await d.getByRole('button', { name: 'Create pool' }).click();
    await page.getByText("Created concat pool 'fast' (64 MiB usable).").waitFor();
    const row = await visibleText(page.getByRole('row', { name: /fast/ }));
    expect(row).toContain('concat online');
    expect(row).toContain('ram1');
  });

  it('creates a thin volume', async () => {
    await go('Volumes');
    await page.getByRole('button', { name: 'Create volume' }).click();
    const d = dialog();
    await d.getByLabel('Name').fill('vol1');
    await d.getByLabel('Pool', { exact: true }).selectOption('fast');
    await d.getByLabel('Size', { exact: true }).fill('16');
    await d.getByLabel('Size unit').selectOption('M');
    await d.getByRole('button', { name: 'Create volume' }).click();
    await page.getByText("Created thin volume 'vol1' (16 MiB) in pool 'fast'.").waitFor();
    expect(await visibleText(page.getByRole('row', { name: /vol1/ }))).toMatch(/vol1 fast 16 MiB 0 B \(0%\) thin online none/);
  });

  it("shows the API's NO_SPACE error next to the form for a thick volume larger than the pool", async () => {
    await page.getByRole('button', { name: 'Create volume' }).click();
    const d = dialog();
    await d.getByLabel('Name').fill('huge');
    await d.getByLabel('Pool', { exact: true }).selectOption('fast');
    await d.getByLabel('Size', { exact: true }).fill('1');
    await d.getByLabel('Size unit').selectOption('G');
    await d.getByRole('radio', { name: /Thick/ }).check();
    await d.getByRole('button', { name: 'Create volume' }).click();
    // Inside the dialog, under the form that failed: the API's message, its code, and the sizes in units.
    const error = await visibleText(d.locator('.error-note'));
    expect(error).toContain("not enough space in pool 'fast'");
    expect(error).toContain('NO_SPACE');
    expect(error).toContain('1 GiB asked');
    await shot('volume-no-space');
    await d.getByRole('button', { name: 'Cancel' }).click();
    await expect(dialog().count()).resolves.toBe(0);
    expect((await (await gw.api('volumes')).json()) as VolumeInfo[]).toHaveLength(1);
  });

  it('registers a host by its Ed25519 key', async () => {
    await go('Hosts');
    await page.getByRole('button', { name: 'Register host' }).click();
    const d = dialog();
    await d.getByLabel('Name').fill('host1');
    await d.getByLabel('Public key').fill(sshEd25519Key());
    await d.getByLabel('Description (optional)').fill('rack 4, db primary');
    await d.getByRole('button', { name: 'Register host' }).click();
    const host = (await (await gw.api('hosts/host1')).json()) as HostInfo;
    await page.getByText(`Registered host 'host1' (${host.keyFingerprint}).`).waitFor();
    expect(await visibleText(page.getByRole('row', { name: /host1/ }))).toContain(host.keyFingerprint);
  });

  it('assigns the volume to the host', async () => {
    await page.getByRole('link', { name: 'host1' }).click();
    await heading('host1').waitFor();
    const form = page.getByRole('form', { name: 'Assign a volume' });
    await form.getByLabel('Volume').selectOption('vol1');
    await form.getByLabel('Access').selectOption('rw');
    await form.getByLabel('Sharing').selectOption('exclusive');
    await form.getByRole('button', { name: 'Assign' }).click();
    await page.getByText("Assigned volume 'vol1' to host 'host1' (rw, exclusive).").waitFor();
    expect(await visibleText(page.getByRole('row', { name: /vol1/ }))).toMatch(/vol1 read-write exclusive/);
    await shot('host');
    const list = (await (await gw.api('assignments?host=host1')).json()) as unknown[];
    expect(list).toHaveLength(1);
  });

  it("changes the host's SAN security, and back", async () => {
    const form = page.getByRole('form', { name: 'SAN security' });
    expect(await form.getByRole('button', { name: 'Save' }).isDisabled()).toBe(true);
    await form.getByLabel('SAN security').selectOption('integrity');
    await form.getByRole('button', { name: 'Save' }).click();
    await page.getByText("Host 'host1' may now send its SAN data in clear, authenticated, when it asks to.").waitFor();
    expect(((await (await gw.api('hosts/host1')).json()) as HostInfo).security).toBe('integrity');
    await page.locator('[data-security="integrity"]').waitFor();
    await form.getByLabel('SAN security').selectOption('encrypt');
    await form.getByRole('button', { name: 'Save' }).click();
    await page.getByText("Host 'host1' must encrypt: its integrity-only sessions must log in again.").waitFor();
    expect(((await (await gw.api('hosts/host1')).json()) as HostInfo).security).toBe('encrypt');
  });

  it('shows everything in the lists and on the dashboard', async () => {
    await go('Volumes');
    expect(await visibleText(page.getByRole('row', { name: /vol1/ }))).toContain('host1');
    await shot('volumes');
    await go('Hosts');
    await shot('hosts');
    await go('Pools');
    await shot('pools');
    await page.getByRole('link', { name: 'fast', exact: true }).click();
    await heading('fast').waitFor();
    expect(await visibleText(page.getByRole('region', { name: 'Members' }))).toMatch(/0 ram1 0 B 64 MiB online 0/);
    await shot('pool');
    await go('Devices');
    expect(await visibleText(page.getByRole('row', { name: /ram1/ }))).toMatch(/ram1 ram 64 MiB 0 B online fast/);
    await shot('devices');
    await page.getByRole('link', { name: 'ram1', exact: true }).click();
    await heading('ram1').waitFor();
    // In use by a pool: the page says why it cannot be removed rather than offering a button that fails.
    expect(await page.getByRole('button', { name: 'Remove device' }).isDisabled()).toBe(true);
    await page.getByText('In use by pool fast').waitFor();
    await shot('device');

    await go('Dashboard');
    const capacity = page.getByRole('region', { name: 'Pool capacity' });
    expect(await visibleText(capacity)).toMatch(/fast concat · 1 volume online/);
    expect(await visibleText(page.getByRole('region', { name: 'Device health' }))).toMatch(/ram1 ram 64 MiB online/);
    expect(await visibleText(page.locator('.tiles'))).toMatch(/Volumes 1 1 assigned to hosts Hosts 1 1 assignment/i);

    await expectLiveStats();
  });

  it('uploads a file into the volume with progress, and downloads it back', async () => {
    const data = randomBytes(3 * MiB + 4321);
    await go('Volumes');
    await page.getByRole('link', { name: 'vol1' }).click();
    await heading('vol1').waitFor();
    await page.getByLabel('Upload an image file').setInputFiles({ name: 'disk.img', mimeType: 'application/octet-stream', buffer: data });
    await page.getByRole('button', { name: 'Upload to vol1' }).click();
    await page.getByText(/^Uploaded 3\.00 MiB in [\d.]+ s/).waitFor();
    const bar = page.getByRole('progressbar', { name: 'Upload progress' });
    expect(await bar.getAttribute('aria-valuenow')).toBe('100');
    const image = Buffer.from(await (await gw.api(`volumes/vol1/image?offset=0&length=${data.length}`)).arrayBuffer());
    expect(image.equals(data)).toBe(true);
    // The page re-reads the volume: the written pages are now allocated.
    await page.getByText('3.25 MiB (20%)').waitFor();
    await shot('volume');

    // Headless Chromium has no save dialog to drive: take the Blob path a browser without one takes.
    await page.evaluate(() => delete (window as { showSaveFilePicker?: unknown }).showSaveFilePicker);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /^Download image/ }).click()]);
    expect(download.suggestedFilename()).toBe('vol1.img');
    const saved = readFileSync((await download.path())!);
    expect(saved.length).toBe(16 * MiB);
    expect(saved.subarray(0, data.length).equals(data)).toBe(true);
    await page.getByText(/^Downloaded 16 MiB in/).waitFor();

    // The transfer shows on the dashboard's charts (when the gateway serves statistics).
    await go('Dashboard');
    await expectLiveStats();
    await shot('dashboard');
  });

  it('creates a share, adds, moves and removes export rules, and deletes it', async () => {
    await go('Shares');
    await page.getByRole('button', { name: 'Create share' }).click();
    const d = dialog();
    await d.getByLabel('Name').fill('docs');
    await d.getByLabel('Pool', { exact: true }).selectOption('fast');
    await d.getByLabel('Size', { exact: true }).fill('8');
    await d.getByLabel('Size unit').selectOption('M');
    await d.getByRole('button', { name: 'Create share' }).click();
    await page.getByText("Created share 'docs' (8 MiB) in pool 'fast'. Add export rules to let clients mount /docs.").waitFor();
    expect(await visibleText(page.getByRole('row', { name: /docs/ }))).toBe('docs /docs fast 8 MiB 0 B (0%) none: closed online');

    await page.getByRole('link', { name: 'docs', exact: true }).click();
    await heading('docs').waitFor();
    const rules = page.getByRole('region', { name: /^Export rules/ });
    await rules.getByText('No export rules: no client may mount this share.').waitFor();
    const form = page.getByRole('form', { name: 'Add an export rule' });
    await form.getByLabel('Clients', { exact: true }).fill('10.0.0.0/8, 2001:DB8::/32');
    await form.getByLabel('Access').selectOption('rw');
    await form.getByRole('checkbox', { name: /privileged source port/ }).uncheck();
    await form.getByRole('button', { name: 'Add rule' }).click();
    await page.getByText('Added rule 1: 10.0.0.0/8, 2001:db8::/32 read-write.').waitFor();

    // The API's own words for a network with host bits set, under the form.
    await form.getByLabel('Clients', { exact: true }).fill('10.1.2.3/8');
    await form.getByRole('button', { name: 'Add rule' }).click();
    const error = await visibleText(form.locator('.error-note'));
    expect(error).toContain('the network is 10.0.0.0/8 (or write 10.1.2.3 for that one host)');
    expect(error).toContain('INVALID_ARGUMENT');

    await form.getByLabel('Clients', { exact: true }).fill('*');
    await form.getByLabel('Squash').selectOption('all_squash');
    await form.getByRole('button', { name: 'Add rule' }).click();
    await page.getByText('Added rule 2: * read-only.').waitFor();
    await rules.getByRole('button', { name: 'Move rule 2 up' }).click();
    await page.getByText('Rule 2 is now rule 1.').waitFor();
    // The notice can show before the table has re-rendered with the reloaded rules.
    await expect.poll(() => visibleText(rules.locator('tbody tr').first()), { timeout: 10_000 }).toBe('1 * read-only everyone → nobody privileged only – Remove');
    await shot('share');
    const share = (await (await gw.api('shares/docs')).json()) as ShareInfo;
    expect(share.rules.map((r) => [r.position, r.clients, r.access, r.requirePrivilegedPort])).toEqual([
      [1, ['*'], 'ro', true],
      [2, ['10.0.0.0/8', '2001:db8::/32'], 'rw', false],
    ]);

    await rules.getByRole('button', { name: 'Remove rule 1' }).click();
    await dialog().getByRole('button', { name: 'Remove rule' }).click();
    await page.getByText('Removed rule 1 (*).').waitFor();
    expect(((await (await gw.api('shares/docs')).json()) as ShareInfo).rules).toHaveLength(1);

    await page.getByRole('button', { name: 'Delete share' }).click();
    expect(await visibleText(dialog())).toContain('its volume share:docs (8 MiB)');
    await dialog().getByRole('button', { name: 'Delete share' }).click();
    await heading('Shares').waitFor();
    await page.getByText('No shares yet').waitFor();
    expect((await gw.api('shares/docs')).status).toBe(404);
  });

  it('fits 1024 and 768 pixel wide screens without sideways scrolling', async () => {
    const pages: Array<[string, string]> = [
      ['/', 'dashboard'],
      ['/volumes', 'volumes'],
      ['/volumes/vol1', 'volume'],
      ['/shares', 'shares'],
      ['/pools/fast', 'pool'],
      ['/audit', 'audit'],
    ];
    for (const width of [1024, 768]) {
      await page.setViewportSize({ width, height: 800 });
      for (const [path, name] of pages) {
        await page.goto(`${gw.url}${path}`);
        await page.locator('main h1').waitFor();
        if (name === 'dashboard') await page.locator('.charts, .unavailable').first().waitFor();
        // Wide tables scroll inside their panel; the page itself must not.
        await page.waitForFunction(() => document.documentElement.scrollWidth <= window.innerWidth);
        if (name === 'dashboard' || width === 768) await shot(`${name}-${width}`);
      }
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('shows the actions in the audit log, filters them and pages back', async () => {
    await go('Audit log');
    const table = page.locator('.audit-table');
    const text = await visibleText(table);
    for (const action of ['device.create', 'pool.create', 'volume.create', 'host.create', 'assignment.create', 'volume.upload']) {
      expect(text).toContain(action);
    }
    await shot('audit');

    // Enough newer entries to push those onto a second page.
    for (let i = 0; i < 55; i++) await gw.api('devices/ram1', { method: 'PATCH', json: {} });
    await page.reload();
    await page.getByRole('cell', { name: 'device.update' }).first().waitFor();
    expect(await table.locator('tbody tr').count()).toBe(50);
    await page.getByRole('button', { name: 'Load 50 more' }).click();
    await page.getByText(/^End of the log: \d+ entries shown\.$/).waitFor();
    const all = await visibleText(table);
    expect(all).toMatch(/auth\.login user admin failure UNAUTHENTICATED/);
    expect(all).toMatch(/volume\.create volume huge failure NO_SPACE/);
    // Newest first.
    const ids = (await table.locator('tbody tr td:first-child').allInnerTexts()).map(Number);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));

    await page.getByLabel('Action prefix').fill('volume');
    await page.getByLabel('Outcome').selectOption('success');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/\/audit\?action=volume&outcome=success$/);
    await page.getByText(/^End of the log: 2 entries shown\.$/).waitFor();
    expect(await table.locator('tbody td.mono:not(.detail-cell)').allInnerTexts()).toEqual(['volume.upload', 'volume.create']);
  });

  it('goes back to the login page when the token stops working', async () => {
    const stale = await token();
    await fetch(`${gw.url}/api/v1/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${stale}` } });
    await nav('Volumes').click();
    await page.getByText('Your session expired, log in again').waitFor();
    expect(await token()).toBeNull();
    // Logging in again lands where the admin was going.
    await login(ADMIN_PASSWORD);
    await heading('Volumes').waitFor();
  });

  it('logs out: back to the login page, and the token no longer works', async () => {
    const before = await token();
    expect(await status(before)).toBe(200);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Log in to the storage gateway' }).waitFor();
    await page.getByText('You have logged out.').waitFor();
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(await token()).toBeNull();
    expect(await status(before)).toBe(401);
    expect(pageErrors).toEqual([]);
  });
});
