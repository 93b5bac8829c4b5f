import { InvalidArgument } from '../common/errors';

/** `?force`, `?force=true|1|yes` → true; absent or false|0|no → false. */
export function flag(value: unknown, name: string): boolean {
  if (value === undefined) return false;
  if (value === '' || value === 'true' || value === '1' || value === 'yes') return true;
  if (value === 'false' || value === '0' || value === 'no') return false;
  throw new InvalidArgument(`query parameter ${name} must be true or false`, name);
}

export function optionalInt(value: unknown, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw new InvalidArgument(`query parameter ${name} must be a whole number >= 0`, name);
  return n;
}
