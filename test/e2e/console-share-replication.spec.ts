// page.evaluate callbacks run in the browser: they use its globals.
/// <reference lib="dom" />
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prng } from '../../src/common/prng';
import type { ReplicationInfo, ShareInfo } from '../../src/storage/domain';
import { ARTIFACTS, chromiumFor } from '../utils/console-browser';
import type { TestGateway } from '../utils/gateway';
import { createShare, nasPorts } from '../utils/nas-fixture';
import { Nfs3Client } from '../utils/nfs3-client';
import { getJson, openTwoConsoles, type TwoConsoles } from '../utils/replication-console';
import { SOURCE_HOST } from '../utils/replication-fixture';
import { admin, sanAddress } from '../utils/san-fixture';

const haveChromium = chromiumFor('console share replication e2e');

/**
 * A share replicated between two gateways in this process, every step an
 * admin takes done in the console: B's share page accepts the replica
 * (replacing the files it held), A's Replication page creates the share's
 * replication and runs a cycle, B's share page promotes it; NFS on B then
 * reads the file A had before the cycle.
 */
describe.skipIf(!haveChromium)('console share replication between two gateways in a real browser', () => {
  let two: TwoConsoles;
  let a: TestGateway;
  let b: TestGateway;
  let pa: Page;
  let pb: Page;
  const clients: Nfs3Client[] = [];
  /** Written on A before the cycle; B must serve it after promote. */
  const onA = new Prng(41).bytes(300_000);

  const nfs = async (gw: TestGateway) => {
    const c = await Nfs3Client.connect(nasPorts(gw).nfs);
    clients.push(c);
    return c;
  };
  const flash = (page: Page, text: string) => page.locator('.flash', { hasText: text });
  const text = async (l: Locator) => (await l.innerText()).replace(/\s+/g, ' ').trim();
  const region = (page: Page, name: string) => page.getByRole('region', { name, exact: true });
  const row = () => pa.locator('tr[data-replication="home"]');

  async function openTargetShare(): Promise<void> {
    await pb.goto(`${b.url}/shares/home-r`);
    await pb.getByRole('heading', { level: 1, name: 'home-r', exact: true }).waitFor();
  }

  beforeAll(async () => {
    two = await openTwoConsoles(async (a, b) => {
      await createShare(a, 'home');
      const ca = await nfs(a);
      await ca.write(await ca.create(await ca.mount('/home'), 'report.bin'), 0, onA);
      // B's share holds a file of its own, which accepting with "replace its files" gives up.
      await createShare(b, 'home-r');
      const cb = await nfs(b);
      await cb.write(await cb.create(await cb.mount('/home-r'), 'old.txt'), 0, new Prng(42).bytes(70_000));
      // Registering A's key is the console replication e2e's work; here it is the step before.
      const identity = await admin(a, 'GET', 'replication/identity');
      await admin(b, 'POST', 'hosts', { name: SOURCE_HOST, publicKey: identity.publicKey });
    });
    ({ a, b, pa, pb } = two);
  }, 180_000);

  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await two?.close();
  });

  it("accepts B's share as the replica, replacing its files after a confirm that says it stops being served", async () => {
    await openTargetShare();
    const panel = region(pb, 'Replica');
    const form = pb.getByRole('form', { name: 'Accept as replica' });
    await form.getByLabel("Source gateway's host").selectOption(SOURCE_HOST);
    // It holds a file: accept waits for the admin to say its files may go.
    expect(await form.getByRole('button', { name: 'Accept as replica' }).isDisabled()).toBe(true);
    expect(await text(panel.locator('[data-replica="holds-data"]'))).toMatch(/^This share holds .* of file data: the source's copy would replace it\./);
    await form.getByRole('checkbox', { name: /Replace its files/ }).check();
    await form.getByRole('button', { name: 'Accept as replica' }).click();
    const dialog = pb.getByRole('dialog');
    const said = await text(dialog);
    expect(said).toContain('it stops being served: NFS clients cannot mount /home-r');
    expect(said).toMatch(/its files \(.*\) are replaced by the source's copy/);
    expect(said).toContain('its export rule stays, and applies once it is promoted');
    await dialog.getByRole('button', { name: 'Accept as replica' }).click();
    await flash(pb, `Share 'home-r' is now the replica host '${SOURCE_HOST}' writes, and is not served`).waitFor();
    await pb.locator('[data-replica="cycle"]', { hasText: 'none yet' }).waitFor();
    await panel.locator('[data-replica="not-served"]').waitFor();

    const s = await getJson<ShareInfo>(b, 'shares/home-r');
    expect(s.replica).toMatchObject({ hostName: SOURCE_HOST, lastCycle: 0, snapshot: null });
    // Not served: MOUNT refuses it.
    const probe = await nfs(b);
    await expect(probe.mount('/home-r')).rejects.toThrow();

    // The share list tags it.
    await pb.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Shares', exact: true }).click();
    const listed = pb.locator('tbody tr', { hasText: 'home-r' });
    await listed.locator('.badge', { hasText: 'replica' }).waitFor();
  });

  it("creates the share's replication on A from the console and runs a cycle", async () => {
    await pa.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Replication', exact: true }).click();
    await pa.getByRole('heading', { level: 1, name: 'Replication', exact: true }).waitFor();
    await pa.getByRole('button', { name: 'Create replication' }).click();
    const form = pa.getByRole('form', { name: 'Create replication' });
    const source = form.getByLabel('Volume or share', { exact: true });
    await source.locator('optgroup[label="Shares"] option', { hasText: 'home' }).waitFor({ state: 'attached' });
    await source.selectOption({ label: 'home (64 MiB)' });
    // The target field asks for a share once a share is the source.
    await form.getByLabel('Target share', { exact: true }).fill('home-r');
    expect(await text(form)).toContain("A share at least this share's size (64 MiB)");
    await form.getByLabel('Target gateway').fill(sanAddress(b));
    await form.getByLabel('Host name on the target').fill(SOURCE_HOST);
    await form.getByRole('button', { name: 'Create replication' }).click();
    await flash(pa, `Created the replication of share 'home' to share home-r on ${sanAddress(b)}`).waitFor();
    await row().waitFor();
    await row().getByRole('link', { name: 'home', exact: true }).waitFor();
    expect(await row().getByRole('link', { name: 'home', exact: true }).getAttribute('href')).toBe('/shares/home');
    await row().locator('.badge', { hasText: 'share' }).waitFor();

    await pa.getByRole('button', { name: 'Run a cycle of home now' }).click();
    await flash(pa, "Started a cycle of share 'home' to home-r").waitFor();
    await row().locator('[data-cell="cycle"]').getByText(/^cycle 1, /).waitFor({ timeout: 60_000 });
    const [r] = await getJson<ReplicationInfo[]>(a, 'replications');
    expect(r).toMatchObject({ share: { name: 'home' }, targetVolume: 'home-r', lastCycle: 1, lastError: null });
    await pa.screenshot({ path: join(ARTIFACTS, 'console-share-replication-list.png'), fullPage: true });

    // The 1280 px window holds the whole table: nothing scrolls sideways and every row button is inside its panel.
    const table = row().locator('xpath=ancestor::div[contains(@class, "table-wrap")]');
    const overflow = await table.evaluate((el) => ({ page: document.documentElement.scrollWidth - window.innerWidth, table: el.scrollWidth - el.clientWidth }));
    expect(overflow).toEqual({ page: 0, table: 0 });
    const panel = (await table.boundingBox())!;
    for (const name of ['Run a cycle of home now', 'Change schedule of home', 'Remove replication of home']) {
      const b = (await row().getByRole('button', { name }).boundingBox())!;
      expect(b.x + b.width, name).toBeLessThanOrEqual(panel.x + panel.width);
    }
  });

  it("promotes the share on B from the console: served again, with A's file over NFS", async () => {
    await openTargetShare();
    const panel = region(pb, 'Replica');
    await pb.locator('[data-replica="cycle"]', { hasText: 'cycle 1' }).waitFor();
    const before = await getJson<ShareInfo>(b, 'shares/home-r');
    expect(before.replica?.lastCycle).toBe(1);
    expect(await text(panel)).toContain(`Consistent point ${before.replica!.snapshot}`);
    await pb.locator('.badge', { hasText: /^replica$/ }).first().waitFor();

    await panel.getByRole('button', { name: 'Promote replica' }).click();
    const dialog = pb.getByRole('dialog');
    const said = await text(dialog);
    expect(said).toContain(`It is rolled back to cycle 1 (${before.replica!.snapshot}): its files are as they were on the source at that cycle's snapshot`);
    expect(said).toContain('It is served again with its export rule: clients they match can mount it.');
    await dialog.getByRole('button', { name: 'Promote', exact: true }).click();
    await flash(pb, "Promoted 'home-r': it is an ordinary share now, served with its export rules.").waitFor();
    await pb.getByRole('form', { name: 'Accept as replica' }).waitFor();
    await pb.screenshot({ path: join(ARTIFACTS, 'console-share-replica.png'), fullPage: true });

    const after = await getJson<ShareInfo>(b, 'shares/home-r');
    expect(after.replica).toBeNull();
    const c = await nfs(b);
    const root = await c.mount('/home-r');
    expect(Buffer.compare(await c.readAll((await c.lookup(root, 'report.bin')).fh), onA)).toBe(0);
    // The file B held before accepting is gone: the source's copy replaced it.
    expect(await c.readdirNames(root)).not.toContain('old.txt');
    expect(two.pageErrors).toEqual([]);
  });
});
