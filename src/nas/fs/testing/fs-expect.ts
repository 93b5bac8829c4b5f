import { FsError } from '../fs-error';

/** The FsError code a call fails with, or 'OK'. Anything other than an FsError is rethrown. */
export async function errCode(call: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof call === 'function' ? call() : call);
  } catch (err) {
    if (err instanceof FsError) return err.code;
    throw err;
  }
  return 'OK';
}

/** Deterministic bytes for a (seed, length): every write in a test is distinguishable. */
export function pattern(length: number, seed: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf[i] = x & 0xff;
  }
  return buf;
}
