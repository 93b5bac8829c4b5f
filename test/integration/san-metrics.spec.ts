import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SanClient } from '../../src/client';
import { startTestGateway, type TestGateway } from '../utils/gateway';
import { parseExposition, sampleValue } from '../utils/prometheus-text';
import { admin, hostKeyPair, sanAddress } from '../utils/san-fixture';

const MiB = 2 ** 20;

/** A metrics scrape after real SAN traffic: sessions, calls, bytes, logins and dropped datagrams move as they should. */
describe('SAN metrics', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ STRATA_SAN_AUTH_DELAY_MS: '20' });
  });
  afterAll(async () => gw?.close());

  const scrape = async () => parseExposition(await (await fetch(`${gw.url}/metrics`)).text());

  it('counts sessions, calls, bytes, logins and rejected datagrams', async () => {
    const key = hostKeyPair();
    await admin(gw, 'POST', 'hosts', { name: 'm1', publicKey: key.publicPem });
    await admin(gw, 'POST', 'volumes', { name: 'mv', pool: 'default', size: '8M' });
    await admin(gw, 'POST', 'assignments', { host: 'm1', volume: 'mv' });
    const before = await scrape();
    expect(sampleValue(before, 'strata_san_sessions')).toBe(0);

    const client = await SanClient.connect({ gateways: [sanAddress(gw)], host: 'm1', key: key.privateKey, connectTimeoutMs: 3000 });
    try {
      const v = await client.open('mv');
      const data = randomBytes(2 * MiB);
      await v.write(0, data, { fua: true });
      expect((await v.read(0, data.length)).equals(data)).toBe(true);

      // Garbage at the SAN port: counted as malformed, never acted on.
      const [host, port] = sanAddress(gw).split(':');
      const sock = createSocket('udp4');
      await new Promise<void>((r) => sock.send(Buffer.from('not an SBP datagram at all, just noise'), Number(port), host, () => r()));
      sock.close();
      await new Promise((r) => setTimeout(r, 50));

      const after = await scrape();
      expect(sampleValue(after, 'strata_san_sessions')).toBeGreaterThanOrEqual(1);
      expect(sampleValue(after, 'strata_san_logins_total', { outcome: 'accepted' })).toBeGreaterThanOrEqual(1);
      expect(sampleValue(after, 'strata_san_calls_total')!).toBeGreaterThan(2);
      expect(sampleValue(after, 'strata_san_received_bytes_total')!).toBeGreaterThan(2 * MiB);
      expect(sampleValue(after, 'strata_san_sent_bytes_total')!).toBeGreaterThan(2 * MiB);
      expect(sampleValue(after, 'strata_san_dropped_datagrams_total', { reason: 'malformed' })).toBeGreaterThanOrEqual(1);
      // The same bytes show in the volume's own series.
      expect(sampleValue(after, 'strata_volume_bytes_total', { volume: 'mv', pool: 'default', op: 'write' })).toBe(2 * MiB);
    } finally {
      await client.close();
    }
  });
});
