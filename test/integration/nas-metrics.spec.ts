import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { NFS_PROGRAM, NFS_V3, stable_how } from '../../src/protocols/nfs3';
import { nfs_opnum4 as OP, nfsstat4 } from '../../src/protocols/nfs4/constants';
import { encodeCallHeader } from '../../src/protocols/oncrpc/message';
import { XdrWriter } from '../../src/protocols/xdr/xdr';
import type { StatsReport } from '../../src/metrics/stats.service';
import { startTestGateway, type TestGateway } from '../utils/gateway';
import { createShare, nasPorts } from '../utils/nas-fixture';
import { authSys, Nfs3Client } from '../utils/nfs3-client';
import { Nfs4TestClient } from '../utils/nfs4-client';
import { parseExposition, sampleValue } from '../utils/prometheus-text';

const MiB = 2 ** 20;

/**
 * The NAS front end in GET /api/v1/stats (where NFS and MOUNT listen, the
 * portmapper mode) and in /metrics after real NFS traffic: calls by
 * procedure, errors by status, garbage, connections, bytes.
 */
describe('NAS status and metrics', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
    await createShare(gw, 'metered');
  });
  afterAll(async () => gw?.close());

  const scrape = async () => parseExposition(await (await fetch(`${gw.url}/metrics`)).text());

  it('GET /stats names the NFS and MOUNT addresses and the portmapper mode', async () => {
    const ports = nasPorts(gw);
    const stats = (await (await gw.api('stats')).json()) as StatsReport;
    expect(stats.nas).toEqual({
      available: true,
      address: `tcp 127.0.0.1:${ports.nfs}`,
      nfs: `tcp 127.0.0.1:${ports.nfs}`,
      mount: `tcp 127.0.0.1:${ports.mount}`,
      portmap: { mode: 'off' },
    });
  });

  it('GET /stats says why when the NAS front end is disabled', async () => {
    const off = await startTestGateway({ STRATA_NAS: 'false' });
    try {
      const stats = (await (await off.api('stats')).json()) as StatsReport;
      expect(stats.nas).toEqual({ available: false, reason: 'the NAS front end is disabled (nas.enabled is false)' });
    } finally {
      await off.close();
    }
  });

  it('counts calls by procedure, errors by status, garbage, connections and file bytes', async () => {
    const before = await scrape();
    const c = await Nfs3Client.connect(nasPorts(gw).nfs);
    try {
      const root = await c.mount('/metered');
      const fh = await c.create(root, 'data.bin');
      const data = randomBytes(MiB + 123);
      await c.write(fh, 0, data.subarray(0, MiB), stable_how.FILE_SYNC);
      await c.write(fh, MiB, data.subarray(MiB), stable_how.UNSTABLE);
      await c.commit(fh);
      expect((await c.readAll(fh, 256 * 1024)).equals(data)).toBe(true);
      expect(await c.status(3, { what: { dir: root, name: 'missing' } })).toBe('NFS3ERR_NOENT');
      expect(await c.status(3, { what: { dir: root, name: 'missing-too' } })).toBe('NFS3ERR_NOENT');
      // A truncated GETATTR: GARBAGE_ARGS.
      const xid = c.rpc.nextXid();
      const w = encodeCallHeader(new XdrWriter(), { xid, prog: NFS_PROGRAM, vers: NFS_V3, proc: 1, cred: authSys() });
      await c.rpc.exchange(xid, [...w.toBuffers(), Buffer.from([0, 0, 0, 40, 1, 2])]);
      // NFS version 4: PROG_MISMATCH.
      await c.rpc.call(NFS_PROGRAM, 2, 0);

      const after = await scrape();
      const delta = (name: string, labels: Record<string, string> = {}) => (sampleValue(after, name, labels) ?? 0) - (sampleValue(before, name, labels) ?? 0);
      expect(delta('strata_nfs_calls_total', { program: 'mount', version: '3', procedure: 'MNT' })).toBe(1);
      expect(delta('strata_nfs_calls_total', { program: 'nfs', version: '3', procedure: 'WRITE' })).toBe(2);
      expect(delta('strata_nfs_calls_total', { program: 'nfs', version: '3', procedure: 'COMMIT' })).toBe(1);
      expect(delta('strata_nfs_calls_total', { program: 'nfs', version: '3', procedure: 'READ' })).toBe(5);
      expect(delta('strata_nfs_calls_total', { program: 'nfs', version: '3', procedure: 'LOOKUP' })).toBe(2);
      expect(delta('strata_nfs_errors_total', { status: 'NFS3ERR_NOENT' })).toBe(2);
      expect(delta('strata_nfs_garbage_total')).toBe(1);
      expect(delta('strata_nfs_rpc_rejected_total', { reason: 'prog_mismatch' })).toBe(1);
      expect(delta('strata_nfs_rpc_rejected_total', { reason: 'system_err' })).toBe(0);
      expect(delta('strata_nfs_written_bytes_total')).toBe(MiB + 123);
      expect(delta('strata_nfs_read_bytes_total')).toBe(MiB + 123);
      expect(delta('strata_nfs_connections_total')).toBe(1);
      expect(sampleValue(after, 'strata_nfs_connections')).toBeGreaterThanOrEqual(1);
      // Each call that ran is timed, by procedure (the truncated GETATTR above was counted as a call, not run, so not timed).
      const write = { program: 'nfs', version: '3', procedure: 'WRITE' };
      expect(delta('strata_nfs_call_duration_seconds_count', write)).toBe(2);
      expect(delta('strata_nfs_call_duration_seconds_bucket', { ...write, le: '+Inf' })).toBe(2);
      expect(delta('strata_nfs_call_duration_seconds_sum', write)).toBeGreaterThan(0);
      expect(delta('strata_nfs_call_duration_seconds_count', { program: 'mount', version: '3', procedure: 'MNT' })).toBe(1);
      // The share's commits and flushes are timed too, synced ones apart from those that did not wait for the disk.
      // A commit in the background (atime, every second) can land between two series of one scrape: scrape until they agree.
      await vi.waitFor(async () => {
        const now = await scrape();
        const since = (name: string, labels: Record<string, string>) => (sampleValue(now, name, labels) ?? 0) - (sampleValue(before, name, labels) ?? 0);
        const share = { share: 'metered' };
        const synced = since('strata_share_metadata_commit_duration_seconds_count', { ...share, kind: 'synced' });
        expect(synced).toBeGreaterThanOrEqual(2); // the FILE_SYNC WRITE and the COMMIT at least
        expect(synced).toBe(since('strata_share_metadata_syncs_total', share));
        expect(synced + since('strata_share_metadata_commit_duration_seconds_count', { ...share, kind: 'applied' })).toBe(since('strata_share_metadata_commits_total', share));
        expect(since('strata_share_metadata_commit_duration_seconds_sum', { ...share, kind: 'synced' })).toBeGreaterThan(0);
        expect(since('strata_share_data_flush_duration_seconds_count', share)).toBe(since('strata_share_data_flushes_total', share));
        expect(since('strata_share_data_flush_duration_seconds_count', share)).toBeGreaterThanOrEqual(1);
      });
      // The share's volume shows the same data going to the pool.
      expect(sampleValue(after, 'strata_volume_bytes_total', { volume: 'share:metered', pool: 'default', op: 'write' })!).toBeGreaterThanOrEqual(MiB + 123);
    } finally {
      await c.close();
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(sampleValue(await scrape(), 'strata_nfs_connections')).toBe(0);
  });

  it('counts NFSv4.1 operations, failed results by status, slot replays, file bytes, and shows clients, sessions, opens and locks', async () => {
    const before = await scrape();
    const c = await Nfs4TestClient.connect(nasPorts(gw).nfs);
    try {
      await c.mount();
      const dir = await c.fh('/metered');
      const { fh, stateid } = await c.open(dir, 'v4.bin', { create: true });
      const data = randomBytes(10_000);
      await c.write(fh, stateid, 0, data);
      expect((await c.read(fh, stateid, 0, 20_000)).data.equals(data)).toBe(true);
      await c.call([{ argop: OP.OP_PUTFH, args: fh }, { argop: OP.OP_LOCK, args: { locktype: 2, reclaim: false, offset: 0n, length: 100n, locker: { new_lock_owner: true, open_owner: { open_seqid: 0, open_stateid: stateid, lock_seqid: 0, lock_owner: { clientid: c.clientid, owner: Buffer.from('locker') } } } } }]);
      const missing = await c.send([{ argop: OP.OP_PUTFH, args: dir }, { argop: OP.OP_LOOKUP, args: 'missing' }]);
      expect(missing.status).toBe(nfsstat4.NFS4ERR_NOENT);
      // The same slot and sequence id again: answered from the slot, not run.
      const again = await c.send([{ argop: OP.OP_PUTFH, args: dir }, { argop: OP.OP_LOOKUP, args: 'missing' }], { seqid: c.seqid });
      expect(again.status).toBe(nfsstat4.NFS4ERR_NOENT);
      // Minor version 0 is not served.
      expect((await c.raw([{ argop: OP.OP_PUTROOTFH, args: undefined }], { minorversion: 0 })).status).toBe(nfsstat4.NFS4ERR_MINOR_VERS_MISMATCH);

      const during = await scrape();
      const delta = (name: string, labels: Record<string, string> = {}) => (sampleValue(during, name, labels) ?? 0) - (sampleValue(before, name, labels) ?? 0);
      expect(delta('strata_nfs4_operations_total', { operation: 'OPEN' })).toBe(1);
      expect(delta('strata_nfs4_operations_total', { operation: 'WRITE' })).toBe(1);
      expect(delta('strata_nfs4_operations_total', { operation: 'READ' })).toBe(1);
      expect(delta('strata_nfs4_operations_total', { operation: 'LOCK' })).toBe(1);
      // One LOOKUP down to the share, one that failed; the replay ran nothing.
      expect(delta('strata_nfs4_operations_total', { operation: 'LOOKUP' })).toBe(2);
      expect(delta('strata_nfs4_operations_total', { operation: 'EXCHANGE_ID' })).toBe(1);
      // Each operation that ran is timed, failed ones too (the LOOKUP of 'missing'); the replay ran nothing.
      expect(delta('strata_nfs4_operation_duration_seconds_count', { operation: 'OPEN' })).toBe(1);
      expect(delta('strata_nfs4_operation_duration_seconds_count', { operation: 'LOOKUP' })).toBe(2);
      expect(delta('strata_nfs4_operation_duration_seconds_sum', { operation: 'WRITE' })).toBeGreaterThan(0);
      expect(delta('strata_nfs4_operation_duration_seconds_count', { operation: 'SEQUENCE' })).toBe(delta('strata_nfs4_operations_total', { operation: 'SEQUENCE' }));
      expect(delta('strata_nfs4_replays_total')).toBe(1);
      expect(delta('strata_nfs_errors_total', { status: 'NFS4ERR_NOENT' })).toBe(1);
      expect(delta('strata_nfs_errors_total', { status: 'NFS4ERR_MINOR_VERS_MISMATCH' })).toBe(1);
      expect(delta('strata_nfs_written_bytes_total')).toBe(10_000);
      expect(delta('strata_nfs_read_bytes_total')).toBe(10_000);
      expect(sampleValue(during, 'strata_nfs4_clients')).toBe(1);
      expect(sampleValue(during, 'strata_nfs4_sessions')).toBe(1);
      expect(sampleValue(during, 'strata_nfs4_opens')).toBe(1);
      expect(sampleValue(during, 'strata_nfs4_locks')).toBe(1);
      expect(sampleValue(during, 'strata_nfs4_grace')).toBe(0);
      // The test client asks 8 slots of 64 KiB cached replies; its last replies were small and kept unasked.
      expect(sampleValue(during, 'strata_nfs4_reply_cache_bytes', { kind: 'reserved' })).toBe(8 * 65536);
      expect(sampleValue(during, 'strata_nfs4_reply_cache_bytes', { kind: 'unasked' })).toBeGreaterThan(0);
    } finally {
      await c.destroy();
    }
    const after = await scrape();
    expect(sampleValue(after, 'strata_nfs4_clients')).toBe(0);
    expect(sampleValue(after, 'strata_nfs4_sessions')).toBe(0);
    expect(sampleValue(after, 'strata_nfs4_opens')).toBe(0);
    expect(sampleValue(after, 'strata_nfs4_locks')).toBe(0);
    expect(sampleValue(after, 'strata_nfs4_reply_cache_bytes', { kind: 'reserved' })).toBe(0);
    expect(sampleValue(after, 'strata_nfs4_reply_cache_bytes', { kind: 'unasked' })).toBe(0);
  });
});
