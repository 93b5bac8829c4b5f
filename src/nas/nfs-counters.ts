import type { LatencyHistogram } from '../common/latency-histogram';

/** What the NFS handlers (v3 and v4.1) count for metrics; RPC-level counts are the RPC server's. */
export interface NfsCounters {
  /** File data returned by READ. */
  readBytes: number;
  /** File data accepted by WRITE. */
  writtenBytes: number;
  /** NFSv3 replies and NFSv4.1 COMPOUND replies with a status other than OK, by status name (NFS3ERR_NOENT, NFS4ERR_STALE, ...). */
  errors: Record<string, number>;
  /** NFSv4.1 operations answered, by operation number (named at scrape time), SEQUENCE and those refused without running (NOTSUPP, ILLEGAL) included. */
  nfs4Operations: Record<number, number>;
  /** How long NFSv4.1 operations that ran took, by operation number: from their arguments decoded to their result encoded (SEQUENCE: its slot and session checks). */
  nfs4OperationLatency: Record<number, LatencyHistogram>;
  /** NFSv4.1 COMPOUNDs retransmitted on a session slot: answered from its reply cache, or NFS4ERR_RETRY_UNCACHED_REP, never run again. */
  nfs4Replays: number;
}

export const emptyNfsCounters = (): NfsCounters => ({ readBytes: 0, writtenBytes: 0, errors: {}, nfs4Operations: {}, nfs4OperationLatency: {}, nfs4Replays: 0 });

/** Count one under a key (a status name, an operation number). */
export function countName<K extends string | number>(table: Record<K, number>, key: K): void {
  table[key] = (table[key] ?? 0) + 1;
}
