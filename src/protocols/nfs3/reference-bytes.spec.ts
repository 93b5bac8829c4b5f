import { describe, expect, it } from 'vitest';
import { XdrReader, XdrWriter } from '../xdr/xdr';
import { FSF3_CANSETTIME, FSF3_HOMOGENEOUS, FSF3_LINK, FSF3_SYMLINK, createmode3, ftype3, nfsstat3, stable_how, time_how } from './constants';
import type { fattr3 } from './common.codec';
import * as dir from './directory.codec';
import * as file from './file.codec';
import * as fs from './filesystem.codec';
import * as readdir from './readdir.codec';

/*
 * Every byte string below was written by hand from RFC 1813 and RFC 4506 (big-endian words, opaque
 * data padded to 4 bytes, bool as 0/1, optional data as a bool then the item), one field per group.
 */
const hex = (s: string): string => s.replace(/\s+|#[^\n]*/g, '');

/** The encoder produces exactly `bytes`, and decoding `bytes` gives back `value` using every byte. */
function reference<T>(encode: (w: XdrWriter, v: T) => void, decode: (r: XdrReader) => T, value: T, bytes: string): void {
  const w = new XdrWriter(8);
  encode(w, value);
  expect(w.toBuffer().toString('hex')).toBe(hex(bytes));
  const r = new XdrReader(Buffer.from(hex(bytes), 'hex'));
  expect(decode(r)).toEqual(value);
  r.done();
}

// A regular file: 0644, uid 1000, gid 100, 5000 bytes using 8192, fsid 0x0102030405060708, fileid 42.
const FILE_ATTR: fattr3 = {
  type: ftype3.NF3REG,
  mode: 0o644,
  nlink: 1,
  uid: 1000,
  gid: 100,
  size: 5000,
  used: 8192,
  rdev: { specdata1: 0, specdata2: 0 },
  fsid: 0x0102030405060708n,
  fileid: 42,
  atime: { seconds: 1_700_000_000, nseconds: 5 },
  mtime: { seconds: 1_700_000_000, nseconds: 6 },
  ctime: { seconds: 1_700_000_001, nseconds: 7 },
};
const FILE_ATTR_BYTES = `
  00000001                    # type NF3REG
  000001a4                    # mode 0644
  00000001                    # nlink
  000003e8                    # uid 1000
  00000064                    # gid 100
  00000000 00001388           # size 5000
  00000000 00002000           # used 8192
  00000000 00000000           # rdev
  01020304 05060708           # fsid
  00000000 0000002a           # fileid 42
  6553f100 00000005           # atime 1700000000.5
  6553f100 00000006           # mtime
  6553f101 00000007           # ctime`;

// A directory: 0755, two links, root-owned, 4096 bytes, fsid 1, fileid 1, all times 16.0.
const DIR_ATTR: fattr3 = {
  type: ftype3.NF3DIR,
  mode: 0o755,
  nlink: 2,
  uid: 0,
  gid: 0,
  size: 4096,
  used: 4096,
  rdev: { specdata1: 0, specdata2: 0 },
  fsid: 1n,
  fileid: 1,
  atime: { seconds: 16, nseconds: 0 },
  mtime: { seconds: 16, nseconds: 0 },
  ctime: { seconds: 16, nseconds: 0 },
};
const DIR_ATTR_BYTES = `
  00000002 000001ed 00000002 00000000 00000000
  00000000 00001000  00000000 00001000
  00000000 00000000
  00000000 00000001  00000000 00000001
  00000010 00000000  00000010 00000000  00000010 00000000`;

const FH8 = Buffer.from('0102030405060708', 'hex');
const FH4 = Buffer.from('cafef00d', 'hex');

describe('GETATTR', () => {
  it('args: the file handle as opaque<64>', () => {
    reference(file.encodeGETATTR3args, file.decodeGETATTR3args, { object: FH8 }, '00000008 0102030405060708');
  });
  it('res NFS3_OK carries a full fattr3', () => {
    reference(file.encodeGETATTR3res, file.decodeGETATTR3res, { status: nfsstat3.NFS3_OK, resok: { obj_attributes: FILE_ATTR } }, `00000000 ${FILE_ATTR_BYTES}`);
  });
  it('res failure is the status alone (default: void)', () => {
    reference(file.encodeGETATTR3res, file.decodeGETATTR3res, { status: nfsstat3.NFS3ERR_STALE, resfail: undefined }, '00000046');
  });
});

describe('LOOKUP', () => {
  it('args: diropargs3 with a padded name', () => {
    reference(dir.encodeLOOKUP3args, dir.decodeLOOKUP3args, { what: { dir: FH4, name: 'foo.txt' } }, `
      00000004 cafef00d           # dir
      00000007 666f6f2e 74787400  # "foo.txt" + 1 pad byte`);
  });
  it('res NFS3_OK: handle, object attributes, no directory attributes', () => {
    const object = Buffer.from('0a0b0c0d0e0f101112131415', 'hex');
    reference(
      dir.encodeLOOKUP3res,
      dir.decodeLOOKUP3res,
      { status: nfsstat3.NFS3_OK, resok: { object, obj_attributes: FILE_ATTR, dir_attributes: undefined } },
      `00000000
       0000000c 0a0b0c0d 0e0f1011 12131415   # object
       00000001 ${FILE_ATTR_BYTES}           # obj_attributes follow
       00000000                              # dir_attributes do not`,
    );
  });
  it('res NFS3ERR_NOENT with the directory attributes', () => {
    reference(dir.encodeLOOKUP3res, dir.decodeLOOKUP3res, { status: nfsstat3.NFS3ERR_NOENT, resfail: { dir_attributes: DIR_ATTR } }, `00000002 00000001 ${DIR_ATTR_BYTES}`);
  });
});

describe('READ', () => {
  it('args: handle, 64-bit offset past 4 GiB, count', () => {
    reference(file.encodeREAD3args, file.decodeREAD3args, { file: FH4, offset: 2 ** 32, count: 4096 }, `
      00000004 cafef00d
      00000001 00000000   # offset 4 GiB
      00001000            # count 4096`);
  });
  it('res NFS3_OK: no attributes, count, eof, padded data', () => {
    const data = Buffer.from('hello');
    reference(file.encodeREAD3res, file.decodeREAD3res, { status: nfsstat3.NFS3_OK, resok: { file_attributes: undefined, count: 5, eof: true, data } }, `
      00000000
      00000000            # file_attributes absent
      00000005            # count
      00000001            # eof
      00000005 68656c6c 6f000000`);
  });
  it('res NFS3ERR_IO with the file attributes', () => {
    reference(file.encodeREAD3res, file.decodeREAD3res, { status: nfsstat3.NFS3ERR_IO, resfail: { file_attributes: FILE_ATTR } }, `00000005 00000001 ${FILE_ATTR_BYTES}`);
  });
});

describe('WRITE', () => {
  it('args: FILE_SYNC with three bytes of data', () => {
    reference(file.encodeWRITE3args, file.decodeWRITE3args, { file: FH4, offset: 10, count: 3, stable: stable_how.FILE_SYNC, data: Buffer.from('abc') }, `
      00000004 cafef00d
      00000000 0000000a   # offset 10
      00000003            # count
      00000002            # stable FILE_SYNC
      00000003 61626300   # data "abc"`);
  });
  it('res NFS3_OK: wcc_data with pre-op attributes only, count, committed, verifier', () => {
    reference(
      file.encodeWRITE3res,
      file.decodeWRITE3res,
      {
        status: nfsstat3.NFS3_OK,
        resok: {
          file_wcc: { before: { size: 10, mtime: { seconds: 1, nseconds: 2 }, ctime: { seconds: 3, nseconds: 4 } }, after: undefined },
          count: 3,
          committed: stable_how.UNSTABLE,
          verf: 0x1122334455667788n,
        },
      },
      `00000000
       00000001 00000000 0000000a 00000001 00000002 00000003 00000004   # before: size, mtime, ctime
       00000000                                                         # after absent
       00000003                                                         # count
       00000000                                                         # committed UNSTABLE
       11223344 55667788                                                # verf`,
    );
  });
  it('res NFS3ERR_NOSPC with empty wcc_data', () => {
    reference(file.encodeWRITE3res, file.decodeWRITE3res, { status: nfsstat3.NFS3ERR_NOSPC, resfail: { file_wcc: { before: undefined, after: undefined } } }, '0000001c 00000000 00000000');
  });
});

describe('CREATE args, all three modes', () => {
  const where = `00000004 cafef00d 00000001 61000000   # dir, name "a"`;
  it('UNCHECKED with mode 0644 only', () => {
    reference(
      dir.encodeCREATE3args,
      dir.decodeCREATE3args,
      { where: { dir: FH4, name: 'a' }, how: { mode: createmode3.UNCHECKED, obj_attributes: { mode: 0o644 } } },
      `${where}
       00000000            # createmode3 UNCHECKED
       00000001 000001a4   # set mode 0644
       00000000            # uid not set
       00000000            # gid not set
       00000000            # size not set
       00000000            # atime DONT_CHANGE
       00000000            # mtime DONT_CHANGE`,
    );
  });
  it('GUARDED with uid 0, size 0, atime from the server, mtime from the client', () => {
    reference(
      dir.encodeCREATE3args,
      dir.decodeCREATE3args,
      {
        where: { dir: FH4, name: 'a' },
        how: { mode: createmode3.GUARDED, obj_attributes: { uid: 0, size: 0, atime: time_how.SET_TO_SERVER_TIME, mtime: { seconds: 5, nseconds: 6 } } },
      },
      `${where}
       00000001                     # createmode3 GUARDED
       00000000                     # mode not set
       00000001 00000000            # uid 0
       00000000                     # gid not set
       00000001 00000000 00000000   # size 0
       00000001                     # atime SET_TO_SERVER_TIME
       00000002 00000005 00000006   # mtime SET_TO_CLIENT_TIME 5.6`,
    );
  });
  it('EXCLUSIVE with the verifier', () => {
    reference(
      dir.encodeCREATE3args,
      dir.decodeCREATE3args,
      { where: { dir: FH4, name: 'a' }, how: { mode: createmode3.EXCLUSIVE, verf: 0x0123456789abcdefn } },
      `${where}
       00000002            # createmode3 EXCLUSIVE
       01234567 89abcdef   # createverf3`,
    );
  });
});

describe('SETATTR args', () => {
  it('gid and a size past 4 GiB, atime SET_TO_SERVER_TIME, mtime SET_TO_CLIENT_TIME, guarded by ctime', () => {
    reference(
      file.encodeSETATTR3args,
      file.decodeSETATTR3args,
      {
        object: FH4,
        new_attributes: { gid: 50, size: 2 ** 40, atime: time_how.SET_TO_SERVER_TIME, mtime: { seconds: 0x5f000000, nseconds: 123_456_789 } },
        guard: { seconds: 0x5f000001, nseconds: 0 },
      },
      `00000004 cafef00d
       00000000                     # mode not set
       00000000                     # uid not set
       00000001 00000032            # gid 50
       00000001 00000100 00000000   # size 2^40
       00000001                     # atime SET_TO_SERVER_TIME
       00000002 5f000000 075bcd15   # mtime SET_TO_CLIENT_TIME
       00000001 5f000001 00000000   # guard check TRUE, obj_ctime`,
    );
  });
  it('mode, atime from the client, mtime unchanged, no guard', () => {
    reference(
      file.encodeSETATTR3args,
      file.decodeSETATTR3args,
      { object: FH4, new_attributes: { mode: 0o4755, atime: { seconds: 1, nseconds: 999_999_999 } }, guard: undefined },
      `00000004 cafef00d
       00000001 000009ed            # mode 04755
       00000000 00000000 00000000   # uid, gid, size not set
       00000002 00000001 3b9ac9ff   # atime SET_TO_CLIENT_TIME 1.999999999
       00000000                     # mtime DONT_CHANGE
       00000000                     # guard check FALSE`,
    );
  });
  it('res NFS3ERR_NOT_SYNC keeps the wcc_data', () => {
    reference(
      file.encodeSETATTR3res,
      file.decodeSETATTR3res,
      { status: nfsstat3.NFS3ERR_NOT_SYNC, resfail: { obj_wcc: { before: undefined, after: FILE_ATTR } } },
      `00002712 00000000 00000001 ${FILE_ATTR_BYTES}`,
    );
  });
});

describe('READDIRPLUS res with two entries', () => {
  it('"." with a handle and no attributes, then "file1" with attributes, no handle, a full 64-bit cookie', () => {
    const handle = Buffer.from('aabbccdd', 'hex');
    reference(
      readdir.encodeREADDIRPLUS3res,
      readdir.decodeREADDIRPLUS3res,
      {
        status: nfsstat3.NFS3_OK,
        resok: {
          dir_attributes: undefined,
          cookieverf: 0xffn,
          reply: {
            entries: [
              { fileid: 2, name: '.', cookie: 1n, name_attributes: undefined, name_handle: handle },
              { fileid: 3, name: 'file1', cookie: 0xffffffffffffffffn, name_attributes: FILE_ATTR, name_handle: undefined },
            ],
            eof: true,
          },
        },
      },
      `00000000                      # NFS3_OK
       00000000                      # dir_attributes absent
       00000000 000000ff             # cookieverf
       00000001                      # entries: one follows
         00000000 00000002           # fileid 2
         00000001 2e000000           # name "."
         00000000 00000001           # cookie 1
         00000000                    # name_attributes absent
         00000001 00000004 aabbccdd  # name_handle
       00000001                      # nextentry follows
         00000000 00000003           # fileid 3
         00000005 66696c65 31000000  # name "file1"
         ffffffff ffffffff           # cookie 2^64-1
         00000001 ${FILE_ATTR_BYTES}
         00000000                    # name_handle absent
       00000000                      # no more entries
       00000001                      # eof`,
    );
  });
  it('args: cookie, verifier, dircount, maxcount', () => {
    reference(readdir.encodeREADDIRPLUS3args, readdir.decodeREADDIRPLUS3args, { dir: FH4, cookie: 0x8000000000000001n, cookieverf: 0x0102030405060708n, dircount: 4096, maxcount: 32768 }, `
      00000004 cafef00d
      80000000 00000001   # cookie
      01020304 05060708   # cookieverf
      00001000            # dircount
      00008000            # maxcount`);
  });
  it('READDIR res: an empty directory listing at eof', () => {
    reference(readdir.encodeREADDIR3res, readdir.decodeREADDIR3res, { status: nfsstat3.NFS3_OK, resok: { dir_attributes: undefined, cookieverf: 0n, reply: { entries: [], eof: true } } }, `
      00000000 00000000 00000000 00000000 00000000 00000001`);
  });
});

describe('FSINFO res', () => {
  it('1 MiB transfers, 4 KiB multiples, 2^53-1 max file size, 1 ns time delta, all properties', () => {
    reference(
      fs.encodeFSINFO3res,
      fs.decodeFSINFO3res,
      {
        status: nfsstat3.NFS3_OK,
        resok: {
          obj_attributes: undefined,
          rtmax: 1 << 20,
          rtpref: 1 << 20,
          rtmult: 4096,
          wtmax: 1 << 20,
          wtpref: 1 << 20,
          wtmult: 4096,
          dtpref: 65536,
          maxfilesize: 2 ** 53 - 1,
          time_delta: { seconds: 0, nseconds: 1 },
          properties: FSF3_LINK | FSF3_SYMLINK | FSF3_HOMOGENEOUS | FSF3_CANSETTIME,
        },
      },
      `00000000
       00000000                      # obj_attributes absent
       00100000 00100000 00001000    # rtmax rtpref rtmult
       00100000 00100000 00001000    # wtmax wtpref wtmult
       00010000                      # dtpref
       001fffff ffffffff             # maxfilesize
       00000000 00000001             # time_delta
       0000001b                      # LINK|SYMLINK|HOMOGENEOUS|CANSETTIME`,
    );
  });
});

describe('RENAME res with wcc_data', () => {
  const body = `
    00000001 00000000 00001000 00000064 00000000 00000064 00000000   # fromdir before: 4096, mtime 100, ctime 100
    00000001 ${DIR_ATTR_BYTES}                                        # fromdir after
    00000000 00000000                                                 # todir: neither`;
  const value = {
    fromdir_wcc: { before: { size: 4096, mtime: { seconds: 100, nseconds: 0 }, ctime: { seconds: 100, nseconds: 0 } }, after: DIR_ATTR },
    todir_wcc: { before: undefined, after: undefined },
  };
  it('NFS3_OK', () => {
    reference(dir.encodeRENAME3res, dir.decodeRENAME3res, { status: nfsstat3.NFS3_OK, resok: value }, `00000000 ${body}`);
  });
  it('NFS3ERR_NOTEMPTY carries the same two wcc_data', () => {
    reference(dir.encodeRENAME3res, dir.decodeRENAME3res, { status: nfsstat3.NFS3ERR_NOTEMPTY, resfail: value }, `00000042 ${body}`);
  });
});

describe('the smaller procedures', () => {
  it('NULL has empty arguments and result', () => {
    reference(fs.encodeNULL3args, fs.decodeNULL3args, undefined, '');
    reference(fs.encodeNULL3res, fs.decodeNULL3res, undefined, '');
  });
  it('ACCESS res grants READ|LOOKUP', () => {
    reference(file.encodeACCESS3res, file.decodeACCESS3res, { status: nfsstat3.NFS3_OK, resok: { obj_attributes: undefined, access: 3 } }, '00000000 00000000 00000003');
  });
  it('COMMIT args: offset 0, count 0 (the whole file)', () => {
    reference(file.encodeCOMMIT3args, file.decodeCOMMIT3args, { file: FH4, offset: 0, count: 0 }, '00000004 cafef00d 00000000 00000000 00000000');
  });
  it('MKNOD args for a FIFO carry pipe attributes, for a character device the major/minor too', () => {
    reference(
      dir.encodeMKNOD3args,
      dir.decodeMKNOD3args,
      { where: { dir: FH4, name: 'p' }, what: { type: ftype3.NF3FIFO, pipe_attributes: { mode: 0o600 } } },
      `00000004 cafef00d 00000001 70000000
       00000007                                             # NF3FIFO
       00000001 00000180 00000000 00000000 00000000 00000000 00000000`,
    );
    reference(
      dir.encodeMKNOD3args,
      dir.decodeMKNOD3args,
      { where: { dir: FH4, name: 'c' }, what: { type: ftype3.NF3CHR, device: { dev_attributes: {}, spec: { specdata1: 1, specdata2: 3 } } } },
      `00000004 cafef00d 00000001 63000000
       00000004                                             # NF3CHR
       00000000 00000000 00000000 00000000 00000000 00000000
       00000001 00000003                                    # major 1, minor 3`,
    );
  });
  it('SYMLINK args: attributes, then the target path', () => {
    reference(
      dir.encodeSYMLINK3args,
      dir.decodeSYMLINK3args,
      { where: { dir: FH4, name: 'l' }, symlink: { symlink_attributes: {}, symlink_data: '../t' } },
      `00000004 cafef00d 00000001 6c000000
       00000000 00000000 00000000 00000000 00000000 00000000
       00000004 2e2e2f74`,
    );
  });
});
