import { createHash } from 'node:crypto';
import { JobService } from '../../src/jobs/job.service';
import type { JobInfo } from '../../src/jobs/job-kind';
import { StorageRuntime } from '../../src/storage/runtime';
import { VolumeService } from '../../src/storage/volume.service';
import type { TestGateway } from './gateway';
import { admin, sanAddress } from './san-fixture';

/** The host name the target registers the source's replication key under in these tests. */
export const SOURCE_HOST = 'site-a';

/** Environment for gateways that replicate over loopback: large datagrams, a quick schedule tick. */
export const REPLICATION_ENV = { STRATA_REPLICATION_DATAGRAM_SIZE: '65000', STRATA_REPLICATION_TICK_MS: '100', STRATA_REPLICATION_RECONNECT_MS: '30000' };

/** Register the source's replication key on the target and accept `replica` (created at `size`) as its replica. */
export async function pairGateways(source: TestGateway, target: TestGateway, replica: string, size: string): Promise<void> {
  const identity = await admin(source, 'GET', 'replication/identity');
  const known = (await target.api(`hosts/${SOURCE_HOST}`)).ok;
  if (!known) await admin(target, 'POST', 'hosts', { name: SOURCE_HOST, publicKey: identity.publicKey });
  await admin(target, 'POST', 'volumes', { name: replica, pool: 'default', size });
  await admin(target, 'POST', `volumes/${replica}/replica`, { host: SOURCE_HOST });
}

/** Create the replication of `volume` to `replica` on the target; returns its id. */
export async function replicate(source: TestGateway, target: TestGateway | string, volume: string, replica: string, extra: Record<string, unknown> = {}): Promise<string> {
  const address = typeof target === 'string' ? target : sanAddress(target);
  const r = await admin(source, 'POST', 'replications', { volume, target: address, targetVolume: replica, hostName: SOURCE_HOST, ...extra });
  return r.id as string;
}

/** Run a cycle and wait for its job to end. */
export async function runCycle(source: TestGateway, volume: string): Promise<JobInfo> {
  const view = await admin(source, 'POST', `replications/${volume}/run`);
  return source.app.get(JobService).wait((view.job as JobInfo).id);
}

/** SHA-256 of a volume's (or snapshot's, `<vol>@<snap>`) bytes, read from the gateway's own disk; `length` bytes from 0 (default: all). */
export async function volumeHash(gw: TestGateway, name: string, length?: number): Promise<string> {
  const info = await gw.app.get(VolumeService).get(name);
  const disk = gw.app.get(StorageRuntime).disks.get(info.id);
  if (!disk) throw new Error(`volume ${name} has no disk`);
  const total = length ?? disk.size;
  const hash = createHash('sha256');
  const buf = Buffer.alloc(4 << 20);
  for (let at = 0; at < total; at += buf.length) {
    const piece = buf.subarray(0, Math.min(buf.length, total - at));
    await disk.readInto(at, piece);
    hash.update(piece);
  }
  return hash.digest('hex');
}

/** Write bytes to a volume through the gateway's own I/O path (as a host's write would land). */
export async function writeVolume(gw: TestGateway, name: string, offset: number, data: Buffer): Promise<void> {
  const info = await gw.app.get(VolumeService).get(name);
  await gw.app.get(StorageRuntime).disk(info.id)!.write(offset, data);
}
