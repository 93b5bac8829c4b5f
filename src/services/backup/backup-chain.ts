import { DIGEST_BYTES, pageCount, type BackupManifest, type BackupRun } from './backup-manifest';

/** A chain that cannot make an image: wrong order, mixed volumes, or bytes nobody carries. */
export class ChainError extends Error {
  constructor(message: string) {
    super(`backup chain: ${message}`);
    this.name = 'ChainError';
  }
}

/** A stretch of the restored image: read from chain[source] at the same offset, or zeros (source null). */
export interface ChainSegment {
  offset: number;
  length: number;
  source: number | null;
}

/**
 * Where each byte of the newest backup's image comes from: a full backup and
 * the incrementals after it, oldest first; every page from the newest backup
 * that carries it. Adjacent pages of one source merge into one segment.
 */
export function composeChain(chain: readonly BackupManifest[]): ChainSegment[] {
  if (chain.length === 0) throw new ChainError('no backups given');
  if (chain[0].kind !== 'full') throw new ChainError(`it starts with ${chain[0].kind} backup ${chain[0].id}, not a full one`);
  for (let i = 1; i < chain.length; i++) {
    const b = chain[i];
    if (b.kind !== 'incremental') throw new ChainError(`backup ${b.id} is ${b.kind}: only the first of a chain may be full`);
    if (b.parent !== chain[i - 1].id) throw new ChainError(`backup ${b.id} follows ${b.parent}, not ${chain[i - 1].id}`);
    if (b.pageSize !== chain[0].pageSize) throw new ChainError(`backup ${b.id} has ${b.pageSize}-byte pages, the chain ${chain[0].pageSize}`);
    if (b.source.id !== chain[0].source.id) throw new ChainError(`backup ${b.id} is of volume ${b.source.name}, the chain of ${chain[0].source.name}`);
  }
  const last = chain[chain.length - 1];
  const { size, pageSize } = last;
  const pages = pageCount(size, pageSize);
  /** Per page: the chain index carrying it as data, ZERO, or NONE. */
  const owner = new Int32Array(pages).fill(NONE);
  /** How far into the page its carrier reaches (a smaller, older image ends inside its last page). */
  const reach = new Float64Array(pages);
  chain.forEach((b, i) => {
    for (const r of b.runs) {
      const end = r.offset + r.length;
      for (let p = r.offset / pageSize; p * pageSize < end && p < pages; p++) {
        owner[p] = r.kind === 'data' ? i : ZERO;
        reach[p] = Math.min((p + 1) * pageSize, end);
      }
    }
  });
  const segments: ChainSegment[] = [];
  for (let p = 0; p < pages; p++) {
    const offset = p * pageSize;
    const length = Math.min(pageSize, size - offset);
    if (owner[p] === NONE || reach[p] < offset + length) {
      throw new ChainError(`no backup up to ${last.id} carries bytes [${owner[p] === NONE ? offset : reach[p]}, ${offset + length})`);
    }
    const source = owner[p] === ZERO ? null : owner[p];
    const prev = segments[segments.length - 1];
    if (prev && prev.source === source && prev.offset + prev.length === offset) prev.length += length;
    else segments.push({ offset, length, source });
  }
  return segments;
}

const NONE = -2;
const ZERO = -1;

/**
 * The runs a backup carries: the changed runs of its snapshot, plus, when the
 * volume grew since the parent, the parent's short last page (its bytes past
 * the old end are now part of the page, so its digest changed with no write).
 */
export function backupRuns(changed: readonly BackupRun[], parentSize: number | null, size: number, pageSize: number): BackupRun[] {
  const runs = changed.map((r) => ({ ...r }));
  if (parentSize === null || parentSize === size || parentSize % pageSize === 0) return runs;
  const tail = Math.floor(parentSize / pageSize) * pageSize;
  const tailEnd = Math.min(tail + pageSize, size);
  if (runs.some((r) => r.offset <= tail && r.offset + r.length >= tailEnd)) return runs;
  // Read it as data: an unmapped page reads as zeros, so the copy is right either way.
  const at = runs.findIndex((r) => r.offset > tail);
  runs.splice(at < 0 ? runs.length : at, 0, { offset: tail, length: tailEnd - tail, kind: 'data' });
  return runs;
}

/** The parent's page digests, as many as the new image has pages (pages past its end start as unknown zeros). */
export function carriedDigests(parent: Buffer | null, pages: number): Buffer {
  const out = Buffer.alloc(pages * DIGEST_BYTES);
  parent?.copy(out, 0, 0, Math.min(parent.length, out.length));
  return out;
}
