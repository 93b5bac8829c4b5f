import { expect } from 'vitest';
import { Prng } from '../../src/common/prng';
import { XdrDecodeError, XdrReader } from '../../src/protocols/xdr/xdr';

type Decoder = (r: XdrReader) => unknown;

/** Every proper prefix of each sample fails to decode with XdrDecodeError (truncation at every position). */
export function expectEveryPrefixFails(cases: ReadonlyArray<readonly [Buffer, Decoder]>): void {
  for (const [bytes, decode] of cases) {
    for (let n = 0; n < bytes.length; n++) expect(() => decode(new XdrReader(bytes.subarray(0, n))), `prefix of ${n} bytes`).toThrow(XdrDecodeError);
  }
}

/**
 * Random bytes, and samples with a few bytes mutated, through every decoder:
 * only the codec's own errors may come out (`own` says which are).
 */
export function expectOnlyOwnErrors(
  seed: number,
  samples: readonly Buffer[],
  decoders: readonly Decoder[],
  rounds = 3000,
  own: (e: unknown) => boolean = (e) => e instanceof XdrDecodeError,
): void {
  const prng = new Prng(seed);
  for (let i = 0; i < rounds; i++) {
    let b: Buffer;
    if (i % 2 || samples.length === 0) b = prng.bytes(prng.int(0, 80));
    else {
      b = Buffer.from(samples[prng.int(0, samples.length)]);
      for (let k = prng.int(1, 4); k > 0 && b.length > 0; k--) b[prng.int(0, b.length)] = prng.int(0, 256);
    }
    for (const decode of decoders) {
      try {
        decode(new XdrReader(b));
      } catch (e) {
        if (!own(e)) expect.fail(`decoder threw ${String(e)} on ${b.toString('hex')}`);
      }
    }
  }
}
