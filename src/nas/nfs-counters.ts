/** What the NFS handlers (v3 and v4.1) count for metrics; RPC-level counts are the RPC server's. */
export interface NfsCounters {
  /** File data returned by READ. */
  readBytes: number;
  /** File data accepted by WRITE. */
  writtenBytes: number;
  /** NFSv3 replies and NFSv4.1 COMPOUND replies with a status other than OK, by status name (NFS3ERR_NOENT, NFS4ERR_STALE, ...). */
  errors: Record<string, number>;
  /** NFSv4.1 operations answered, by name (OPEN, WRITE, ...), SEQUENCE and those refused without running (NOTSUPP, ILLEGAL) included. */
  nfs4Operations: Record<string, number>;
  /** NFSv4.1 COMPOUNDs retransmitted on a session slot: answered from its reply cache, or NFS4ERR_RETRY_UNCACHED_REP, never run again. */
  nfs4Replays: number;
}

export const emptyNfsCounters = (): NfsCounters => ({ readBytes: 0, writtenBytes: 0, errors: {}, nfs4Operations: {}, nfs4Replays: 0 });

/** Count one under a name (a status or an operation). */
export function countName(table: Record<string, number>, name: string): void {
  table[name] = (table[name] ?? 0) + 1;
}
