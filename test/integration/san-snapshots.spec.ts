import { randomBytes, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SanClient, SanError } from '../../src/client';
import { startTestGateway, type TestGateway } from '../utils/gateway';
import { admin, hostKeyPair, sanAddress } from '../utils/san-fixture';

const MiB = 2 ** 20;

/** A snapshot assigned to a SAN host: discovered read-only, reads as taken while the volume changes over SAN, refuses writes. */
describe('snapshots over the SAN protocol', () => {
  let gw: TestGateway;
  let h1: { privateKey: KeyObject; publicPem: string };
  let client: SanClient | undefined;

  beforeAll(async () => {
    gw = await startTestGateway();
    h1 = hostKeyPair();
    await admin(gw, 'POST', 'hosts', { name: 'h1', publicKey: h1.publicPem });
    await admin(gw, 'POST', 'volumes', { name: 'db', pool: 'default', size: '8M' });
    await admin(gw, 'POST', 'assignments', { host: 'h1', volume: 'db' });
  });
  afterAll(async () => {
    await client?.close();
    await gw?.close();
  });

  it('discovers an assigned snapshot read-only, reads it as it was, and answers writes with READ_ONLY', async () => {
    client = await SanClient.connect({ gateways: [sanAddress(gw)], host: 'h1', key: h1.privateKey, connectTimeoutMs: 3000 });
    const db = await client.open('db');
    const before = randomBytes(8 * MiB);
    await db.write(0, before, { fua: true });
    await admin(gw, 'POST', 'volumes/db/snapshots', { name: 'nightly' });
    // Writes over SAN after the snapshot redirect the shared pages.
    const after = randomBytes(3 * MiB);
    await db.write(MiB + 4096, after, { fua: true });
    expect((await client.discover()).map((v) => v.name)).toEqual(['db']);

    await admin(gw, 'POST', 'assignments', { host: 'h1', volume: 'db@nightly' });
    const found = (await client.discover()).find((v) => v.name === 'db@nightly');
    expect(found).toMatchObject({ readOnly: true, size: 8 * MiB });
    const snap = await client.open('db@nightly');
    expect((await snap.read(0, 8 * MiB)).equals(before)).toBe(true);
    const err = await snap.write(0, Buffer.alloc(4096)).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(SanError);
    expect((err as SanError).code).toBe('READ_ONLY');
    const current = await db.read(0, 8 * MiB);
    expect(current.subarray(MiB + 4096, MiB + 4096 + after.length).equals(after)).toBe(true);
    expect(current.subarray(0, MiB + 4096).equals(before.subarray(0, MiB + 4096))).toBe(true);
  });

  it('still discovers and reads the assigned snapshot after a gateway restart', async () => {
    const expected = await (await client!.open('db@nightly')).read(0, 8 * MiB);
    await client?.close();
    client = undefined;
    const dir = gw.dataDir;
    await gw.close({ keepData: true });
    gw = await startTestGateway({}, dir);
    client = await SanClient.connect({ gateways: [sanAddress(gw)], host: 'h1', key: h1.privateKey, connectTimeoutMs: 3000 });
    // The SAN target loads every volume it may serve at boot, snapshots too, not only block volumes.
    expect((await client.discover()).map((v) => v.name).sort()).toEqual(['db', 'db@nightly']);
    expect((await (await client.open('db@nightly')).read(0, 8 * MiB)).equals(expected)).toBe(true);
  });
});
