import { InvalidArgument } from '../common/errors';
import type { LogicalDisk } from './logical-disk';

/** A run of logical pages that differ between two point-in-time copies. */
export interface ChangedRun {
  /** Byte offset of the run in the volume. */
  offset: number;
  /** Bytes in the run (the last run stops at the newer copy's end). */
  length: number;
  /** 'data': copy these bytes from the newer copy; 'zero': the newer copy has no pages here (reads as zeros). */
  kind: 'data' | 'zero';
}

/**
 * What changed from `base` to `next`, two snapshots of one family (a volume's
 * snapshots, or a snapshot and the clone it came from), in pages.
 *
 * Redirect-on-write makes this a comparison of maps, without reading data:
 * while `base` holds a pool page, a write to any map sharing it moves the
 * writer to a new page, so a logical page that maps to the same pool page in
 * both copies has the same bytes. That holds only while `base` still exists;
 * callers keep the base snapshot until the copy made from the diff is done.
 *
 * With no base, every mapped page is 'data' and every unmapped one 'zero' (a
 * full copy). Adjacent pages of one kind are merged into one run.
 */
export function changedRuns(base: LogicalDisk | null, next: LogicalDisk): ChangedRun[] {
  if (base && base.family !== next.family) {
    throw new InvalidArgument(`'${base.name}' and '${next.name}' do not share pages: an incremental copy needs two snapshots of one volume`, 'base');
  }
  if (base && base.pageSize !== next.pageSize) throw new InvalidArgument('the two copies are in pools of different page sizes', 'base');
  const pageSize = next.pageSize;
  const pages = Math.ceil(next.size / pageSize);
  const nextMap = physicalByLogical(next, pages);
  const baseMap = base ? physicalByLogical(base, pages) : null;
  const baseCovered = base ? Math.ceil(base.size / pageSize) : 0;
  const runs: ChangedRun[] = [];
  for (let page = 0; page < pages; page++) {
    const now = nextMap[page];
    let kind: ChangedRun['kind'] | null;
    if (!baseMap) kind = now < 0 ? 'zero' : 'data';
    else if (now >= 0) kind = baseMap[page] === now ? null : 'data';
    // Unmapped now: zeros, a change only if the base had data there (or did not reach this far and so never said).
    else kind = baseMap[page] >= 0 || page >= baseCovered ? 'zero' : null;
    if (kind === null) continue;
    const offset = page * pageSize;
    const length = Math.min(pageSize, next.size - offset);
    const last = runs[runs.length - 1];
    if (last && last.kind === kind && last.offset + last.length === offset) last.length += length;
    else runs.push({ offset, length, kind });
  }
  return runs;
}

/** Bytes a list of runs would copy ('data' runs) and zero ('zero' runs). */
export function runTotals(runs: readonly ChangedRun[]): { data: number; zero: number } {
  let data = 0;
  let zero = 0;
  for (const r of runs) {
    if (r.kind === 'data') data += r.length;
    else zero += r.length;
  }
  return { data, zero };
}

function physicalByLogical(disk: LogicalDisk, pages: number): Int32Array {
  const map = new Int32Array(pages).fill(-1);
  for (const { logical, physical } of disk.mappings()) if (logical < pages) map[logical] = physical;
  return map;
}
