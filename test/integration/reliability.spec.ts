import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DeviceIOError } from '../../src/common/errors';
import type { BlockDevice } from '../../src/devices/block-device';
import type { PoolInfo } from '../../src/storage/domain';
import { StorageRuntime } from '../../src/storage/runtime';
import { startTestGateway, type TestGateway } from '../utils/gateway';

const MiB = 2 ** 20;

async function call<T = Record<string, unknown>>(gw: TestGateway, path: string, init?: Parameters<TestGateway['api']>[1]) {
  const res = await gw.api(path, init);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* raw */
  }
  return { status: res.status, body: body as T };
}

/** Make a live device fail every read and write with EIO, as a dying disk does. */
function breakDevice(device: BlockDevice): void {
  const fail = (op: string) => (offset: number) => Promise.reject(new DeviceIOError(device.label, op, offset, 'EIO'));
  Object.assign(device, { read: fail('read'), write: fail('write'), flush: () => Promise.reject(new DeviceIOError(device.label, 'flush', 0, 'EIO')) });
}

describe('restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-restart-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps devices, pools, volumes, data and page maps across a graceful restart', async () => {
    let gw = await startTestGateway({}, dir);
    await call(gw, 'devices', { method: 'POST', json: { name: 'f1', kind: 'file', size: '16M' } });
    await call(gw, 'devices', { method: 'POST', json: { name: 'f2', kind: 'file', size: '32M' } });
    // One volume over two devices, starting 3 MiB into the first.
    const span = await call(gw, 'pools', {
      method: 'POST',
      json: { name: 'span', layout: 'concat', pageSize: '64K', members: [{ device: 'f1', offset: 3 * MiB, length: '8M' }, { device: 'f2' }] },
    });
    expect(span.body).toMatchObject({ capacity: 40 * MiB });
    const v = await call(gw, 'volumes', { method: 'POST', json: { name: 'keep', pool: 'span', size: '36M' } });
    expect(v.status).toBe(201);
    const data = randomBytes(36 * MiB);
    expect((await gw.api('volumes/keep/image', { method: 'PUT', body: data })).status).toBe(200);
    const before = (await call(gw, 'volumes/keep')).body;
    await gw.close({ keepData: true });

    gw = await startTestGateway({}, dir);
    try {
      const after = (await call(gw, 'volumes/keep')).body;
      expect(after).toMatchObject({ id: before.id, serial: before.serial, allocatedBytes: before.allocatedBytes, size: 36 * MiB });
      const back = Buffer.from(await (await gw.api('volumes/keep/image')).arrayBuffer());
      expect(back.equals(data)).toBe(true);
      expect((await call(gw, 'pools/span/check')).body).toMatchObject({ ok: true });
      expect((await call<PoolInfo[]>(gw, 'pools')).body.map((p) => p.name)).toEqual(['default', 'span']);
    } finally {
      await gw.close({ keepData: true });
    }
  });

  it('brings a pool whose device file vanished up as failed, and says why', async () => {
    let gw = await startTestGateway({}, dir);
    await call(gw, 'devices', { method: 'POST', json: { name: 'gone', kind: 'file', size: '16M' } });
    await call(gw, 'pools', { method: 'POST', json: { name: 'lost', layout: 'concat', members: [{ device: 'gone' }] } });
    await call(gw, 'volumes', { method: 'POST', json: { name: 'lostvol', pool: 'lost', size: '4M' } });
    expect((await gw.api('volumes/lostvol/image', { method: 'PUT', body: randomBytes(MiB) })).status).toBe(200);
    await gw.close({ keepData: true });
    unlinkSync(join(dir, 'devices', 'gone.img'));

    gw = await startTestGateway({}, dir);
    try {
      const dev = (await call(gw, 'devices/gone')).body;
      expect(dev).toMatchObject({ state: 'missing' });
      expect(dev.stateReason).toMatch(/does not exist|ENOENT|no such file/i);
      expect((await call(gw, 'pools/lost')).body).toMatchObject({ state: 'failed' });
      const io = await call(gw, 'volumes/lostvol/image?length=4096');
      expect(io.status).toBe(503);
      expect(io.body).toMatchObject({ code: expect.stringMatching(/DEVICE_GONE|POOL_FAILED/) });
      const ready = await fetch(`${gw.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(JSON.stringify(await ready.json())).toMatch(/gone/);
      // The rest of the gateway still serves.
      expect((await call(gw, 'volumes/keep/image?length=4096')).status).toBe(200);
    } finally {
      await gw.close({ keepData: true });
    }
  });
});

describe('a failed mirror member across a restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-stale-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stays out of service, so its stale copy never serves reads', async () => {
    let gw = await startTestGateway({}, dir);
    await call(gw, 'devices', { method: 'POST', json: { name: 'a', kind: 'file', size: '16M' } });
    await call(gw, 'devices', { method: 'POST', json: { name: 'b', kind: 'file', size: '16M' } });
    await call(gw, 'pools', { method: 'POST', json: { name: 'm', layout: 'raid1', members: [{ device: 'a' }, { device: 'b' }] } });
    await call(gw, 'volumes', { method: 'POST', json: { name: 'v', pool: 'm', size: '8M', provisioning: 'thick' } });
    const before = randomBytes(8 * MiB);
    await gw.api('volumes/v/image', { method: 'PUT', body: before });
    // b fails; the volume goes on with a alone and gets new data b never sees.
    const b = gw.app.get(StorageRuntime).devices.get((await call(gw, 'devices/b')).body.id as string)!.device;
    breakDevice(b);
    const after = randomBytes(8 * MiB);
    expect((await gw.api('volumes/v/image', { method: 'PUT', body: after })).status).toBe(200);
    expect((await call(gw, 'pools/m')).body.state).toBe('degraded');
    await gw.close({ keepData: true });

    // b's file is fine again at the next start, but holds the old bytes.
    gw = await startTestGateway({}, dir);
    try {
      const pool = (await call<PoolInfo>(gw, 'pools/m')).body;
      expect(pool.state).toBe('degraded');
      expect(pool.members[1]).toMatchObject({ deviceName: 'b', state: 'failed', lastError: expect.stringMatching(/EIO/) });
      for (let i = 0; i < 4; i++) {
        const back = Buffer.from(await (await gw.api('volumes/v/image')).arrayBuffer());
        expect(back.equals(after)).toBe(true);
      }
    } finally {
      await gw.close({ keepData: true });
    }
  });
});

describe('device failure while running', () => {
  let gw: TestGateway;
  afterAll(async () => gw?.close());

  it('raid1 keeps serving from the healthy member and reports degraded; a concat volume reports errors; the service stays up', async () => {
    gw = await startTestGateway();
    for (const name of ['m1', 'm2', 'solo']) await call(gw, 'devices', { method: 'POST', json: { name, kind: 'ram', size: '16M' } });
    await call(gw, 'pools', { method: 'POST', json: { name: 'mirror', layout: 'raid1', members: [{ device: 'm1' }, { device: 'm2' }] } });
    await call(gw, 'pools', { method: 'POST', json: { name: 'plain', layout: 'concat', members: [{ device: 'solo' }] } });
    await call(gw, 'volumes', { method: 'POST', json: { name: 'safe', pool: 'mirror', size: '8M' } });
    await call(gw, 'volumes', { method: 'POST', json: { name: 'fragile', pool: 'plain', size: '8M' } });
    const data = randomBytes(8 * MiB);
    await gw.api('volumes/safe/image', { method: 'PUT', body: data });
    await gw.api('volumes/fragile/image', { method: 'PUT', body: data });

    const runtime = gw.app.get(StorageRuntime);
    const id = (name: string) => (async () => (await call(gw, `devices/${name}`)).body.id as string)();
    breakDevice(runtime.devices.get(await id('m1'))!.device);
    breakDevice(runtime.devices.get(await id('solo'))!.device);

    // Reads hit the failed member, get EIO, and are served by the other one.
    for (let i = 0; i < 4; i++) {
      const back = Buffer.from(await (await gw.api('volumes/safe/image')).arrayBuffer());
      expect(back.equals(data)).toBe(true);
    }
    const fresh = randomBytes(MiB);
    expect((await gw.api(`volumes/safe/image?offset=${MiB}`, { method: 'PUT', body: fresh })).status).toBe(200);
    const again = Buffer.from(await (await gw.api(`volumes/safe/image?offset=${MiB}&length=${MiB}`)).arrayBuffer());
    expect(again.equals(fresh)).toBe(true);

    const pool = (await call(gw, 'pools/mirror')).body;
    expect(pool.state).toBe('degraded');
    const m1 = (await call(gw, 'devices/m1')).body;
    expect(m1).toMatchObject({ state: 'failed' });
    expect(String(m1.stateReason)).toMatch(/EIO/);
    expect((await call(gw, 'volumes/safe')).body.state).toBe('degraded');

    const broken = await call(gw, 'volumes/fragile/image?length=65536');
    expect(broken.status).toBe(503);
    expect(broken.body).toMatchObject({ code: expect.stringMatching(/DEVICE_IO_ERROR|POOL_FAILED/) });
    const write = await gw.api('volumes/fragile/image', { method: 'PUT', body: randomBytes(4096) });
    expect(write.status).toBe(503);
    expect((await call(gw, 'pools/plain')).body.state).toBe('failed');

    // Still up: health answers, other calls work, readiness names the failed pool.
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    const ready = await (await fetch(`${gw.url}/readyz`)).json();
    expect(ready.reasons.join(' ')).toMatch(/plain/);
    expect(ready.degradedPools).toEqual(['mirror']);
    expect((await call(gw, 'volumes')).status).toBe(200);
  });
});
