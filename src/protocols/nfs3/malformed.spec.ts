import { describe, expect, it } from 'vitest';
import { Prng } from '../../common/prng';
import { XdrDecodeError, XdrReader, XdrWriter } from '../xdr/xdr';
import { Nfs3DecodeError, nfsstat3 } from './constants';
import * as dir from './directory.codec';
import * as file from './file.codec';
import * as readdir from './readdir.codec';
import { NFS3_PROCEDURES, type Nfs3Proc } from './procedures';
import { Arbitrary, GENERATORS } from './testing/arbitrary';

const PROCS = Array.from({ length: 22 }, (_, p) => p as Nfs3Proc);
const bytes = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const word = (n: number): string => n.toString(16).padStart(8, '0');
const opaque = (b: Buffer): string => word(b.length) + b.toString('hex') + '00'.repeat((4 - (b.length % 4)) % 4);

/** Every decoder with what it decodes, for the truncation and random-input sweeps. */
const DECODERS = PROCS.flatMap((p) => {
  const proc = NFS3_PROCEDURES[p];
  return [
    { name: `${proc.name}3args`, decode: proc.decode as (r: XdrReader) => unknown, samples: (a: Arbitrary) => [encode(proc.encodeArgs, GENERATORS[p].args(a))] },
    {
      name: `${proc.name}3res`,
      decode: proc.decodeRes as (r: XdrReader) => unknown,
      samples: (a: Arbitrary) => [encode(proc.encode, GENERATORS[p].ok(a)), encode(proc.encode, GENERATORS[p].fail(a))],
    },
  ];
});

function encode<T>(fn: (w: XdrWriter, v: T) => void, v: T): Buffer {
  const w = new XdrWriter();
  fn(w, v);
  return w.toBuffer();
}

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a decode error, none was thrown');
}

describe('truncation at every position', () => {
  it('every proper prefix of every procedure\'s encoded arguments and results fails as truncated', () => {
    const a = new Arbitrary(31);
    let prefixes = 0;
    for (const d of DECODERS) {
      for (let round = 0; round < 4; round++) {
        for (const message of d.samples(a)) {
          const whole = new XdrReader(message);
          d.decode(whole);
          whole.done();
          for (let n = 0; n < message.length; n++) {
            const e = errorOf(() => d.decode(new XdrReader(message.subarray(0, n))));
            expect(e, `${d.name} cut at ${n} of ${message.length}`).toBeInstanceOf(XdrDecodeError);
            expect(e.message).toMatch(/^truncated /);
            prefixes++;
          }
        }
      }
    }
    expect(prefixes).toBeGreaterThan(10_000);
  });
});

describe('malformed input: exact errors', () => {
  const FH = '00000004 cafef00d';
  const NO_SATTR = '00000000 00000000 00000000 00000000 00000000 00000000';

  it('a file handle longer than NFS3_FHSIZE', () => {
    const e = errorOf(() => file.decodeGETATTR3args(new XdrReader(bytes(opaque(Buffer.alloc(65))))));
    expect(e).toBeInstanceOf(XdrDecodeError);
    expect(e.message).toBe('GETATTR3args.object of 65 bytes exceeds its limit of 64');
    expect(file.decodeGETATTR3args(new XdrReader(bytes(opaque(Buffer.alloc(64))))).object).toHaveLength(64);
  });

  it('a name over 255 bytes is NFS3ERR_NAMETOOLONG, 255 bytes is fine', () => {
    const e = errorOf(() => dir.decodeLOOKUP3args(new XdrReader(bytes(FH + opaque(Buffer.alloc(256, 0x61))))));
    expect(e).toBeInstanceOf(Nfs3DecodeError);
    expect(e).toBeInstanceOf(XdrDecodeError);
    expect((e as Nfs3DecodeError).status).toBe(nfsstat3.NFS3ERR_NAMETOOLONG);
    expect(e.message).toBe('LOOKUP3args.what.name of 256 bytes exceeds 255');
    expect(dir.decodeLOOKUP3args(new XdrReader(bytes(FH + opaque(Buffer.alloc(255, 0x61))))).what.name).toBe('a'.repeat(255));
  });

  it('a name that is not UTF-8 is NFS3ERR_INVAL (never silently replaced)', () => {
    const e = errorOf(() => dir.decodeREMOVE3args(new XdrReader(bytes(FH + opaque(Buffer.from([0x63, 0x61, 0x66, 0xe9]))))));
    expect((e as Nfs3DecodeError).status).toBe(nfsstat3.NFS3ERR_INVAL);
    expect(e.message).toBe('REMOVE3args.object.name is not valid UTF-8');
  });

  it('a name too long for the input is truncation, not NAMETOOLONG', () => {
    const e = errorOf(() => dir.decodeLOOKUP3args(new XdrReader(bytes(FH + word(300) + '61626364'))));
    expect(e).not.toBeInstanceOf(Nfs3DecodeError);
    expect(e.message).toBe('truncated LOOKUP3args.what.name: need 300 bytes, 4 left');
  });

  it('a symlink path over 4096 bytes is NFS3ERR_NAMETOOLONG', () => {
    const e = errorOf(() => dir.decodeSYMLINK3args(new XdrReader(bytes(FH + opaque(Buffer.from('l')) + NO_SATTR + opaque(Buffer.alloc(4097, 0x2f))))));
    expect((e as Nfs3DecodeError).status).toBe(nfsstat3.NFS3ERR_NAMETOOLONG);
    expect(e.message).toBe('symlinkdata3.symlink_data of 4097 bytes exceeds 4096');
  });

  it('WRITE: unknown stable_how, and a count that disagrees with the data', () => {
    expect(errorOf(() => file.decodeWRITE3args(new XdrReader(bytes(`${FH} 00000000 00000000 00000003 00000003 00000003 61626300`)))).message).toBe(
      'WRITE3args.stable 3 is not a known value',
    );
    expect(errorOf(() => file.decodeWRITE3args(new XdrReader(bytes(`${FH} 00000000 00000000 00000004 00000000 00000003 61626300`)))).message).toBe(
      'WRITE3args.count 4 differs from the 3 bytes of data',
    );
  });

  it('CREATE with an unknown createmode3', () => {
    expect(errorOf(() => dir.decodeCREATE3args(new XdrReader(bytes(`${FH} 00000001 61000000 00000003`)))).message).toBe('createhow3.mode 3 is not a known value');
  });

  it('SETATTR: unknown time_how, a set_it bool of 2, a guard bool of 2', () => {
    const decode = (hex: string) => errorOf(() => file.decodeSETATTR3args(new XdrReader(bytes(hex)))).message;
    expect(decode(`${FH} 00000000 00000000 00000000 00000000 00000003`)).toBe('SETATTR3args.new_attributes.atime.set_it 3 is not a known value');
    expect(decode(`${FH} 00000002`)).toBe('SETATTR3args.new_attributes.mode.set_it must be 0 or 1, got 2');
    expect(decode(`${FH} ${NO_SATTR} 00000002`)).toBe('sattrguard3.check must be 0 or 1, got 2');
  });

  it('MKNOD with a type outside ftype3', () => {
    expect(errorOf(() => dir.decodeMKNOD3args(new XdrReader(bytes(`${FH} 00000001 70000000 00000000`)))).message).toBe('mknoddata3.type 0 is not a known value');
  });

  it('results: unknown nfsstat3, unknown ftype3, bad bools, unknown committed', () => {
    const attrs = (type: number, fileid = '00000000 00000001') =>
      `${word(type)} 000001a4 00000001 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 ${fileid} ${'00000000'.repeat(6)}`;
    expect(errorOf(() => file.decodeGETATTR3res(new XdrReader(bytes('00000003')))).message).toBe('nfsstat3 3 is not a known value');
    expect(errorOf(() => file.decodeGETATTR3res(new XdrReader(bytes('00002719')))).message).toBe('nfsstat3 10009 is not a known value');
    expect(errorOf(() => file.decodeGETATTR3res(new XdrReader(bytes(`00000000 ${attrs(0)}`)))).message).toBe('fattr3.type 0 is not a known value');
    expect(errorOf(() => file.decodeGETATTR3res(new XdrReader(bytes(`00000000 ${attrs(8)}`)))).message).toBe('fattr3.type 8 is not a known value');
    expect(errorOf(() => file.decodeGETATTR3res(new XdrReader(bytes(`00000000 ${attrs(1, '00200000 00000000')}`)))).message).toBe(
      'fattr3.fileid 9007199254740992 exceeds 2^53-1',
    );
    expect(errorOf(() => dir.decodeLOOKUP3res(new XdrReader(bytes(`00000000 ${FH} 00000002`)))).message).toBe('obj_attributes.attributes_follow must be 0 or 1, got 2');
    expect(errorOf(() => file.decodeREAD3res(new XdrReader(bytes('00000000 00000000 00000000 00000002 00000000')))).message).toBe(
      'READ3resok.eof must be 0 or 1, got 2',
    );
    expect(errorOf(() => file.decodeWRITE3res(new XdrReader(bytes('00000000 00000000 00000000 00000001 00000007 00000000 00000000')))).message).toBe(
      'WRITE3resok.committed 7 is not a known value',
    );
  });

  it('directory lists: a list pointer of 2, a name handle over 64 bytes', () => {
    expect(errorOf(() => readdir.decodeREADDIR3res(new XdrReader(bytes('00000000 00000000 00000000 00000000 00000002')))).message).toBe(
      'entry3 pointer must be 0 or 1, got 2',
    );
    const entry = `00000001 00000000 00000002 ${opaque(Buffer.from('x'))} 00000000 00000001 00000000 00000001 ${opaque(Buffer.alloc(65))}`;
    expect(errorOf(() => readdir.decodeREADDIRPLUS3res(new XdrReader(bytes(`00000000 00000000 00000000 00000000 ${entry}`)))).message).toBe(
      'entryplus3.name_handle.handle of 65 bytes exceeds its limit of 64',
    );
  });

  it('offsets and sizes beyond 2^53-1 clamp to 2^53 instead of failing (the handler answers FBIG or EOF)', () => {
    expect(file.decodeREAD3args(new XdrReader(bytes(`${FH} ffffffff ffffffff 00001000`))).offset).toBe(2 ** 53);
    expect(file.decodeWRITE3args(new XdrReader(bytes(`${FH} 00200000 00000001 00000000 00000000 00000000`))).offset).toBe(2 ** 53);
    expect(file.decodeSETATTR3args(new XdrReader(bytes(`${FH} 00000000 00000000 00000000 00000001 80000000 00000000 00000000 00000000 00000000`))).new_attributes.size).toBe(2 ** 53);
  });
});

describe('random and mutated input', () => {
  /** Words a decoder branches on, so random messages get past the first field more often. */
  const INTERESTING = [0, 1, 2, 3, 4, 7, 8, 64, 65, 255, 256, 4096, 0x7fffffff, 0xffffffff];

  function randomMessage(prng: Prng): Buffer {
    if (prng.int(0, 2) === 0) return prng.bytes(prng.int(0, 160));
    const words = prng.int(0, 48);
    const out = Buffer.alloc(words * 4);
    for (let i = 0; i < words; i++) out.writeUInt32BE(prng.int(0, 3) ? INTERESTING[prng.int(0, INTERESTING.length)] : prng.int(0, 2 ** 32), i * 4);
    return out;
  }

  function mutate(prng: Prng, message: Buffer): Buffer {
    const out = Buffer.from(message);
    switch (prng.int(0, 4)) {
      case 0: // flip a few bytes
        for (let k = prng.int(1, 5); k > 0 && out.length > 0; k--) out[prng.int(0, out.length)] = prng.int(0, 256);
        return out;
      case 1: // overwrite an aligned word with a value decoders branch on
        if (out.length >= 4) out.writeUInt32BE(INTERESTING[prng.int(0, INTERESTING.length)], prng.int(0, out.length >> 2) * 4);
        return out;
      case 2: // cut short
        return out.subarray(0, prng.int(0, out.length + 1));
      default: // trailing bytes
        return Buffer.concat([out, prng.bytes(prng.int(1, 12))]);
    }
  }

  DECODERS.forEach((d, k) => {
    it(`${d.name}: 20,000 inputs throw nothing but XdrDecodeError`, () => {
      const prng = new Prng(4242 + k);
      const a = new Arbitrary(77 + k);
      const valid = Array.from({ length: 8 }, () => d.samples(a)).flat();
      let decoded = 0;
      for (let i = 0; i < 20_000; i++) {
        const input = i % 2 ? randomMessage(prng) : mutate(prng, valid[prng.int(0, valid.length)]);
        try {
          d.decode(new XdrReader(input));
          decoded++;
        } catch (e) {
          if (!(e instanceof XdrDecodeError)) throw new Error(`${d.name} threw ${String(e)} for ${input.toString('hex')}`);
        }
      }
      // The sweep reached past the first field: some mutated inputs still decode.
      expect(decoded).toBeGreaterThan(0);
    });
  });
});
