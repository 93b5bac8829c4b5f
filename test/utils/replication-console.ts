import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { ARTIFACTS, buildConsoleIfStale, loginAsAdmin, openBrowser } from './console-browser';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from './gateway';
import { REPLICATION_ENV } from './replication-fixture';

/** A source gateway A and a target B on loopback, each with a console tab logged in as admin. */
export interface TwoConsoles {
  a: TestGateway;
  b: TestGateway;
  browser: Awaited<ReturnType<typeof openBrowser>>;
  /** A's console (the source) and B's (the target). */
  pa: Page;
  pb: Page;
  /** Uncaught errors in either tab: a spec ends by expecting none. */
  pageErrors: string[];
  close(): Promise<void>;
}

/** Start both gateways, run `prepare` on them (what the specs take as given), then open and log in both tabs. */
export async function openTwoConsoles(prepare: (a: TestGateway, b: TestGateway) => Promise<void>): Promise<TwoConsoles> {
  buildConsoleIfStale();
  mkdirSync(ARTIFACTS, { recursive: true });
  const [a, b] = await Promise.all([startTestGateway(REPLICATION_ENV), startTestGateway(REPLICATION_ENV)]);
  let browser: TwoConsoles['browser'] | undefined;
  const close = async () => {
    await browser?.close();
    await Promise.all([a.close(), b.close()]);
  };
  try {
    await prepare(a, b);
    browser = await openBrowser();
    const pa = browser.page;
    const pb = await browser.ctx.newPage();
    pb.setDefaultTimeout(15_000);
    const pageErrors: string[] = [];
    for (const p of [pa, pb]) p.on('pageerror', (e) => pageErrors.push(e.message));
    await loginAsAdmin(pa, a.url, ADMIN_PASSWORD);
    await loginAsAdmin(pb, b.url, ADMIN_PASSWORD);
    return { a, b, browser, pa, pb, pageErrors, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** GET over the gateway's REST API, expecting success: what the console did, checked without it. */
export async function getJson<T>(gw: TestGateway, path: string): Promise<T> {
  const res = await gw.api(path);
  expect(res.ok, `GET ${path}: ${res.status}`).toBe(true);
  return (await res.json()) as T;
}
