// page.evaluate callbacks run in the browser: they use its globals.
/// <reference lib="dom" />
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prng } from '../../src/common/prng';
import type { ReplicationInfo, VolumeInfo } from '../../src/storage/domain';
import { ARTIFACTS, chromiumFor } from '../utils/console-browser';
import type { TestGateway } from '../utils/gateway';
import { getJson, openTwoConsoles, type TwoConsoles } from '../utils/replication-console';
import { SOURCE_HOST, volumeHash, writeVolume } from '../utils/replication-fixture';
import { admin, sanAddress } from '../utils/san-fixture';

const MiB = 2 ** 20;
const haveChromium = chromiumFor('console replication e2e');

/**
 * Two gateways in this process on loopback, each driven through its own
 * console tab: A's Replication page pairs and runs cycles, B's volume page
 * accepts the replica, shows its cycles and promotes it.
 */
describe.skipIf(!haveChromium)('console replication between two gateways in a real browser', () => {
  let two: TwoConsoles;
  let a: TestGateway;
  let b: TestGateway;
  /** The console of A (the source) and of B (the target). */
  let pa: Page;
  let pb: Page;
  const flash = (page: Page, text: string) => page.locator('.flash', { hasText: text });
  const text = async (l: Locator) => (await l.innerText()).replace(/\s+/g, ' ').trim();
  const row = () => pa.locator('tr[data-replication="db"]');
  const cell = (name: string) => row().locator(`[data-cell="${name}"]`);
  const region = (page: Page, name: string) => page.getByRole('region', { name, exact: true });

  async function openReplication(): Promise<void> {
    await pa.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Replication', exact: true }).click();
    await pa.getByRole('heading', { level: 1, name: 'Replication', exact: true }).waitFor();
  }
  async function openTargetVolume(): Promise<void> {
    await pb.goto(`${b.url}/volumes/db-r`);
    await pb.getByRole('heading', { level: 1, name: 'db-r', exact: true }).waitFor();
  }

  beforeAll(async () => {
    two = await openTwoConsoles(async (a, b) => {
      await admin(a, 'POST', 'volumes', { name: 'db', pool: 'default', size: '16M' });
      await writeVolume(a, 'db', 0, new Prng(31).bytes(5 * MiB));
      await admin(b, 'POST', 'volumes', { name: 'db-r', pool: 'default', size: '16M' });
    });
    ({ a, b, pa, pb } = two);
    await two.browser.ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: a.url });
  }, 180_000);

  afterAll(async () => {
    await two?.close();
  });

  it("shows A's replication identity with a working copy button; B registers the key it shows", async () => {
    await openReplication();
    const identity = await getJson<{ publicKey: string; hostName: string; register: string; fingerprint: string }>(a, 'replication/identity');
    const key = pa.locator('[data-identity="public-key"]');
    expect(await key.innerText()).toBe(identity.publicKey);
    expect(identity.publicKey).toMatch(/^ssh-ed25519 /);
    expect(await pa.locator('[data-identity="register"]').innerText()).toBe(`strata host add ${identity.hostName} --key '${identity.publicKey}'`);
    await region(pa, "This gateway's replication identity").getByText(identity.fingerprint).waitFor();
    await pa.getByText('No replications yet', { exact: false }).waitFor();

    await pa.getByRole('button', { name: 'Copy public key' }).click();
    await pa.getByRole('button', { name: 'Copy public key' }).getByText('Copied').waitFor();
    expect(await pa.evaluate(() => navigator.clipboard.readText())).toBe(identity.publicKey);
    // The target learns the key as the console shows it (the host form's work is the console e2e's).
    await admin(b, 'POST', 'hosts', { name: SOURCE_HOST, publicKey: await key.innerText() });
  });

  it("accepts B's volume as the replica that host writes, from B's volume page", async () => {
    await openTargetVolume();
    const form = pb.getByRole('form', { name: 'Accept as replica' });
    await form.getByLabel("Source gateway's host").selectOption(SOURCE_HOST);
    await form.getByRole('button', { name: 'Accept as replica' }).click();
    await flash(pb, `Volume 'db-r' is now the replica host '${SOURCE_HOST}' writes`).waitFor();
    await pb.locator('[data-replica="cycle"]', { hasText: 'none yet' }).waitFor();
    const v = await getJson<VolumeInfo>(b, 'volumes/db-r');
    expect(v.replica).toMatchObject({ hostName: SOURCE_HOST, lastCycle: 0, snapshot: null });
    // The host's read-write assignment shows with the others.
    await region(pb, 'Assignments (1)').getByRole('link', { name: SOURCE_HOST }).waitFor();
  });

  it('creates the replication from the console, runs a cycle, and the row shows it succeed', async () => {
    await pa.getByRole('button', { name: 'Create replication' }).click();
    const form = pa.getByRole('form', { name: 'Create replication' });
    await form.getByLabel('Volume or share', { exact: true }).selectOption('volume:db');
    await form.getByLabel('Target gateway').fill(sanAddress(b));
    await form.getByLabel('Target volume').fill('db-r');
    await form.getByLabel('Host name on the target').fill(SOURCE_HOST);
    await form.getByLabel('Rate limit').fill('512M');
    await form.getByRole('button', { name: 'Create replication' }).click();
    await flash(pa, `Created the replication of 'db' to db-r on ${sanAddress(b)}`).waitFor();
    await row().waitFor();
    expect(await text(cell('cycle'))).toBe('none yet');
    expect(await text(cell('lag'))).toBe('no cycle yet');
    expect(await text(row())).toContain('on demand');
    expect(await text(row())).toContain('512 MiB/s');

    await pa.getByRole('button', { name: 'Run a cycle of db now' }).click();
    await flash(pa, "Started a cycle of 'db' to db-r").waitFor();
    // The list polls: the row moves to cycle 1 without a reload.
    await cell('cycle').getByText(/^cycle 1, /).waitFor({ timeout: 60_000 });
    const [r] = await getJson<ReplicationInfo[]>(a, 'replications');
    expect(r).toMatchObject({ lastCycle: 1, lastError: null, targetVolume: 'db-r', hostName: SOURCE_HOST });
    // The first cycle sends the five mapped pages.
    expect(r.bytesSent).toBe(5 * MiB);
    await cell('sent').getByText('5 MiB', { exact: true }).waitFor();
    await cell('state').getByText('idle').waitFor();
    expect(await volumeHash(b, 'db-r')).toBe(await volumeHash(a, 'db@repl-1'));
    await pa.screenshot({ path: join(ARTIFACTS, 'console-replication-list.png'), fullPage: true });

    // The source volume's page says where it goes, and offers no accept-as-replica.
    await row().getByRole('link', { name: 'db', exact: true }).click();
    await pa.getByRole('heading', { level: 1, name: 'db', exact: true }).waitFor();
    expect(await text(pa.locator('[data-replica="source"]'))).toBe(`This volume is replicated to db-r on ${sanAddress(b)} (on demand; last good cycle: cycle 1, ${r.lastGoodAt!.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}): see the Replication page.`);
    expect(await pa.getByRole('form', { name: 'Accept as replica' }).count()).toBe(0);

    // The cycle's job, on the Jobs page, links back here.
    await pa.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Jobs', exact: true }).click();
    const job = pa.locator('tbody tr', { hasText: 'replication of db' });
    await job.getByText('succeeded', { exact: true }).waitFor();
    await job.getByRole('link', { name: 'replication of db' }).click();
    await pa.getByRole('heading', { level: 1, name: 'Replication', exact: true }).waitFor();
  });

  it("shows the cycle on B's volume page and promotes the replica, rolling back what a cut-off cycle wrote", async () => {
    await openTargetVolume();
    const panel = region(pb, 'Replica');
    await pb.locator('[data-replica="cycle"]', { hasText: 'cycle 1' }).waitFor();
    expect(await text(panel)).toContain('Consistent point db-r@cycle-1');

    // A cycle cut off half way: part of the next image landed on the replica after cycle 1.
    await writeVolume(b, 'db-r', 2 * MiB, new Prng(32).bytes(MiB));
    expect(await volumeHash(b, 'db-r')).not.toBe(await volumeHash(a, 'db@repl-1'));

    await panel.getByRole('button', { name: 'Promote replica' }).click();
    const dialog = pb.getByRole('dialog');
    expect(await text(dialog)).toContain('If a cycle was cut off after cycle 1, what it wrote is rolled back: the volume reads as db-r@cycle-1');
    expect(await text(dialog)).toContain(`host ${SOURCE_HOST} loses its read-write assignment`);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect((await getJson<VolumeInfo>(b, 'volumes/db-r')).replica).not.toBeNull();

    await panel.getByRole('button', { name: 'Promote replica' }).click();
    await dialog.getByRole('button', { name: 'Promote', exact: true }).click();
    await flash(pb, "Promoted 'db-r': it is an ordinary volume now.").waitFor();
    await pb.getByRole('form', { name: 'Accept as replica' }).waitFor();
    const v = await getJson<VolumeInfo>(b, 'volumes/db-r');
    expect(v.replica).toBeNull();
    expect(v.assignments).toEqual([]);
    expect(await volumeHash(b, 'db-r')).toBe(await volumeHash(a, 'db@repl-1'));
  });

  it("shows the next cycle's error on A, then removes the replication after a confirm", async () => {
    await pa.getByRole('button', { name: 'Run a cycle of db now' }).click();
    // The promoted volume is no longer this host's to write: the cycle fails and says so in the row.
    await cell('state').locator('.text-bad', { hasText: 'db-r' }).waitFor({ timeout: 60_000 });
    const [r] = await getJson<ReplicationInfo[]>(a, 'replications');
    expect(r.lastError).toContain('db-r');
    expect(r.lastCycle).toBe(1);

    // Schedule and limit change in place; the edit form starts from the current ones.
    await pa.getByRole('button', { name: 'Change schedule of db' }).click();
    const change = pa.getByRole('form', { name: 'Change replication' });
    expect(await change.getByLabel('Every').inputValue()).toBe('');
    expect(await change.getByLabel('Rate limit').inputValue()).toBe('512M');
    await change.getByLabel('Every').fill('1h');
    await change.getByLabel('Rate limit').fill('');
    await change.getByRole('button', { name: 'Save' }).click();
    await flash(pa, "The replication of 'db' now runs every 1h, no limit.").waitFor();
    const [changed] = await getJson<ReplicationInfo[]>(a, 'replications');
    expect(changed).toMatchObject({ everySeconds: 3600, rateLimit: 0 });
    expect(await text(row())).toContain('every 1h');

    await pa.getByRole('button', { name: 'Remove replication of db' }).click();
    const dialog = pa.getByRole('dialog');
    expect(await text(dialog)).toContain('The replica db-r on the target keeps its last committed cycle (cycle 1,');
    await dialog.getByRole('button', { name: 'Remove replication' }).click();
    await flash(pa, "Removed the replication of 'db'.").waitFor();
    await row().waitFor({ state: 'detached' });
    expect(await getJson<ReplicationInfo[]>(a, 'replications')).toEqual([]);
    expect((await getJson<Array<{ name: string }>>(a, 'volumes/db/snapshots')).map((s) => s.name)).toEqual([]);
    await pa.screenshot({ path: join(ARTIFACTS, 'console-replication.png'), fullPage: true });
    await pb.screenshot({ path: join(ARTIFACTS, 'console-replica.png'), fullPage: true });
    expect(two.pageErrors).toEqual([]);
  });
});
