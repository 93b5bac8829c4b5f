import type { ChangedRun } from '../virtualization/page-diff';

/** Where the copy of a cycle's runs stands: everything before it is durable on the target. */
export interface CyclePosition {
  /** Index in the run list. */
  run: number;
  /** Bytes of that run already copied. */
  offset: number;
}

/** What a cycle writes to: the replica volume on the target gateway, over SAN. */
export interface ReplicaTarget {
  readonly size: number;
  write(offset: number, data: Buffer): Promise<void>;
  writeZeroes(offset: number, length: number): Promise<void>;
  /** Durable once every write issued before it is. */
  flush(): Promise<void>;
  /** REPLICA_COMMIT: the target snapshots the replica as this cycle (a share's with its metadata database's length and SHA-256). */
  commit(cycle: number, metadata?: { length: number; sha256: Buffer }): Promise<void>;
  /** REPLICA_META: bytes of a share's metadata database for `cycle`, onto a copy of cycle `base`'s (0: empty). */
  metadata(cycle: number, base: number, offset: number, data: Buffer): Promise<void>;
}

/** What a cycle reads from: the cycle's snapshot on this gateway. */
export interface CycleSource {
  readonly size: number;
  readInto(offset: number, buf: Buffer): Promise<void>;
}

export interface CopyOptions {
  runs: readonly ChangedRun[];
  /** Resume point (from the job's checkpoint), or null: from the start. */
  from: CyclePosition | null;
  /** Bytes per WRITE (at most the target's max transfer). */
  chunk: number;
  /** WRITEs in flight at once. */
  depth: number;
  /** Bytes per WRITE ZEROES (they move no data, but bound how long one call takes). */
  zeroChunk: number;
  /** Checkpoint after at least this many bytes (data and zeroed) since the last one… */
  checkpointBytes: number;
  /** …or this long, whichever comes first (each one costs a FLUSH on the target and a catalog write). */
  checkpointMs: number;
  stopping(): boolean;
  /** Before `bytes` of data go out: the bandwidth limit waits here, so nothing is issued ahead of it. */
  admit(bytes: number): Promise<void>;
  /** `bytes` of data reached the target (progress). */
  sent(bytes: number): void;
  /** The target flushed everything before `at`: save it as the resume point. */
  checkpoint(at: CyclePosition): Promise<void>;
}

/** The copy stopped at a safe point because the job is stopping (cancel, shutdown). */
export class CycleStopped extends Error {
  constructor(readonly at: CyclePosition) {
    super('replication cycle stopped');
    this.name = 'CycleStopped';
  }
}

interface Piece {
  kind: ChangedRun['kind'];
  offset: number;
  length: number;
  /** The position right after this piece. */
  end: CyclePosition;
}

/** The runs from `from` on, cut into WRITE / WRITE ZEROES sized pieces, in order. */
export function* pieces(runs: readonly ChangedRun[], from: CyclePosition | null, chunk: number, zeroChunk: number): Generator<Piece> {
  for (let i = from?.run ?? 0; i < runs.length; i++) {
    const r = runs[i];
    const step = r.kind === 'data' ? chunk : zeroChunk;
    for (let done = i === from?.run ? from.offset : 0; done < r.length; ) {
      const length = Math.min(step, r.length - done);
      const last = done + length === r.length;
      yield { kind: r.kind, offset: r.offset + done, length, end: last ? { run: i + 1, offset: 0 } : { run: i, offset: done + length } };
      done += length;
    }
  }
}

/**
 * Copy a cycle's changed runs from the snapshot to the replica: data runs as
 * WRITE (several in flight), zero runs as WRITE ZEROES. Pieces finish out
 * of order, so the resume point is the end of the longest finished prefix,
 * saved only after a FLUSH on the target made that prefix durable.
 */
export async function copyRuns(source: CycleSource, target: ReplicaTarget, o: CopyOptions): Promise<CyclePosition> {
  let safe: CyclePosition = o.from ?? { run: 0, offset: 0 };
  const ends: CyclePosition[] = [];
  const finished = new Set<number>();
  let next = 0;
  let firstOpen = 0;
  let sinceCheckpoint = 0;
  let checkpointAt = Date.now();
  const inflight = new Set<Promise<void>>();
  let failure: unknown = null;

  const advance = () => {
    while (finished.has(firstOpen)) {
      finished.delete(firstOpen);
      safe = ends[firstOpen];
      firstOpen++;
    }
  };

  const send = async (p: Piece, index: number): Promise<void> => {
    if (p.kind === 'data') {
      const buf = Buffer.allocUnsafe(p.length);
      await source.readInto(p.offset, buf);
      await target.write(p.offset, buf);
      o.sent(p.length);
    } else {
      await target.writeZeroes(p.offset, p.length);
    }
    finished.add(index);
    sinceCheckpoint += p.length;
  };

  // One checkpoint at a time, beside the copy: the FLUSH covers every write that finished before it was sent,
  // so the finished prefix taken now is durable once it returns, while later writes keep the pipeline full.
  let saving: Promise<void> | null = null;
  const startCheckpoint = () => {
    advance();
    const at = safe;
    sinceCheckpoint = 0;
    checkpointAt = Date.now();
    saving = target
      .flush()
      .then(() => o.checkpoint(at))
      .then(
        () => {
          saving = null;
        },
        (e: unknown) => {
          saving = null;
          failure ??= e;
        },
      );
  };

  for (const p of pieces(o.runs, o.from, o.chunk, o.zeroChunk)) {
    if (failure) break;
    if (o.stopping()) break;
    while (inflight.size >= o.depth) await Promise.race(inflight);
    if (p.kind === 'data') await o.admit(p.length);
    if (failure || o.stopping()) break;
    const index = next++;
    ends[index] = p.end;
    const task: Promise<void> = send(p, index).then(
      () => {
        inflight.delete(task);
      },
      (e: unknown) => {
        inflight.delete(task);
        failure ??= e;
      },
    );
    inflight.add(task);
    if (!saving && (sinceCheckpoint >= o.checkpointBytes || (sinceCheckpoint > 0 && Date.now() - checkpointAt >= o.checkpointMs))) startCheckpoint();
  }
  await Promise.all(inflight);
  if (saving) await saving;
  advance();
  if (failure) {
    // What finished before the failure is worth keeping: a flush makes it durable if the target still answers.
    await target.flush().then(() => o.checkpoint(safe), () => undefined);
    throw failure;
  }
  if (o.stopping() && (safe.run < o.runs.length)) {
    await target.flush().then(() => o.checkpoint(safe), () => undefined);
    throw new CycleStopped(safe);
  }
  return safe;
}
