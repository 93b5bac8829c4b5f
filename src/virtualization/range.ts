import { OutOfRange } from '../common/errors';

/** The OutOfRange error for [offset, offset + length) in something of `size` bytes, or undefined when the range is valid. */
export function rangeError(what: string, offset: number, length: number, size: number): OutOfRange | undefined {
  if (
    Number.isSafeInteger(offset) &&
    Number.isSafeInteger(length) &&
    offset >= 0 &&
    length >= 0 &&
    offset + length <= size
  ) {
    return undefined;
  }
  return new OutOfRange(what, offset, length, size);
}
