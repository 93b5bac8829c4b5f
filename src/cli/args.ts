import { InvalidArgumentError } from 'commander';
import { parseSize } from '../common/size';

/** `10G`, `512M` or bytes, checked here so a typo is a usage error before any request. */
export function sizeArg(value: string): number {
  try {
    return parseSize(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

export function countArg(value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError(`'${value}' is not a whole number`);
  return Number(value);
}

/** Repeatable options (--member a --member b) collect into an array. */
export const collect = (value: string, previous: string[] = []) => [...previous, value];
