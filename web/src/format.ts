/**
 * How numbers read in the console. Sizes use binary units spelled like the
 * CLI's (`64 MiB`), so what an admin sees here matches `strata volume list`.
 */

const BINARY_UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  let v = bytes;
  let i = -1;
  while (v >= 1024 && i < BINARY_UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  const text = v >= 100 || Number.isInteger(v) ? v.toFixed(0) : v.toFixed(v >= 10 ? 1 : 2);
  return `${text} ${BINARY_UNITS[i]}`;
}

/** Exact sizes for copying: `64 MiB (67108864 bytes)`. */
export const formatSizeExact = (bytes: number) => (bytes < 1024 ? formatSize(bytes) : `${formatSize(bytes)} (${bytes.toLocaleString('en-US')} bytes)`);

export const formatRate = (bytesPerSecond: number) => `${formatSize(Math.round(bytesPerSecond))}/s`;

/** Operation counts: 950, 12.3k, 4.1M. */
export function formatCount(n: number): string {
  const abs = Math.abs(n);
  if (abs < 1000) return Number.isInteger(n) ? String(n) : n.toFixed(abs < 10 ? 1 : 0);
  if (abs < 1e6) return `${(n / 1e3).toFixed(abs < 1e4 ? 1 : 0)}k`;
  return `${(n / 1e6).toFixed(abs < 1e7 ? 1 : 0)}M`;
}

export function formatMs(ms: number): string {
  // Axis labels are round numbers: 50 ms, not 50.0 ms.
  if (Number.isInteger(ms)) return `${ms} ms`;
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  return `${Math.round(ms)} ms`;
}

export function percent(part: number, whole: number): string {
  if (whole <= 0) return '–';
  const p = (part / whole) * 100;
  // 0.3% of a big pool is not 0%: say so.
  if (p > 0 && p < 1) return '<1%';
  return `${Math.round(p)}%`;
}

/** ISO time as the CLI prints it, in UTC: `2025-01-31 14:03:59Z`. */
export const formatTime = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');

/** Times of day for chart axes, in the browser's zone (the admin's clock). */
export const formatClock = (ms: number) => new Date(ms).toLocaleTimeString('en-GB', { hour12: false });

export type SizeUnit = 'K' | 'M' | 'G' | 'T';
export const SIZE_UNITS: ReadonlyArray<{ unit: SizeUnit; label: string }> = [
  { unit: 'K', label: 'KiB' },
  { unit: 'M', label: 'MiB' },
  { unit: 'G', label: 'GiB' },
  { unit: 'T', label: 'TiB' },
];

/**
 * A number typed in a size field plus its unit, as the API reads sizes ('1.5G').
 * null when the number is not a positive decimal: the form says so before
 * anything is sent.
 */
export function sizeText(amount: string, unit: SizeUnit): string | null {
  const a = amount.trim();
  if (!/^\d+(\.\d+)?$/.test(a) || Number(a) <= 0) return null;
  return `${a}${unit}`;
}

/** `volume.create` → `volume`; the audit filter matches by prefix. */
export function actionPrefix(input: string): string | undefined {
  const a = input.trim();
  if (!a) return undefined;
  return a.endsWith('*') ? a : `${a}*`;
}

/** Plural nouns for counts: `1 volume`, `3 volumes`. */
export const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
