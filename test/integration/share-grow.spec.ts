import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stable_how } from '../../src/protocols/nfs3';
import { startTestGateway, type TestGateway } from '../utils/gateway';
import { createShare, nasPorts } from '../utils/nas-fixture';
import { Nfs3Client } from '../utils/nfs3-client';
import { admin } from '../utils/san-fixture';

const MiB = 2 ** 20;

/** FSSTAT's total bytes of the share, as an NFS client sees it. */
async function totalBytes(c: Nfs3Client, root: Buffer): Promise<number> {
  return (await c.ok(18, { fsroot: root })).tbytes;
}

describe('growing a share that NFS clients are using', () => {
  let gw: TestGateway;
  let c: Nfs3Client;

  beforeAll(async () => {
    gw = await startTestGateway({ STRATA_DEFAULT_DEVICE_SIZE: '256M' });
    await createShare(gw, 'grows', {}, '8M');
    c = await Nfs3Client.connect(nasPorts(gw).nfs);
  });
  afterAll(async () => {
    await c?.close();
    await gw?.close();
  });

  it('serves the new space at once, keeping files and handles', async () => {
    const root = await c.mount('/grows');
    const before = await totalBytes(c, root);
    expect(before).toBeLessThanOrEqual(8 * MiB);
    const data = randomBytes(2 * MiB);
    const fh = await c.create(root, 'kept.bin');
    for (let off = 0; off < data.length; off += MiB) await c.write(fh, off, data.subarray(off, off + MiB), stable_how.FILE_SYNC);

    await admin(gw, 'PATCH', 'shares/grows', { size: '64M' });
    // The filesystem reopens in the background; calls meanwhile get JUKEBOX, which the client retries.
    let after = before;
    for (let i = 0; i < 200 && after <= before; i++) {
      try {
        after = await totalBytes(c, root);
      } catch (e) {
        expect(String(e)).toMatch(/JUKEBOX/);
      }
      if (after <= before) await new Promise((r) => setTimeout(r, 10));
    }
    expect(after).toBeGreaterThan(32 * MiB);
    expect((await c.readAll(fh)).equals(data)).toBe(true);
    // The new space is usable: more than the old size fits now.
    const big = await c.create(root, 'big.bin');
    for (let off = 0; off < 16 * MiB; off += MiB) await c.write(big, off, randomBytes(MiB), stable_how.UNSTABLE);
    await c.commit(big);
    expect((await c.getattr(big)).size).toBe(16 * MiB);
  });
});
