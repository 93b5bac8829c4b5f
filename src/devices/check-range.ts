import { InvalidArgument, OutOfRange } from '../common/errors';

/**
 * Validates one access of `length` bytes at `offset` on a device of `size`
 * bytes. Every backend calls it once per operation, before touching storage.
 * An empty access is allowed anywhere in [0, size], so a zero-length read at
 * the very end is a no-op rather than an error.
 */
export function checkRange(label: string, size: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset)) {
    throw new InvalidArgument(`device '${label}': offset must be an integer, got ${offset}`, 'offset');
  }
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new InvalidArgument(`device '${label}': length must be a non-negative integer, got ${length}`, 'length');
  }
  if (offset < 0 || offset + length > size) {
    throw new OutOfRange(`device '${label}'`, offset, length, size);
  }
}

/** Validates a capacity given by a caller (RAM size, file size to create). */
export function checkCapacity(label: string, size: number): void {
  if (!Number.isSafeInteger(size) || size <= 0) {
    throw new InvalidArgument(`device '${label}': size must be a positive integer, got ${size}`, 'size');
  }
}
