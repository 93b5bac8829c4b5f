import { InvalidArgument } from './errors';

/**
 * Sizes are bytes, or a number with a binary unit: `512M`, `10G`, `1.5T`,
 * `64KiB`. K/M/G/T/P are powers of 1024 whatever the spelling (`G`, `GB`,
 * `GiB`), as LVM and qemu-img read them.
 */
const UNITS: Record<string, number> = { '': 1, B: 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40, P: 2 ** 50 };
const SIZE_RE = /^\s*(\d+(?:\.\d+)?)\s*([KMGTP]?)(?:I?B)?\s*$/i;

export function parseSize(input: unknown, field = 'size'): number {
  if (typeof input === 'number') {
    if (!Number.isSafeInteger(input) || input < 0) {
      throw new InvalidArgument(`${field} must be a whole number of bytes >= 0, got ${input}`, field);
    }
    return input;
  }
  if (typeof input !== 'string') {
    throw new InvalidArgument(`${field} must be bytes or a size like 10G or 512M`, field);
  }
  const m = SIZE_RE.exec(input);
  if (!m) throw new InvalidArgument(`${field} '${input}' is not a size (examples: 1073741824, 512M, 10G, 2T)`, field);
  const bytes = Number(m[1]) * UNITS[m[2].toUpperCase()];
  if (!Number.isSafeInteger(Math.round(bytes)) || Math.round(bytes) !== bytes) {
    throw new InvalidArgument(`${field} '${input}' is not a whole number of bytes`, field);
  }
  return bytes;
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let i = -1;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const text = v >= 100 || Number.isInteger(v) ? v.toFixed(0) : v.toFixed(v >= 10 ? 1 : 2);
  return `${text} ${units[i]}`;
}
