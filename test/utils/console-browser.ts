import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const ROOT = resolve(__dirname, '../..');
const WEB = join(ROOT, 'web');
const INDEX = join(WEB, 'dist', 'index.html');
export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = join(ROOT, 'test', 'artifacts');

function newest(dir: string): number {
  return Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)));
}

/** The gateway serves web/dist: build it when it is missing or older than what it is built from. */
export function buildConsoleIfStale(): void {
  const sources = Math.max(newest(join(WEB, 'src')), ...['index.html', 'vite.config.ts'].map((f) => statSync(join(WEB, f)).mtimeMs));
  if (existsSync(INDEX) && statSync(INDEX).mtimeMs >= sources) return;
  execFileSync('npx', ['vite', 'build', '--config', 'web/vite.config.ts'], { cwd: ROOT, stdio: 'pipe' });
}

/** Whether the browser tests can run; when not, says which test is skipped and why. */
export function chromiumFor(what: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  console.warn(`${what} skipped: ${CHROMIUM} is missing (apt-get install chromium to run it)`);
  return false;
}

/** Log in on the console's login page as the bootstrap admin. */
export async function loginAsAdmin(page: Page, url: string, password: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

/** Headless system Chromium with a throwaway profile; close() removes the profile too. */
export async function openBrowser(): Promise<{ page: Page; ctx: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'strata-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1280, height: 800 },
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  page.setDefaultTimeout(15_000);
  return {
    page,
    ctx,
    async close() {
      await ctx.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
