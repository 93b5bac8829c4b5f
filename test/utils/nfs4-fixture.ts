import { randomBytes } from 'node:crypto';
import type { FileSystem } from '../../src/nas/fs';
import { makeFs, type Fixture } from '../../src/nas/fs/testing/fs-fixture';
import { ExportTable } from '../../src/nas/exports/export-table';
import { type MemoryRecoveryStore } from '../../src/nas/nfs4/client-table';
import { Nfs4Server } from '../../src/nas/nfs4/nfs4-server';
import type { ReadAhead } from '../../src/nas/read-ahead';
import { RpcServer } from '../../src/nas/rpc/rpc-server';
import type { ExportRuleInfo, ShareExport } from '../../src/storage/domain';
import { afterAll, beforeAll } from 'vitest';
import { Nfs4TestClient } from './nfs4-client';
import { MemoryLog } from './rpc-fixture';

export interface ShareSpec {
  name: string;
  rules?: Array<Partial<ExportRuleInfo>>;
}

const OPEN_RULE: Partial<ExportRuleInfo> = { clients: ['*'], access: 'rw', squash: 'no_root_squash' };

export function shareExport(exportId: number, spec: ShareSpec): ShareExport {
  const now = new Date(0).toISOString();
  const rules = (spec.rules ?? [OPEN_RULE]).map((r, i) => ({
    id: `rule-${exportId}-${i}`,
    shareId: `share-${exportId}`,
    position: i + 1,
    clients: ['*'],
    access: 'rw' as const,
    squash: 'no_root_squash' as const,
    anonUid: 65534,
    anonGid: 65534,
    requirePrivilegedPort: false,
    comment: null,
    createdAt: now,
    updatedAt: now,
    ...r,
  }));
  return {
    secretKey: randomBytes(32),
    share: {
      id: `share-${exportId}`,
      name: spec.name,
      path: `/${spec.name}`,
      poolId: 'pool',
      poolName: 'pool',
      volumeId: `vol-${exportId}`,
      volumeName: `vol-${exportId}`,
      size: 64 * 2 ** 20,
      allocatedBytes: 0,
      exportId,
      state: 'online',
      rules,
      createdAt: now,
      updatedAt: now,
    },
  } as ShareExport;
}

/** An NFSv4.1 server over real filesystems (RAM stores) on an ephemeral loopback port, without a gateway. */
export interface Nfs4Fixture {
  port: number;
  nfs4: Nfs4Server;
  table: ExportTable;
  fs(name: string): FileSystem;
  log: MemoryLog;
  faults: unknown[];
  close(): Promise<void>;
}

export async function startNfs4(specs: ShareSpec[], opts: { leaseSeconds?: number; now?: () => number; store?: MemoryRecoveryStore; reads?: ReadAhead } = {}): Promise<Nfs4Fixture> {
  const exports = specs.map((s, i) => shareExport(i + 1, s));
  const table = new ExportTable(exports);
  const fixtures = new Map<number, Fixture>();
  for (const e of exports) fixtures.set(e.share.exportId, await makeFs({ root: { mode: 0o777, uid: 0, gid: 0 } }));
  const faults: unknown[] = [];
  const nfs4 = new Nfs4Server({
    shares: {
      list: () => table.list(),
      byShareName: (n) => table.byShareName(n),
      byExportId: (id) => table.byExportId(id),
      decide: (id, client, cred) => table.decide(id, client, cred),
      filesystem: (id) => fixtures.get(id)?.fs,
      fault: (e) => faults.push(e),
    },
    leaseSeconds: opts.leaseSeconds,
    now: opts.now,
    store: opts.store,
    reads: opts.reads,
  });
  const log = new MemoryLog();
  const server = new RpcServer([{ prog: 100003, name: 'nfs', versions: { 4: nfs4.version() } }], { log });
  const { port } = await server.listen(0, '127.0.0.1');
  return {
    port,
    nfs4,
    table,
    log,
    faults,
    fs: (name) => fixtures.get(table.byShareName(name)!.exportId)!.fs,
    async close() {
      await server.close();
      nfs4.close();
      for (const f of fixtures.values()) await f.cleanup();
    },
  };
}

/**
 * For a describe block: a server with one share 'data' and a v4.1 client
 * mounted on it before the tests, both stopped after them. `use` receives
 * them once they are up.
 */
export function mountedNfs4(use: (m: { fx: Nfs4Fixture; c: Nfs4TestClient }) => void): void {
  let fx: Nfs4Fixture | undefined;
  let c: Nfs4TestClient | undefined;
  beforeAll(async () => {
    fx = await startNfs4([{ name: 'data' }]);
    c = await Nfs4TestClient.connect(fx.port);
    await c.mount();
    use({ fx, c });
  });
  afterAll(async () => {
    await c?.destroy().catch(() => undefined);
    await fx?.close();
  });
}
