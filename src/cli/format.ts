import Table from 'cli-table3';
import { formatSize } from '../common/size';

/** Borderless, uncoloured, two spaces between columns: readable, and easy to grep or awk. */
const PLAIN: Partial<Record<Table.CharName, string>> = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '',
  right: '', 'right-mid': '', middle: '  ',
};

const STYLE = { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true };

export type Cell = string | number | null | undefined;

const text = (c: Cell) => (c === null || c === undefined || c === '' ? '-' : String(c));

/** A list: one row per object, upper-case headings. */
export function table(head: string[], rows: Cell[][]): string {
  const t = new Table({ head, chars: PLAIN, style: STYLE });
  t.push(...rows.map((r) => r.map(text)));
  // cli-table3 pads the last column too; trailing blanks only get in the way of diff and grep.
  return t.toString().split('\n').map((l) => l.trimEnd()).join('\n');
}

/** One object: a vertical key/value table. */
export function details(pairs: Array<[string, Cell]>): string {
  const t = new Table({ chars: PLAIN, style: STYLE });
  t.push(...pairs.map(([k, v]) => [`${k}:`, text(v)]));
  return t.toString().split('\n').map((l) => l.trimEnd()).join('\n');
}

export const size = (bytes: number) => formatSize(bytes);

/** Sizes an admin may want to copy exactly: `10 GiB (10737418240 bytes)`. */
export const sizeExact = (bytes: number) => (bytes < 1024 ? formatSize(bytes) : `${formatSize(bytes)} (${bytes} bytes)`);

/** ISO times without the milliseconds: `2025-01-31 14:03:59Z`. */
export const time = (iso: string | null | undefined) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : null);

export const percent = (part: number, whole: number) => (whole > 0 ? `${((part / whole) * 100).toFixed(0)}%` : '-');

export function duration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  return m > 0 ? `${m}m ${seconds % 60}s` : `${seconds}s`;
}

/** Transfer rate the way dd and curl say it: decimal megabytes per second. */
export const rate = (bytes: number, seconds: number) => `${(bytes / 1e6 / Math.max(seconds, 1e-3)).toFixed(1)} MB/s`;
