import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageRuntime } from '../../src/storage/runtime';
import { parseExposition, sampleValue } from '../utils/prometheus-text';
import { startTestGateway, type TestGateway } from '../utils/gateway';

const MiB = 2 ** 20;

describe('readiness when a device goes away while running', () => {
  let gw: TestGateway;
  beforeAll(async () => (gw = await startTestGateway()));
  afterAll(async () => gw?.close());

  it('turns /readyz to 503 naming the device once I/O meets it, and says so in /metrics', async () => {
    expect((await gw.api('devices', { method: 'POST', json: { name: 'flaky', kind: 'file', size: '16M' } })).status).toBe(201);
    expect((await gw.api('pools', { method: 'POST', json: { name: 'solo', layout: 'concat', members: [{ device: 'flaky' }] } })).status).toBe(201);
    expect((await gw.api('volumes', { method: 'POST', json: { name: 'onflaky', pool: 'solo', size: '4M' } })).status).toBe(201);
    expect((await gw.api('volumes/onflaky/image', { method: 'PUT', body: randomBytes(MiB) })).status).toBe(200);
    const ready = await fetch(`${gw.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, reasons: [], degradedPools: [] });

    // Close the device behind the runtime's back, as when its file system goes away.
    const { id } = (await (await gw.api('devices/flaky')).json()) as { id: string };
    await gw.app.get(StorageRuntime).devices.get(id)!.device.close();
    const io = await gw.api(`volumes/onflaky/image?length=${MiB}`);
    expect(io.status).toBe(503);
    expect(await io.json()).toMatchObject({ code: 'DEVICE_GONE' });

    const notReady = await fetch(`${gw.url}/readyz`);
    expect(notReady.status).toBe(503);
    const body = (await notReady.json()) as { ready: boolean; reasons: string[] };
    expect(body.ready).toBe(false);
    expect(body.reasons).toHaveLength(1);
    expect(body.reasons[0]).toMatch(/^pool solo has failed: device flaky failed \(.*not available: closed\)$/);

    const metrics = parseExposition(await (await fetch(`${gw.url}/metrics`)).text());
    expect(sampleValue(metrics, 'strata_ready')).toBe(0);
    expect(sampleValue(metrics, 'strata_pool_state', { pool: 'solo', state: 'failed' })).toBe(1);
    expect(sampleValue(metrics, 'strata_device_state', { device: 'flaky', state: 'failed' })).toBe(1);
    expect(sampleValue(metrics, 'strata_device_state', { device: 'default', state: 'online' })).toBe(1);
    expect(sampleValue(metrics, 'strata_device_io_errors_total', { device: 'flaky' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(metrics, 'strata_volume_errors_total', { volume: 'onflaky', pool: 'solo', op: 'read' })).toBe(1);
    // The rest of the gateway still serves.
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
  });
});
