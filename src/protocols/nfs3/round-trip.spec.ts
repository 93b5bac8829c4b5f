import { describe, expect, it } from 'vitest';
import { XdrReader, XdrWriter } from '../xdr/xdr';
import { NFSPROC3_COMMIT, NFSPROC3_READ, NFSPROC3_WRITE, nfsstat3 } from './constants';
import { NFS3_PROCEDURE, NFS3_PROCEDURES, type Nfs3Proc } from './procedures';
import { Arbitrary, GENERATORS } from './testing/arbitrary';

const PROCS = Array.from({ length: 22 }, (_, p) => p as Nfs3Proc);

/** Encode with `encode`, decode the bytes with `decode`, and require every byte consumed. */
function roundTrip<T>(encode: (w: XdrWriter, v: T) => void, decode: (r: XdrReader) => T, value: T): { decoded: T; bytes: Buffer; parts: Buffer[] } {
  const w = new XdrWriter(16);
  encode(w, value);
  const parts = w.toBuffers();
  const bytes = w.toBuffer();
  expect(bytes.length).toBe(w.length);
  expect(bytes.length % 4).toBe(0);
  const r = new XdrReader(bytes);
  const decoded = decode(r);
  r.done();
  return { decoded, bytes, parts };
}

describe('NFSv3 round trips of every procedure', () => {
  for (const p of PROCS) {
    const proc = NFS3_PROCEDURES[p];
    const gen = GENERATORS[p];
    it(`${proc.name}: arguments (client encode, server decode) and both result arms (server encode, client decode)`, () => {
      const a = new Arbitrary(1000 + p);
      for (let i = 0; i < 150; i++) {
        const args = gen.args(a);
        expect(roundTrip(proc.encodeArgs, proc.decode, args).decoded).toEqual(args);
        const ok = gen.ok(a);
        expect(roundTrip(proc.encode, proc.decodeRes, ok).decoded).toEqual(ok);
        const fail = gen.fail(a);
        expect(roundTrip(proc.encode, proc.decodeRes, fail).decoded).toEqual(fail);
      }
    });
  }

  it('a failure without its body encodes every optional attribute as absent (what a dispatcher sends after Nfs3DecodeError)', () => {
    const a = new Arbitrary(7);
    for (const p of PROCS.filter((x) => x !== 0)) {
      const proc = NFS3_PROCEDURES[p];
      const full = GENERATORS[p].fail(a) as { status: nfsstat3; resfail?: unknown };
      const bare = { status: nfsstat3.NFS3ERR_NAMETOOLONG };
      const { decoded, bytes } = roundTrip(proc.encode, proc.decodeRes, bare);
      expect((decoded as { status: number }).status).toBe(nfsstat3.NFS3ERR_NAMETOOLONG);
      // Every word after the status is a FALSE attributes_follow / handle_follows.
      expect(bytes.subarray(4).every((b) => b === 0)).toBe(true);
      // Same shape as a full failure body, only emptier.
      if (full.resfail !== undefined) expect(Object.keys((decoded as { resfail: object }).resfail).sort()).toEqual(Object.keys(full.resfail as object).sort());
    }
  });

  it('the table is indexed by procedure number and marks the duplicate-request-cache procedures', () => {
    expect(NFS3_PROCEDURES).toHaveLength(22);
    NFS3_PROCEDURES.forEach((e, i) => expect(e.proc).toBe(i));
    expect(NFS3_PROCEDURES.filter((e) => !e.idempotent).map((e) => e.name)).toEqual([
      'SETATTR',
      'WRITE',
      'CREATE',
      'MKDIR',
      'SYMLINK',
      'MKNOD',
      'REMOVE',
      'RMDIR',
      'RENAME',
      'LINK',
    ]);
    expect(NFS3_PROCEDURES.filter((e) => e.mutates).map((e) => e.name)).toEqual(NFS3_PROCEDURES.filter((e) => !e.idempotent).map((e) => e.name));
    expect(NFS3_PROCEDURE[NFSPROC3_COMMIT].name).toBe('COMMIT');
    expect(NFS3_PROCEDURES[22]).toBeUndefined();
  });
});

describe('NFSv3 payloads are not copied', () => {
  it('READ3resok data of 512 bytes or more goes out by reference', () => {
    const data = Buffer.alloc(64 * 1024, 0x5a);
    const w = new XdrWriter();
    NFS3_PROCEDURE[NFSPROC3_READ].encode(w, { status: nfsstat3.NFS3_OK, resok: { count: data.length, eof: false, data } });
    expect(w.toBuffers().some((part) => part === data)).toBe(true);
  });

  it('WRITE3args data decodes as a view into the request buffer', () => {
    const w = new XdrWriter();
    const data = Buffer.alloc(3000, 0xa5);
    NFS3_PROCEDURE[NFSPROC3_WRITE].encodeArgs(w, { file: Buffer.from('fh'), offset: 0, count: data.length, stable: 0, data });
    const request = w.toBuffer();
    const args = NFS3_PROCEDURE[NFSPROC3_WRITE].decode(new XdrReader(request));
    expect(args.data.buffer).toBe(request.buffer);
    expect(args.data.byteOffset).toBe(request.byteOffset + request.length - 3000);
    request[request.length - 1] = 0;
    expect(args.data[2999]).toBe(0);
  });
});
