import { describe, expect, it } from 'vitest';
import { actionPrefix, formatCount, formatMs, formatSize, formatSizeExact, formatTime, percent, sizeText } from './format';

describe('formatSize', () => {
  it('reads like the CLI: binary units, integers bare, otherwise 2 or 1 decimals', () => {
    expect(formatSize(0)).toBe('0 B');
    expect(formatSize(1023)).toBe('1023 B');
    expect(formatSize(1024)).toBe('1 KiB');
    expect(formatSize(1536)).toBe('1.50 KiB');
    expect(formatSize(64 * 2 ** 20)).toBe('64 MiB');
    expect(formatSize(10.5 * 2 ** 30)).toBe('10.5 GiB');
    expect(formatSize(123.4 * 2 ** 30)).toBe('123 GiB');
    expect(formatSize(2 ** 50)).toBe('1 PiB');
    expect(formatSize(2048 * 2 ** 50)).toBe('2048 PiB');
  });

  it('gives exact byte counts for copying, grouped', () => {
    expect(formatSizeExact(67108864)).toBe('64 MiB (67,108,864 bytes)');
    expect(formatSizeExact(512)).toBe('512 B');
  });
});

describe('small formatters', () => {
  it('counts', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(950)).toBe('950');
    expect(formatCount(2.5)).toBe('2.5');
    expect(formatCount(1234)).toBe('1.2k');
    expect(formatCount(56_000)).toBe('56k');
    expect(formatCount(4_100_000)).toBe('4.1M');
  });

  it('latencies', () => {
    expect(formatMs(0)).toBe('0 ms');
    expect(formatMs(50)).toBe('50 ms');
    expect(formatMs(0.123)).toBe('0.12 ms');
    expect(formatMs(12.34)).toBe('12.3 ms');
    expect(formatMs(250.4)).toBe('250 ms');
  });

  it('percentages never round a small share down to nothing', () => {
    expect(percent(0, 100)).toBe('0%');
    expect(percent(1, 1000)).toBe('<1%');
    expect(percent(50, 100)).toBe('50%');
    expect(percent(1, 0)).toBe('–');
  });

  it('times as the CLI prints them', () => {
    expect(formatTime('2025-01-31T14:03:59.123Z')).toBe('2025-01-31 14:03:59Z');
  });
});

describe('sizeText', () => {
  it('joins an amount and a unit the way the API parses sizes', () => {
    expect(sizeText('64', 'M')).toBe('64M');
    expect(sizeText(' 1.5 ', 'G')).toBe('1.5G');
  });

  it('refuses what is not a positive number, so the form can say so', () => {
    for (const bad of ['', '0', '-1', '1e3', 'ten', '1.', '.5']) expect(sizeText(bad, 'G')).toBeNull();
  });
});

describe('actionPrefix', () => {
  it('turns a typed action into the API prefix form', () => {
    expect(actionPrefix('volume')).toBe('volume*');
    expect(actionPrefix('volume.*')).toBe('volume.*');
    expect(actionPrefix('  ')).toBeUndefined();
  });
});
