import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppModule } from '../src/app.module';
import { SanClient } from '../src/client';
import { Prng } from '../src/common/prng';
import { loadConfig } from '../src/config/config';
import { JobService } from '../src/jobs/job.service';
import { ReplicationService } from '../src/services/replication.service';
import { SanService } from '../src/san/san.service';
import { AssignmentService } from '../src/storage/assignment.service';
import { SYSTEM_ACTOR } from '../src/storage/domain';
import { HostService } from '../src/storage/host.service';
import { ReplicaService } from '../src/storage/replica.service';
import { VolumeService } from '../src/storage/volume.service';
import { num } from './format';
import { median } from './workload';

const MiB = 2 ** 20;
/** What a cycle keeps in flight (DEFAULT_TUNING in replication.job.ts): the raw baseline does the same. */
const CHUNK = MiB;
const DEPTH = 16;
const DATAGRAM = 65_000;

export interface ReplicationBench {
  size: number;
  /** The same client library writing `size` bytes (1 MiB WRITEs, 16 in flight, then FLUSH) to a volume of the target. */
  rawMBps: number;
  fullSeconds: number;
  fullMBps: number;
  /** Bytes an incremental cycle copied (pages rewritten since the full copy). */
  incrementalBytes: number;
  incrementalSeconds: number;
  incrementalMBps: number;
  /** Median of rounds, each side by side. */
  rounds: number;
}

async function gateway(dir: string, size: number): Promise<INestApplicationContext> {
  const config = loadConfig({
    cwd: dir,
    env: {
      STRATA_DATA_DIR: dir,
      STRATA_DEFAULT_DEVICE_SIZE: String(3 * size + 256 * MiB),
      STRATA_ADMIN_PASSWORD: 'bench-password',
      STRATA_SHELL: 'false',
      STRATA_NBD: 'false',
      STRATA_NAS: 'false',
      STRATA_SAN_HOST: '127.0.0.1',
      STRATA_SAN_PORT: '0',
      STRATA_REPLICATION_DATAGRAM_SIZE: String(DATAGRAM),
      STRATA_MIRROR_PROBE_MS: '0',
    },
  });
  const app = await NestFactory.createApplicationContext(AppModule.forConfig(config), { logger: false });
  await app.init();
  return app;
}

/**
 * Replication throughput on loopback: a full copy of a `size` volume and an
 * incremental cycle (an eighth of its pages rewritten), against raw SAN
 * writes of the same bytes from the same client library to the same target
 * gateway, with the same transfer size, depth and datagram size. Source and
 * target gateways run in this process, as the raw writer and its gateway do.
 */
export async function benchReplication(opts: { size: number; rounds: number }): Promise<ReplicationBench> {
  const dirA = mkdtempSync(join(tmpdir(), 'strata-bench-repl-a-'));
  const dirB = mkdtempSync(join(tmpdir(), 'strata-bench-repl-b-'));
  const a = await gateway(dirA, opts.size);
  const b = await gateway(dirB, opts.size);
  try {
    const san = b.get(SanService).address()!;
    const target = `127.0.0.1:${san.port}`;
    const volumesA = a.get(VolumeService);
    const volumesB = b.get(VolumeService);
    const replications = a.get(ReplicationService);
    const jobs = a.get(JobService);
    const identity = await replications.identityInfo();
    await b.get(HostService).create(SYSTEM_ACTOR, { name: 'site-a', publicKey: identity.publicKey });
    const raw = generateKeyPairSync('ed25519');
    await b.get(HostService).create(SYSTEM_ACTOR, { name: 'raw', publicKey: raw.publicKey.export({ format: 'pem', type: 'spki' }).toString() });
    await volumesB.create(SYSTEM_ACTOR, { name: 'raw', pool: 'default', size: opts.size });
    await b.get(AssignmentService).create(SYSTEM_ACTOR, { host: 'raw', volume: 'raw' });

    const prng = new Prng(99);
    const data = prng.bytes(8 * MiB);
    const fulls: number[] = [];
    const incs: number[] = [];
    const raws: number[] = [];
    let incrementalBytes = 0;
    for (let round = 0; round < opts.rounds; round++) {
      // Raw: the client library writing the whole volume, as a cycle's full copy does.
      const client = await SanClient.connect({ gateways: [target], host: 'raw', key: raw.privateKey, datagramSize: DATAGRAM });
      try {
        const vol = await client.open('raw');
        const began = performance.now();
        let next = 0;
        await Promise.all(
          Array.from({ length: DEPTH }, async () => {
            while (next < opts.size) {
              const at = next;
              next += CHUNK;
              await vol.write(at, data.subarray(at % data.length, (at % data.length) + CHUNK));
            }
          }),
        );
        await vol.flush();
        raws.push(opts.size / MiB / ((performance.now() - began) / 1000));
      } finally {
        await client.close();
      }

      // A fresh source volume and replica each round: the first cycle is a full copy.
      const src = `src${round}`;
      const dst = `dst${round}`;
      await volumesA.create(SYSTEM_ACTOR, { name: src, pool: 'default', size: opts.size });
      const disk = await volumesA.disk(src);
      for (let off = 0; off < opts.size; off += data.length) await disk.write(off, data.subarray(0, Math.min(data.length, opts.size - off)));
      await disk.flush();
      await volumesB.create(SYSTEM_ACTOR, { name: dst, pool: 'default', size: opts.size });
      await b.get(ReplicaService).accept(SYSTEM_ACTOR, dst, { host: 'site-a' });
      await replications.create(SYSTEM_ACTOR, { volume: src, target, targetVolume: dst, hostName: 'site-a' });
      const cycle = async () => {
        const began = performance.now();
        const job = (await replications.run(SYSTEM_ACTOR, src)).job!;
        const done = await jobs.wait(job.id);
        if (done.state !== 'succeeded') throw new Error(`replication cycle ${done.state}: ${done.error}`);
        return { seconds: (performance.now() - began) / 1000, bytes: done.bytesTotal };
      };
      const full = await cycle();
      fulls.push(full.seconds);
      // An eighth of the pages rewritten at random.
      const pages = opts.size / MiB;
      const touched = new Set<number>();
      while (touched.size < pages / 8) touched.add(prng.int(0, pages));
      for (const p of touched) await disk.write(p * MiB + 4096, prng.bytes(4096));
      const inc = await cycle();
      incs.push(inc.seconds);
      incrementalBytes = inc.bytes;
      await replications.remove(SYSTEM_ACTOR, src);
      await volumesA.remove(SYSTEM_ACTOR, src);
      await volumesB.remove(SYSTEM_ACTOR, dst, { force: true, recursive: true });
    }
    const fullSeconds = median(fulls);
    const incrementalSeconds = median(incs);
    return {
      size: opts.size,
      rawMBps: median(raws),
      fullSeconds,
      fullMBps: opts.size / MiB / fullSeconds,
      incrementalBytes,
      incrementalSeconds,
      incrementalMBps: incrementalBytes / MiB / incrementalSeconds,
      rounds: opts.rounds,
    };
  } finally {
    await a.close();
    await b.close();
    rmSync(dirA, { recursive: true, force: true });
    rmSync(dirB, { recursive: true, force: true });
  }
}

export function replicationText(r: ReplicationBench): string {
  const size = `${num(r.size / MiB)} MiB`;
  return [
    `Replication: a cycle to a second gateway on loopback (client library, 1 MiB WRITEs, ${DEPTH} in flight, ${DATAGRAM}-byte datagrams) vs raw SAN writes of the same bytes from the same library; ${r.rounds} rounds, medians (MiB/s)`,
    `${'workload'.padEnd(34)} ${'raw SAN MiB/s'.padStart(14)} ${'replication MiB/s'.padStart(18)} ${'seconds'.padStart(8)}   ratio`,
    `${`full copy of ${size}`.padEnd(34)} ${num(r.rawMBps).padStart(14)} ${num(r.fullMBps).padStart(18)} ${num(r.fullSeconds, 2).padStart(8)}   ${num(r.fullMBps / r.rawMBps, 2)}`,
    `${`incremental, ${num(r.incrementalBytes / MiB)} MiB changed`.padEnd(34)} ${num(r.rawMBps).padStart(14)} ${num(r.incrementalMBps).padStart(18)} ${num(r.incrementalSeconds, 2).padStart(8)}   ${num(r.incrementalMBps / r.rawMBps, 2)}`,
  ].join('\n');
}
