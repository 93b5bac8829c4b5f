import { describe, expect, it } from 'vitest';
import { expectEveryPrefixFails, expectOnlyOwnErrors } from '../../../test/utils/xdr-codec-checks';
import { XdrDecodeError, XdrReader, XdrWriter } from '../xdr/xdr';
import { type COMPOUND4args, type COMPOUND4res, readCompound4args, readCompound4res, readCompoundHeader, writeCompound4args, writeCompound4res } from './compound.codec';
import { LAST_OP_V41, Nfs4DecodeError, nfs_opnum4 as OP, nfsstat4 } from './constants';
import { readFattr4, writeFattr4 } from './fattr4.codec';
import { type Nfs4Opnum, OP_CODECS } from './ops.codec';
import { OP_SAMPLES, SAMPLE_ATTRS } from './testing/samples';

/*
 * Byte strings written by hand from RFC 5662 (the XDR) and RFC 4506 (big-endian words, opaque data padded
 * to 4 bytes, bool 0/1, unions as the discriminant then the arm), one field per group.
 */
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+|#[^\n]*/g, ''), 'hex');
const encode = (fn: (w: XdrWriter) => void): Buffer => {
  const w = new XdrWriter(8);
  fn(w);
  return w.toBuffer();
};
const OPS = Object.keys(OP_CODECS).map(Number) as Nfs4Opnum[];

const MOUNT_ARGS: COMPOUND4args = {
  tag: Buffer.from('mnt'),
  minorversion: 1,
  argarray: [
    { argop: OP.OP_SEQUENCE, args: { sa_sessionid: Buffer.alloc(16, 0xaa), sa_sequenceid: 2, sa_slotid: 0, sa_highest_slotid: 0, sa_cachethis: false } },
    { argop: OP.OP_PUTROOTFH, args: undefined },
    { argop: OP.OP_LOOKUP, args: 'home' },
    { argop: OP.OP_GETATTR, args: [0x00100012, 0x00000002] },
  ],
};
const MOUNT_ARGS_BYTES = `
  00000003 6d6e7400                            # tag "mnt", padded
  00000001                                     # minorversion 1
  00000004                                     # 4 operations
  00000035                                     # OP_SEQUENCE = 53
  aaaaaaaa aaaaaaaa aaaaaaaa aaaaaaaa          #   sa_sessionid
  00000002 00000000 00000000 00000000          #   sequenceid 2, slot 0, highest 0, cachethis FALSE
  00000018                                     # OP_PUTROOTFH = 24
  0000000f 00000004 686f6d65                   # OP_LOOKUP = 15, "home"
  00000009 00000002 00100012 00000002          # OP_GETATTR = 9, bitmap4 of 2 words`;

const MOUNT_RES: COMPOUND4res = {
  status: nfsstat4.NFS4ERR_NOENT,
  tag: Buffer.from('mnt'),
  resarray: [
    { resop: OP.OP_SEQUENCE, res: { status: nfsstat4.NFS4_OK, resok: { sr_sessionid: Buffer.alloc(16, 0xaa), sr_sequenceid: 2, sr_slotid: 0, sr_highest_slotid: 7, sr_target_highest_slotid: 7, sr_status_flags: 0 } } },
    { resop: OP.OP_PUTROOTFH, res: { status: nfsstat4.NFS4_OK } },
    { resop: OP.OP_LOOKUP, res: { status: nfsstat4.NFS4ERR_NOENT } },
  ],
};
const MOUNT_RES_BYTES = `
  00000002                                     # status NFS4ERR_NOENT
  00000003 6d6e7400                            # tag
  00000003                                     # 3 results
  00000035 00000000                            # SEQUENCE, NFS4_OK
  aaaaaaaa aaaaaaaa aaaaaaaa aaaaaaaa          #   sr_sessionid
  00000002 00000000 00000007 00000007 00000000 #   sequenceid, slot, highest, target highest, status flags
  00000018 00000000                            # PUTROOTFH, NFS4_OK
  0000000f 00000002                            # LOOKUP, NFS4ERR_NOENT`;

// fattr4 with type (1), size (4), mode (33) and owner (36): bits 1 and 4 of word 0, bits 1 and 4 of word 1.
const ATTRS_BYTES = `
  00000002 00000012 00000012                   # attrmask: 2 words
  00000018                                     # attr_vals: 24 bytes
  00000002                                     #   type NF4DIR
  00000000 00001000                            #   size 4096
  000001ed                                     #   mode 0755
  00000004 726f6f74                            #   owner "root"`;

const OPEN_EXCL_BYTES = `
  00000000 00000002 00000000                   # seqid 0, share_access WRITE, share_deny NONE
  00000000 00000007 00000004 6f776e31          # owner: clientid 7, "own1"
  00000001 00000003                            # OPEN4_CREATE, EXCLUSIVE4_1
  01020304 05060708                            #   cva_verf
  00000002 00000000 00000002 00000004 000001a4 #   cva_attrs: mode (bit 33) = 0644
  00000000 00000001 78000000                   # CLAIM_NULL "x"`;

const LOCK_DENIED_BYTES = `
  0000271a                                     # NFS4ERR_DENIED = 10010
  00000000 00000000 ffffffff ffffffff          # offset 0, length all ones
  00000002                                     # WRITE_LT
  00000000 00000009 00000002 6162 0000         # owner: clientid 9, "ab"`;

describe('NFSv4.1 COMPOUND codec: reference bytes from RFC 5662', () => {
  it('COMPOUND4args: SEQUENCE, PUTROOTFH, LOOKUP, GETATTR', () => {
    expect(encode((w) => writeCompound4args(w, MOUNT_ARGS)).toString('hex')).toBe(hex(MOUNT_ARGS_BYTES).toString('hex'));
    const r = new XdrReader(hex(MOUNT_ARGS_BYTES));
    expect(readCompound4args(r)).toEqual(MOUNT_ARGS);
    r.done();
  });

  it('COMPOUND4res: stops at the failing LOOKUP, status of the last result', () => {
    expect(encode((w) => writeCompound4res(w, MOUNT_RES)).toString('hex')).toBe(hex(MOUNT_RES_BYTES).toString('hex'));
    expect(readCompound4res(new XdrReader(hex(MOUNT_RES_BYTES)))).toEqual(MOUNT_RES);
  });

  it('fattr4: attributes packed in number order inside one opaque', () => {
    const v = { type: 2, size: 4096, mode: 0o755, owner: 'root' };
    expect(encode((w) => writeFattr4(w, v)).toString('hex')).toBe(hex(ATTRS_BYTES).toString('hex'));
    expect(readFattr4(new XdrReader(hex(ATTRS_BYTES)))).toEqual(v);
  });

  it('OPEN4args with EXCLUSIVE4_1 (verifier and attributes)', () => {
    const args = OP_CODECS[OP.OP_OPEN].args.read(new XdrReader(hex(OPEN_EXCL_BYTES)));
    expect(args).toEqual({
      seqid: 0,
      share_access: 2,
      share_deny: 0,
      owner: { clientid: 7n, owner: Buffer.from('own1') },
      openhow: { opentype: 1, how: { mode: 3, ch_createboth: { cva_verf: hex('0102030405060708'), cva_attrs: { mode: 0o644 } } } },
      claim: { claim: 0, file: 'x' },
    });
    expect(encode((w) => OP_CODECS[OP.OP_OPEN].args.write(w, args)).toString('hex')).toBe(hex(OPEN_EXCL_BYTES).toString('hex'));
  });

  it('LOCK4res NFS4ERR_DENIED carries LOCK4denied', () => {
    const res = { status: nfsstat4.NFS4ERR_DENIED, denied: { offset: 0n, length: 0xffffffffffffffffn, locktype: 2, owner: { clientid: 9n, owner: Buffer.from('ab') } } };
    expect(encode((w) => OP_CODECS[OP.OP_LOCK].res.write(w, res)).toString('hex')).toBe(hex(LOCK_DENIED_BYTES).toString('hex'));
    expect(OP_CODECS[OP.OP_LOCK].res.read(new XdrReader(hex(LOCK_DENIED_BYTES)))).toEqual(res);
  });
});

describe('NFSv4.1 codec: round trips of every operation', () => {
  it.each(OPS.map((op) => [OP[op], op] as const))('%s arguments and result', (_name, op) => {
    const s = OP_SAMPLES[op];
    const c = OP_CODECS[op] as { args: { read(r: XdrReader): unknown; write(w: XdrWriter, v: unknown): void }; res: { read(r: XdrReader): unknown; write(w: XdrWriter, v: unknown): void } };
    for (const [codec, value] of [
      [c.args, s.args],
      [c.res, s.res],
    ] as const) {
      const bytes = encode((w) => codec.write(w, value));
      expect(bytes.length % 4).toBe(0);
      const r = new XdrReader(bytes);
      expect(codec.read(r)).toEqual(value);
      r.done();
    }
  });

  it('a COMPOUND of every operation, and its results', () => {
    const args: COMPOUND4args = { tag: Buffer.from('all'), minorversion: 1, argarray: OPS.map((op) => ({ argop: op, args: OP_SAMPLES[op].args }) as COMPOUND4args['argarray'][number]) };
    const bytes = encode((w) => writeCompound4args(w, args));
    expect(readCompound4args(new XdrReader(bytes))).toEqual(args);
    const res: COMPOUND4res = { status: nfsstat4.NFS4_OK, tag: Buffer.from('all'), resarray: OPS.map((op) => ({ resop: op, res: OP_SAMPLES[op].res }) as COMPOUND4res['resarray'][number]) };
    const rbytes = encode((w) => writeCompound4res(w, res));
    expect(readCompound4res(new XdrReader(rbytes))).toEqual(res);
  });

  it('fattr4 with every kind of attribute value', () => {
    const bytes = encode((w) => writeFattr4(w, SAMPLE_ATTRS));
    expect(readFattr4(new XdrReader(bytes))).toEqual(SAMPLE_ATTRS);
  });
});

describe('NFSv4.1 codec: truncated, malformed and random input', () => {
  const samples = OPS.flatMap((op) => {
    const c = OP_CODECS[op] as { args: { read(r: XdrReader): unknown; write(w: XdrWriter, v: unknown): void }; res: { read(r: XdrReader): unknown; write(w: XdrWriter, v: unknown): void } };
    return [
      [encode((w) => c.args.write(w, OP_SAMPLES[op].args)), (r: XdrReader) => c.args.read(r)] as const,
      [encode((w) => c.res.write(w, OP_SAMPLES[op].res)), (r: XdrReader) => c.res.read(r)] as const,
    ];
  });

  it('every proper prefix of every sample fails with XdrDecodeError', () => {
    expectEveryPrefixFails([...samples.filter(([b]) => b.length > 0), [hex(MOUNT_ARGS_BYTES), readCompound4args], [hex(MOUNT_RES_BYTES), readCompound4res], [hex(ATTRS_BYTES), readFattr4]]);
  });

  it('names the exact problem', () => {
    const err = (bytes: string, read: (r: XdrReader) => unknown): Error => {
      try {
        read(new XdrReader(hex(bytes)));
      } catch (e) {
        return e as Error;
      }
      throw new Error('decoded');
    };
    // An attribute this server does not know (acl, 12) cannot be skipped: its size is unknown.
    const acl = err('00000001 00001000 00000000', readFattr4);
    expect(acl).toBeInstanceOf(Nfs4DecodeError);
    expect((acl as Nfs4DecodeError).status).toBe(nfsstat4.NFS4ERR_ATTRNOTSUPP);
    // A name that is not UTF-8 is NFS4ERR_INVAL, not BADXDR.
    const name = err('00000002 c3280000', (r) => OP_CODECS[OP.OP_LOOKUP].args.read(r));
    expect((name as Nfs4DecodeError).status).toBe(nfsstat4.NFS4ERR_INVAL);
    // Values left over inside attr_vals are malformed.
    expect(err('00000001 00000002 00000008 00000001 00000000', readFattr4).message).toBe('4 unexpected bytes after the fattr4 attribute values');
    expect(err('00000007 00000001 00000000', (r) => OP_CODECS[OP.OP_LOCKT].args.read(r)).message).toBe('nfs_lock_type4 7 is not a known value');
    // More operations than bytes is refused before any is read.
    expect(err('00000000 00000001 7fffffff', readCompound4args).message).toMatch(/truncated argarray: 2147483647 operations/);
    expect(err('00000000 00000001 00000001 0000ffff', readCompound4args)).toBeInstanceOf(Nfs4DecodeError);
    expect(err('00000000 00000001', readCompoundHeader).message).toBe('truncated argarray count: need 4 bytes, 0 left');
    expect(err('00000000 00000001', readCompoundHeader)).toBeInstanceOf(XdrDecodeError);
  });

  it('CREATE_SESSION with every callback flavor and a one-entry rdma_ird decodes; arrays past their XDR bound do not (pynfs CSESS16, CSESS18, CSESS19, EID3)', () => {
    const channel = (ird: string) => `00000000 00002000 00002000 00002000 00000080 00000008 ${ird}`;
    const createSession = (ird: string) => `
      00000000 00000001 00000001 00000002       # clientid 1, sequence 1, flags CONN_BACK_CHAN
      ${channel(ird)}                            # fore: pad 0, 8192 x3, 128 ops, 8 slots, rdma_ird
      ${channel('00000000')}                     # back, no rdma_ird
      40000000                                   # cb_program
      00000003                                   # 3 callback_sec_parms4
      00000000                                   #   AUTH_NONE
      00000001 00000005 00000001 6d000000        #   AUTH_SYS: stamp 5, machinename "m"
      00000007 0000000b 00000002 0000000d 00000011 #   uid 7, gid 11, gids [13, 17]
      00000006 00000003                          #   RPCSEC_GSS, service privacy
      00000002 68730000 00000002 68630000        #   handles "hs", "hc"`;
    const read = OP_CODECS[OP.OP_CREATE_SESSION].args.read;
    const r = new XdrReader(hex(createSession('00000001 00000039')));
    expect(read(r)).toEqual({
      csa_clientid: 1n,
      csa_sequence: 1,
      csa_flags: 2,
      csa_fore_chan_attrs: { ca_headerpadsize: 0, ca_maxrequestsize: 8192, ca_maxresponsesize: 8192, ca_maxresponsesize_cached: 8192, ca_maxoperations: 128, ca_maxrequests: 8, ca_rdma_ird: [57] },
      csa_back_chan_attrs: { ca_headerpadsize: 0, ca_maxrequestsize: 8192, ca_maxresponsesize: 8192, ca_maxresponsesize_cached: 8192, ca_maxoperations: 128, ca_maxrequests: 8, ca_rdma_ird: [] },
      csa_cb_program: 0x40000000,
      csa_sec_parms: [
        { cb_secflavor: 0 },
        { cb_secflavor: 1, cbsp_sys_cred: { stamp: 5, machinename: 'm', uid: 7, gid: 11, gids: [13, 17] } },
        { cb_secflavor: 6, cbsp_gss_handles: { gcbp_service: 3, gcbp_handle_from_server: Buffer.from('hs'), gcbp_handle_from_client: Buffer.from('hc') } },
      ],
    });
    expect(r.remaining).toBe(0);
    expect(() => read(new XdrReader(hex(createSession('00000002 0000000d 00000039'))))).toThrow(XdrDecodeError);
    const implId = '00000001 64000000 00000001 6e000000 00000000 00000000 00000000'; // domain "d", name "n", date 0
    const exchangeId = (n: number) => `0102030405060708 00000002 61620000 00000000 00000000 ${n.toString(16).padStart(8, '0')} ${implId.repeat(n)}`;
    expect(OP_CODECS[OP.OP_EXCHANGE_ID].args.read(new XdrReader(hex(exchangeId(1))))).toMatchObject({ eia_flags: 0, eia_client_impl_id: [{ nii_domain: Buffer.from('d'), nii_name: Buffer.from('n') }] });
    expect(() => OP_CODECS[OP.OP_EXCHANGE_ID].args.read(new XdrReader(hex(exchangeId(2))))).toThrow(XdrDecodeError);
  });

  it('random and mutated bytes raise only the codec errors', () => {
    const compound = [hex(MOUNT_ARGS_BYTES), hex(MOUNT_RES_BYTES)];
    expectOnlyOwnErrors(6, [...compound, ...samples.map(([b]) => b)], [readCompound4args, readCompound4res, readFattr4, ...samples.map(([, d]) => d)], 400);
  });

  it('the operation range of minor version 1 ends at RECLAIM_COMPLETE', () => {
    expect(LAST_OP_V41).toBe(OP.OP_RECLAIM_COMPLETE);
  });
});
