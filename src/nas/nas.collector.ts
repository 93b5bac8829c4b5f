import { Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { LATENCY_BUCKETS_SECONDS, type LatencyHistogram } from '../common/latency-histogram';
import { opName } from '../protocols/nfs4/ops.codec';
import { LiveHistogram } from '../metrics/live-histogram';
import { MetricsRegistry } from '../metrics/metrics-registry';
import type { RpcStats } from './rpc/rpc-dispatcher';
import { NasService, type ShareDurability } from './nas.service';
import type { Nfs4Server } from './nfs4/nfs4-server';

/** RPC replies that were not a result, by why: one bounded label. */
const RPC_REJECTS: ReadonlyArray<[keyof RpcStats, string]> = [
  ['errors', 'system_err'],
  ['progUnavail', 'prog_unavail'],
  ['progMismatch', 'prog_mismatch'],
  ['procUnavail', 'proc_unavail'],
  ['denied', 'denied'],
  ['dropped', 'dropped'],
];

/** "<program>v<version>.<procedure>", as the dispatcher names calls, into metric labels. */
function procLabels(key: string): { program: string; version: string; procedure: string } | null {
  const m = /^(.+)v(\d+)\.(.+)$/.exec(key);
  return m ? { program: m[1].toLowerCase(), version: m[2], procedure: m[3] } : null;
}

const series = <T extends string>(labels: Record<T, string>, h: LatencyHistogram) => ({ labels, counts: h.counts, sum: h.sumSeconds });

/**
 * NFS series, read from the NAS front end's plain counters at every scrape:
 * calls by program and procedure (NFSv3, NFSv4.1 and MOUNT share one RPC
 * server), NFSv4.1 operations inside COMPOUNDs, errors by status (NFSv3 and
 * NFSv4.1), garbage, RPC-level refusals, retransmissions answered from the
 * duplicate request cache or a session slot, connections, file bytes read and
 * written, and the NFSv4.1 state in force (clients, sessions, opens, locks,
 * grace). Labels come from fixed tables (procedure and operation names,
 * nfsstat3 and nfsstat4).
 */
@Injectable()
export class NasCollector {
  constructor(metrics: MetricsRegistry, nas: NasService) {
    const registers = [metrics.registry];
    const counter = (name: string, help: string, read: (s: RpcStats) => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          const s = nas.stats();
          this.reset();
          if (s) this.inc(read(s));
        },
      });
    new Counter<'program' | 'version' | 'procedure'>({
      name: 'strata_nfs_calls_total',
      help: 'NFS and MOUNT calls run, by program, version and procedure.',
      labelNames: ['program', 'version', 'procedure'],
      registers,
      collect() {
        const s = nas.stats();
        this.reset();
        if (!s) return;
        for (const [key, n] of Object.entries(s.byProc)) {
          const labels = procLabels(key);
          if (labels) this.inc(labels, n);
        }
      },
    });
    new LiveHistogram<'program' | 'version' | 'procedure'>({
      name: 'strata_nfs_call_duration_seconds',
      help: 'Time an NFS or MOUNT call took in the gateway, from its dispatch to its reply being ready to send (decode, run, encode), by program, version and procedure. Time a call waited on its connection before dispatch (more calls in flight than the connection runs at once) is not counted, nor is sending the reply. Procedures not called yet are left out.',
      labelNames: ['program', 'version', 'procedure'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
      collect: () => {
        const s = nas.stats();
        if (!s) return [];
        return Object.entries(s.latency).flatMap(([key, h]) => {
          const labels = procLabels(key);
          return labels && h.count > 0 ? [series(labels, h)] : [];
        });
      },
    });
    new Counter<'status'>({
      name: 'strata_nfs_errors_total',
      help: 'NFSv3 replies and NFSv4.1 COMPOUND replies with a status other than OK, by status (NFS3ERR_* or NFS4ERR_*).',
      labelNames: ['status'],
      registers,
      collect() {
        this.reset();
        for (const [status, n] of Object.entries(nas.nfsCounters.errors)) this.inc({ status }, n);
      },
    });
    new Counter<'reason'>({
      name: 'strata_nfs_rpc_rejected_total',
      help: 'RPC calls answered without running the procedure (or not answered), by reason.',
      labelNames: ['reason'],
      registers,
      collect() {
        const s = nas.stats();
        this.reset();
        if (s) for (const [field, reason] of RPC_REJECTS) this.inc({ reason }, s[field] as number);
      },
    });
    const fsCounter = (name: string, help: string, read: (s: ShareDurability) => number) =>
      new Counter<'share'>({
        name,
        help,
        labelNames: ['share'],
        registers,
        collect() {
          this.reset();
          for (const s of nas.filesystemStats()) this.inc({ share: s.share }, read(s));
        },
      });
    fsCounter('strata_share_metadata_commits_total', "Metadata transactions of a share's filesystem since it was mounted (every share commits before each namespace reply).", (s) => s.commits);
    fsCounter(
      'strata_share_metadata_syncs_total',
      "Metadata commits of a share's filesystem that waited for the disk (fsync) since it was mounted: each one on a sync share, about one a second on an async share.",
      (s) => s.syncs,
    );
    fsCounter('strata_share_data_flushes_total', "Flushes of a share's volume before metadata that points at new data commits, since it was mounted.", (s) => s.flushes);
    new LiveHistogram<'share' | 'kind'>({
      name: 'strata_share_metadata_commit_duration_seconds',
      help: "How long a share's metadata commits took since it was mounted, the SQLite transaction included: kind=synced waited for the disk (the WAL's fsync: every namespace change on a sync share; COMMIT, FILE_SYNC and the once-a-second background commit on any), kind=applied did not (namespace changes on an async share); synced minus applied is about the fsync.",
      labelNames: ['share', 'kind'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
      collect: () =>
        nas.filesystemStats().flatMap((s) => [
          series({ share: s.share, kind: 'synced' }, s.commitLatency.synced),
          series({ share: s.share, kind: 'applied' }, s.commitLatency.applied),
        ]),
    });
    new LiveHistogram<'share'>({
      name: 'strata_share_data_flush_duration_seconds',
      help: "How long the flushes of a share's volume before a metadata commit took, since it was mounted.",
      labelNames: ['share'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
      collect: () => nas.filesystemStats().map((s) => series({ share: s.share }, s.flushLatency)),
    });
    counter('strata_nfs_garbage_total', 'RPC messages too malformed to run: unreadable headers (dropped) and GARBAGE_ARGS replies.', (s) => s.garbage);
    counter('strata_nfs_record_errors_total', 'Connections closed for breaking record marking (oversized or unframed records).', (s) => s.recordErrors);
    counter('strata_nfs_retransmitted_calls_total', 'Retransmitted non-idempotent calls answered from the duplicate request cache.', (s) => s.drcHits);
    counter('strata_nfs_connections_total', 'NFS and MOUNT connections accepted.', (s) => s.connections);
    new Gauge({
      name: 'strata_nfs_connections',
      help: 'NFS and MOUNT connections open now.',
      registers,
      collect() {
        this.set(nas.stats()?.activeConnections ?? 0);
      },
    });
    new Counter({
      name: 'strata_nfs_read_bytes_total',
      help: 'File data returned by NFS READ (v3 and v4.1).',
      registers,
      collect() {
        this.reset();
        this.inc(nas.nfsCounters.readBytes);
      },
    });
    new Counter({
      name: 'strata_nfs_written_bytes_total',
      help: 'File data accepted by NFS WRITE (v3 and v4.1).',
      registers,
      collect() {
        this.reset();
        this.inc(nas.nfsCounters.writtenBytes);
      },
    });
    new Counter<'operation'>({
      name: 'strata_nfs4_operations_total',
      help: 'NFSv4.1 operations answered inside COMPOUNDs, by operation (SEQUENCE, OPEN, WRITE, ...; those refused without running included).',
      labelNames: ['operation'],
      registers,
      collect() {
        this.reset();
        for (const [op, n] of Object.entries(nas.nfsCounters.nfs4Operations)) this.inc({ operation: opName(Number(op)) }, n);
      },
    });
    new LiveHistogram<'operation'>({
      name: 'strata_nfs4_operation_duration_seconds',
      help: 'How long NFSv4.1 operations inside COMPOUNDs took, by operation, from their arguments decoded to their result encoded (SEQUENCE: its slot and session checks); failed results included, operations refused without running not. Operations not run yet are left out.',
      labelNames: ['operation'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
      collect: () => Object.entries(nas.nfsCounters.nfs4OperationLatency).map(([op, h]) => series({ operation: opName(Number(op)) }, h)),
    });
    new Counter({
      name: 'strata_nfs4_replays_total',
      help: "NFSv4.1 COMPOUNDs retransmitted on a session slot, answered from the slot's reply cache (or NFS4ERR_RETRY_UNCACHED_REP when the reply was not kept), never run again.",
      registers,
      collect() {
        this.reset();
        this.inc(nas.nfsCounters.nfs4Replays);
      },
    });
    const nfs4Gauge = (name: string, help: string, read: (nfs4: Nfs4Server) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(nas.nfs4 ? read(nas.nfs4) : 0);
        },
      });
    nfs4Gauge('strata_nfs4_clients', 'NFSv4.1 client ids confirmed and holding a lease (expired ones go within a second).', (n) => n.clients.counts().clients);
    nfs4Gauge('strata_nfs4_sessions', 'NFSv4.1 sessions open.', (n) => n.clients.counts().sessions);
    nfs4Gauge('strata_nfs4_opens', 'NFSv4.1 open states (an open owner on a file) held by clients.', (n) => n.state.counts().opens);
    nfs4Gauge('strata_nfs4_locks', 'NFSv4.1 byte-range locks held by clients.', (n) => n.state.counts().locks);
    new Gauge<'kind'>({
      name: 'strata_nfs4_reply_cache_bytes',
      help: "NFSv4.1 session reply cache: bytes reserved by open sessions for replies clients ask to be kept (kind=reserved, bounds the slots new sessions get), and bytes of replies kept unasked (kind=unasked).",
      labelNames: ['kind'],
      registers,
      collect() {
        const counts = nas.nfs4?.clients.counts();
        this.set({ kind: 'reserved' }, counts?.reservedBytes ?? 0);
        this.set({ kind: 'unasked' }, counts?.unaskedBytes ?? 0);
      },
    });
    nfs4Gauge('strata_nfs4_grace', '1 while the grace period after a restart lets clients reclaim their state (new opens and locks wait), else 0.', (n) => (n.clients.graceActive() ? 1 : 0));
  }
}
