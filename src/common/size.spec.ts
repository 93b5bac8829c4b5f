import { describe, expect, it } from 'vitest';
import { InvalidArgument } from './errors';
import { formatSize, parseSize } from './size';

describe('parseSize', () => {
  it.each([
    [4096, 4096],
    ['4096', 4096],
    ['512M', 512 * 2 ** 20],
    ['10G', 10 * 2 ** 30],
    ['10g', 10 * 2 ** 30],
    ['10GiB', 10 * 2 ** 30],
    ['10GB', 10 * 2 ** 30],
    ['1.5T', 1.5 * 2 ** 40],
    ['64K', 65536],
    [' 2 M ', 2 * 2 ** 20],
  ])('%s -> %d', (input, bytes) => {
    expect(parseSize(input)).toBe(bytes);
  });

  it.each(['', 'ten', '10X', '-1', '1.3', '0.1K', 'G', '1e9'])('rejects %j with a clear message', (input) => {
    expect(() => parseSize(input)).toThrow(InvalidArgument);
  });

  it('rejects non-integer, negative and unsafe numbers and other types', () => {
    for (const bad of [1.5, -1, 2 ** 60, NaN, null, {}, true]) expect(() => parseSize(bad, 'size')).toThrow(/size/);
  });
});

describe('formatSize', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1 KiB'],
    [1536, '1.50 KiB'],
    [16 * 2 ** 30, '16 GiB'],
    [2 ** 40 * 1.25, '1.25 TiB'],
  ])('%d -> %s', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
  });
});
