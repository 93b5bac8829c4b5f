import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { expect } from 'vitest';
import { Prng } from '../../src/common/prng';
import { MirrorService } from '../../src/storage/mirror.service';
import { StorageRuntime } from '../../src/storage/runtime';
import { FaultyDevice } from './faulty-device';
import type { TestGateway } from './gateway';

const MiB = 2 ** 20;

/** Helpers of the mirror tests: REST calls, job waits, and checksums of both sides of a mirror. */
export async function json(gw: TestGateway, path: string, init?: Parameters<TestGateway['api']>[1]) {
  const res = await gw.api(path, init);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, tries = 600): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A file device and a concat pool on it; the device wrapped in a FaultyDevice before the pool opens it. */
export async function faultyPool(gw: TestGateway, name: string, size = 64 * MiB): Promise<FaultyDevice | undefined> {
  const dev = await json(gw, 'devices', { method: 'POST', json: { name, kind: 'file', path: join(gw.dataDir, `${name}.img`), size } });
  expect(dev.status).toBe(201);
  const entry = gw.app.get(StorageRuntime).devices.get(dev.body.id)!;
  const faulty = new FaultyDevice(entry.device);
  entry.device = faulty;
  const pool = await json(gw, 'pools', { method: 'POST', json: { name, layout: 'concat', members: [{ device: name }] } });
  expect(pool.status).toBe(201);
  return faulty;
}

/** Checksums of the volume as the data path reads it (the primary) and of its mirror member. */
export async function checksums(gw: TestGateway, volume: string): Promise<{ primary: string; mirror: string }> {
  const runtime = gw.app.get(StorageRuntime);
  const id = (await json(gw, `volumes/${volume}`)).body.id as string;
  const member = await gw.app.get(MirrorService).memberOf(id);
  const face = runtime.disk(id)!;
  const sum = async (d: { size: number; read(o: number, n: number): Promise<Buffer> }) => createHash('sha256').update(await d.read(0, d.size)).digest('hex');
  return { primary: await sum(face), mirror: await sum(runtime.disks.get(member!.id)!) };
}

export async function writeRandom(gw: TestGateway, volume: string, seed: number, count: number, maxLen = 256 * 1024): Promise<void> {
  const id = (await json(gw, `volumes/${volume}`)).body.id as string;
  const face = gw.app.get(StorageRuntime).disk(id)!;
  const rng = new Prng(seed);
  for (let i = 0; i < count; i++) {
    const len = rng.int(1, maxLen / 512) * 512;
    await face.write(rng.int(0, (face.size - len) / 512) * 512, rng.bytes(len));
  }
}

export async function job(gw: TestGateway, id: string) {
  return (await json(gw, `jobs/${id}`)).body;
}

export async function finished(gw: TestGateway, id: string) {
  return until(`job ${id}`, async () => {
    const j = await job(gw, id);
    return j.state !== 'running' && j.state !== 'queued' ? j : undefined;
  });
}
