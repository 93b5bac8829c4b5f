import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SanClient } from '../../src/client';
import { hostKeyPair } from '../utils/san-fixture';
import { login, spawnGateway, type GatewayProcess } from '../utils/process-gateway';

const KiB = 1024;
const PASSWORD = 'san-crash-password';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A UDP port free right now, so the restarted gateway listens where the client expects it. */
function freeUdpPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * kill -9 of the gateway while a SAN client streams writes: the client logs
 * in again by itself once the gateway is back, its unanswered writes go
 * through, and every write it saw acknowledged reads back intact.
 */
describe('kill -9 of the gateway under SAN writes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-san-crash-'));
  let gw: GatewayProcess | undefined;
  let client: SanClient | undefined;
  afterAll(async () => {
    await client?.close();
    await gw?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged write, and the client reconnects by itself', async () => {
    const port = await freeUdpPort();
    const env = { STRATA_ADMIN_PASSWORD: PASSWORD, STRATA_DEFAULT_DEVICE_SIZE: '256M', STRATA_SAN_PORT: String(port) };
    gw = await spawnGateway(dir, env);
    const token = await login(gw.url, PASSWORD);
    const api = (path: string, json: unknown) =>
      fetch(`${gw!.url}/api/v1/${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(json) });
    const key = hostKeyPair();
    expect((await api('hosts', { name: 'crash', publicKey: key.publicPem })).status).toBe(201);
    expect((await api('volumes', { name: 'crash', pool: 'default', size: '64M' })).status).toBe(201);
    expect((await api('assignments', { host: 'crash', volume: 'crash' })).status).toBe(201);

    client = await SanClient.connect({ gateways: [`127.0.0.1:${port}`], host: 'crash', key: key.privateKey, sessionsPerGateway: 2, datagramSize: 9000, reconnectTimeoutMs: 60_000 });
    const v = await client.open('crash');
    const CHUNK = 192 * KiB;
    const slots = Array.from({ length: 300 }, (_, i) => i).sort(() => Math.random() - 0.5);
    const acked = new Map<number, string>();
    let stop = false;
    const writer = async () => {
      while (!stop && slots.length > 0) {
        const slot = slots.pop()!;
        const data = randomBytes(CHUNK);
        await v.write(slot * CHUNK, data);
        acked.set(slot, sha(data));
      }
    };
    const writers = [writer(), writer(), writer(), writer()];
    while (acked.size < 40) await new Promise((r) => setTimeout(r, 5));
    const beforeKill = acked.size;
    await gw.kill('SIGKILL');
    // Writes in flight now wait for the gateway to come back; nothing new starts.
    stop = true;
    await new Promise((r) => setTimeout(r, 300));
    gw = await spawnGateway(dir, env);
    await Promise.all(writers);
    expect(acked.size).toBeGreaterThanOrEqual(beforeKill);
    expect(client.stats().every((s) => s.logins >= 2)).toBe(true);

    const bad: number[] = [];
    for (const [slot, hash] of acked) if (sha(await v.read(slot * CHUNK, CHUNK)) !== hash) bad.push(slot);
    expect(bad).toEqual([]);
  }, 120_000);
});
