import { describe, expect, it } from 'vitest';
import { XdrWriter } from '../xdr/xdr';
import { nfsstat3 } from './constants';
import { FATTR3_SIZE, nfsFh3Size, postOpAttrSize, postOpFh3Size, writeFattr3 } from './common.codec';
import {
  encodeREADDIR3res,
  encodeREADDIRPLUS3res,
  entry3Size,
  entryplus3DirSize,
  entryplus3Size,
  readdir3ResokFixedSize,
  type entry3,
  type entryplus3,
} from './readdir.codec';
import { Arbitrary } from './testing/arbitrary';

/** The status word sits outside READDIR3resok and is not counted against count/maxcount. */
const STATUS = 4;

describe('READDIR / READDIRPLUS size helpers match the encoded bytes', () => {
  it('fattr3 and the optional wrappers', () => {
    const a = new Arbitrary(5);
    const w = new XdrWriter();
    writeFattr3(w, a.fattr());
    expect(w.length).toBe(FATTR3_SIZE);
    expect(postOpAttrSize(undefined)).toBe(4);
    expect(postOpAttrSize(a.fattr())).toBe(88);
    expect(nfsFh3Size(Buffer.alloc(0))).toBe(4);
    expect(nfsFh3Size(Buffer.alloc(33))).toBe(40);
    expect(postOpFh3Size(Buffer.alloc(32))).toBe(40);
  });

  it('READDIR3resok: fixed part plus entry3Size per entry, for random listings', () => {
    const a = new Arbitrary(6);
    for (let i = 0; i < 500; i++) {
      const dir_attributes = a.postOpAttr();
      const entries: entry3[] = a.list(() => a.entry(), 20);
      const w = new XdrWriter();
      encodeREADDIR3res(w, { status: nfsstat3.NFS3_OK, resok: { dir_attributes, cookieverf: a.u64(), reply: { entries, eof: a.bool() } } });
      const predicted = readdir3ResokFixedSize(dir_attributes) + entries.reduce((n, e) => n + entry3Size(e.name), 0);
      expect(w.length - STATUS).toBe(predicted);
    }
  });

  it('READDIRPLUS3resok: fixed part plus entryplus3Size per entry; dircount counts fileid, name and cookie only', () => {
    const a = new Arbitrary(7);
    for (let i = 0; i < 500; i++) {
      const dir_attributes = a.postOpAttr();
      const entries: entryplus3[] = a.list(() => a.entryplus(), 20);
      const w = new XdrWriter();
      encodeREADDIRPLUS3res(w, { status: nfsstat3.NFS3_OK, resok: { dir_attributes, cookieverf: a.u64(), reply: { entries, eof: a.bool() } } });
      expect(w.length - STATUS).toBe(readdir3ResokFixedSize(dir_attributes) + entries.reduce((n, e) => n + entryplus3Size(e), 0));
      for (const e of entries) {
        const info = new XdrWriter().uhyper(e.fileid).string(e.name).uhyper(e.cookie);
        expect(entryplus3DirSize(e.name)).toBe(info.length);
      }
    }
  });

  it('hand-counted sizes: "." is 28 bytes in READDIR, "file1" is 32; multi-byte names count UTF-8 bytes', () => {
    // pointer 4 + fileid 8 + length 4 + "." padded to 4 + cookie 8
    expect(entry3Size('.')).toBe(28);
    expect(entry3Size('file1')).toBe(32);
    expect(entry3Size('')).toBe(24);
    expect(entry3Size('中')).toBe(28); // 3 bytes, padded to 4
    expect(entryplus3DirSize('file1')).toBe(28);
    // with attributes (4 + 84) and an 8-byte handle (4 + 4 + 8)
    expect(entryplus3Size({ name: 'file1', name_attributes: new Arbitrary(1).fattr(), name_handle: Buffer.alloc(8) })).toBe(32 + 88 + 16);
    // post_op_attr absent 4 + cookieverf 8 + end of list 4 + eof 4
    expect(readdir3ResokFixedSize(undefined)).toBe(20);
  });

  it('a handler that adds entries while the sums fit never exceeds count or dircount', () => {
    const a = new Arbitrary(8);
    for (let i = 0; i < 200; i++) {
      const maxcount = a.int(100, 4000);
      const dircount = a.int(50, 1000);
      const dir_attributes = a.postOpAttr();
      let total = readdir3ResokFixedSize(dir_attributes);
      let dirTotal = 0;
      const chosen: entryplus3[] = [];
      for (const e of a.list(() => a.entryplus(), 60)) {
        if (total + entryplus3Size(e) > maxcount || dirTotal + entryplus3DirSize(e.name) > dircount) break;
        total += entryplus3Size(e);
        dirTotal += entryplus3DirSize(e.name);
        chosen.push(e);
      }
      const w = new XdrWriter();
      encodeREADDIRPLUS3res(w, { status: nfsstat3.NFS3_OK, resok: { dir_attributes, cookieverf: 0n, reply: { entries: chosen, eof: false } } });
      expect(w.length - STATUS).toBeLessThanOrEqual(maxcount);
      expect(w.length - STATUS).toBe(total);
    }
  });
});
