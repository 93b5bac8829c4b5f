/**
 * NFSv3 procedures on one object (RFC 1813 sections 3.3.1-3.3.7 and 3.3.21): GETATTR, SETATTR, ACCESS,
 * READLINK, READ, WRITE, COMMIT. Server side: decodeXxx3args + encodeXxx3res; client side:
 * encodeXxx3args + decodeXxx3res. Attributes that may be absent on the wire are optional fields.
 */

import { STABLE_HOW_VALUES, stable_how } from './constants';
import { XdrDecodeError, type XdrReader, type XdrWriter } from '../xdr/xdr';
import {
  readFattr3,
  readNfsFh3,
  readNfspath3,
  readNfstime3,
  readPostOpAttr,
  readResult,
  readSattr3,
  readVerf,
  readWccData,
  writeFattr3,
  writeNfsFh3,
  writeNfstime3,
  writePostOpAttr,
  writeResult,
  writeSattr3,
  writeVerf,
  writeWccData,
  type Nfs3Result,
  type fattr3,
  type nfs_fh3,
  type nfstime3,
  type post_op_attr,
  type sattr3,
  type wcc_data,
} from './common.codec';

const noBody = (): void => undefined;

/*
 * struct GETATTR3args { nfs_fh3 object; };
 * struct GETATTR3resok { fattr3 obj_attributes; };
 * union GETATTR3res switch (nfsstat3 status) { case NFS3_OK: GETATTR3resok resok; default: void; };
 */
export interface GETATTR3args {
  object: nfs_fh3;
}
export interface GETATTR3resok {
  obj_attributes: fattr3;
}
export type GETATTR3res = Nfs3Result<GETATTR3resok, void>;

export function decodeGETATTR3args(r: XdrReader): GETATTR3args {
  return { object: readNfsFh3(r, 'GETATTR3args.object') };
}
export function encodeGETATTR3res(w: XdrWriter, res: GETATTR3res): void {
  writeResult(w, res, (x, ok) => writeFattr3(x, ok.obj_attributes), noBody);
}
export function encodeGETATTR3args(w: XdrWriter, a: GETATTR3args): void {
  writeNfsFh3(w, a.object);
}
export function decodeGETATTR3res(r: XdrReader): GETATTR3res {
  return readResult(r, (x) => ({ obj_attributes: readFattr3(x) }), noBody);
}

/*
 * union sattrguard3 switch (bool check) { case TRUE: nfstime3 obj_ctime; case FALSE: void; };
 * struct SETATTR3args { nfs_fh3 object; sattr3 new_attributes; sattrguard3 guard; };
 * struct SETATTR3resok { wcc_data obj_wcc; };
 * struct SETATTR3resfail { wcc_data obj_wcc; };
 * union SETATTR3res switch (nfsstat3 status) { case NFS3_OK: SETATTR3resok resok; default: SETATTR3resfail resfail; };
 */
export interface SETATTR3args {
  object: nfs_fh3;
  new_attributes: sattr3;
  /** sattrguard3: the ctime the object must still have (check = TRUE), else NFS3ERR_NOT_SYNC. */
  guard?: nfstime3;
}
export interface SETATTR3resok {
  obj_wcc?: wcc_data;
}
export type SETATTR3resfail = SETATTR3resok;
export type SETATTR3res = Nfs3Result<SETATTR3resok, SETATTR3resfail>;

export function decodeSETATTR3args(r: XdrReader): SETATTR3args {
  const object = readNfsFh3(r, 'SETATTR3args.object');
  const new_attributes = readSattr3(r, 'SETATTR3args.new_attributes');
  const guard = r.bool('sattrguard3.check') ? readNfstime3(r, 'sattrguard3.obj_ctime') : undefined;
  return { object, new_attributes, guard };
}
export function encodeSETATTR3res(w: XdrWriter, res: SETATTR3res): void {
  writeResult(w, res, (x, ok) => writeWccData(x, ok.obj_wcc), (x, f) => writeWccData(x, f?.obj_wcc));
}
export function encodeSETATTR3args(w: XdrWriter, a: SETATTR3args): void {
  writeNfsFh3(w, a.object);
  writeSattr3(w, a.new_attributes);
  w.bool(a.guard !== undefined);
  if (a.guard !== undefined) writeNfstime3(w, a.guard);
}
const readObjWcc = (r: XdrReader): SETATTR3resok => ({ obj_wcc: readWccData(r, 'obj_wcc') });
export function decodeSETATTR3res(r: XdrReader): SETATTR3res {
  return readResult(r, readObjWcc, readObjWcc);
}

/*
 * struct ACCESS3args { nfs_fh3 object; uint32 access; };
 * struct ACCESS3resok { post_op_attr obj_attributes; uint32 access; };
 * struct ACCESS3resfail { post_op_attr obj_attributes; };
 * union ACCESS3res switch (nfsstat3 status) { case NFS3_OK: ACCESS3resok resok; default: ACCESS3resfail resfail; };
 */
export interface ACCESS3args {
  object: nfs_fh3;
  /** ACCESS3_* bits asked for. */
  access: number;
}
export interface ACCESS3resok {
  obj_attributes?: post_op_attr;
  /** ACCESS3_* bits granted (a subset of those asked). */
  access: number;
}
export interface ACCESS3resfail {
  obj_attributes?: post_op_attr;
}
export type ACCESS3res = Nfs3Result<ACCESS3resok, ACCESS3resfail>;

export function decodeACCESS3args(r: XdrReader): ACCESS3args {
  return { object: readNfsFh3(r, 'ACCESS3args.object'), access: r.uint32('ACCESS3args.access') };
}
export function encodeACCESS3res(w: XdrWriter, res: ACCESS3res): void {
  writeResult(
    w,
    res,
    (x, ok) => {
      writePostOpAttr(x, ok.obj_attributes);
      x.uint32(ok.access);
    },
    (x, f) => writePostOpAttr(x, f?.obj_attributes),
  );
}
export function encodeACCESS3args(w: XdrWriter, a: ACCESS3args): void {
  writeNfsFh3(w, a.object);
  w.uint32(a.access);
}
export function decodeACCESS3res(r: XdrReader): ACCESS3res {
  return readResult(
    r,
    (x) => ({ obj_attributes: readPostOpAttr(x, 'obj_attributes'), access: x.uint32('ACCESS3resok.access') }),
    (x) => ({ obj_attributes: readPostOpAttr(x, 'obj_attributes') }),
  );
}

/*
 * struct READLINK3args { nfs_fh3 symlink; };
 * struct READLINK3resok { post_op_attr symlink_attributes; nfspath3 data; };
 * struct READLINK3resfail { post_op_attr symlink_attributes; };
 * union READLINK3res switch (nfsstat3 status) { case NFS3_OK: READLINK3resok resok; default: READLINK3resfail resfail; };
 */
export interface READLINK3args {
  symlink: nfs_fh3;
}
export interface READLINK3resok {
  symlink_attributes?: post_op_attr;
  data: string;
}
export interface READLINK3resfail {
  symlink_attributes?: post_op_attr;
}
export type READLINK3res = Nfs3Result<READLINK3resok, READLINK3resfail>;

export function decodeREADLINK3args(r: XdrReader): READLINK3args {
  return { symlink: readNfsFh3(r, 'READLINK3args.symlink') };
}
export function encodeREADLINK3res(w: XdrWriter, res: READLINK3res): void {
  writeResult(
    w,
    res,
    (x, ok) => {
      writePostOpAttr(x, ok.symlink_attributes);
      x.string(ok.data);
    },
    (x, f) => writePostOpAttr(x, f?.symlink_attributes),
  );
}
export function encodeREADLINK3args(w: XdrWriter, a: READLINK3args): void {
  writeNfsFh3(w, a.symlink);
}
export function decodeREADLINK3res(r: XdrReader): READLINK3res {
  return readResult(
    r,
    (x) => ({ symlink_attributes: readPostOpAttr(x, 'symlink_attributes'), data: readNfspath3(x, 'READLINK3resok.data') }),
    (x) => ({ symlink_attributes: readPostOpAttr(x, 'symlink_attributes') }),
  );
}

/*
 * struct READ3args { nfs_fh3 file; offset3 offset; count3 count; };
 * struct READ3resok { post_op_attr file_attributes; count3 count; bool eof; opaque data<>; };
 * struct READ3resfail { post_op_attr file_attributes; };
 * union READ3res switch (nfsstat3 status) { case NFS3_OK: READ3resok resok; default: READ3resfail resfail; };
 */
export interface READ3args {
  file: nfs_fh3;
  /** Clamped to 2^53 when the client sends more: past the end of any file. */
  offset: number;
  count: number;
}
export interface READ3resok {
  file_attributes?: post_op_attr;
  /** Bytes returned: data.length. */
  count: number;
  eof: boolean;
  /** Kept by reference in the writer (no copy) when 512 bytes or more. */
  data: Buffer;
}
export interface READ3resfail {
  file_attributes?: post_op_attr;
}
export type READ3res = Nfs3Result<READ3resok, READ3resfail>;

export function decodeREAD3args(r: XdrReader): READ3args {
  return { file: readNfsFh3(r, 'READ3args.file'), offset: r.uhyperClamped('READ3args.offset'), count: r.uint32('READ3args.count') };
}
export function encodeREAD3res(w: XdrWriter, res: READ3res): void {
  writeResult(
    w,
    res,
    (x, ok) => {
      writePostOpAttr(x, ok.file_attributes);
      x.uint32(ok.count).bool(ok.eof).varOpaque(ok.data);
    },
    (x, f) => writePostOpAttr(x, f?.file_attributes),
  );
}
export function encodeREAD3args(w: XdrWriter, a: READ3args): void {
  writeNfsFh3(w, a.file);
  w.uhyper(a.offset).uint32(a.count);
}
export function decodeREAD3res(r: XdrReader): READ3res {
  return readResult(
    r,
    (x) => ({
      file_attributes: readPostOpAttr(x, 'file_attributes'),
      count: x.uint32('READ3resok.count'),
      eof: x.bool('READ3resok.eof'),
      data: x.varOpaque(0xffffffff, 'READ3resok.data'),
    }),
    (x) => ({ file_attributes: readPostOpAttr(x, 'file_attributes') }),
  );
}

/*
 * enum stable_how { UNSTABLE = 0, DATA_SYNC = 1, FILE_SYNC = 2 };
 * struct WRITE3args { nfs_fh3 file; offset3 offset; count3 count; stable_how stable; opaque data<>; };
 * struct WRITE3resok { wcc_data file_wcc; count3 count; stable_how committed; writeverf3 verf; };
 * struct WRITE3resfail { wcc_data file_wcc; };
 * union WRITE3res switch (nfsstat3 status) { case NFS3_OK: WRITE3resok resok; default: WRITE3resfail resfail; };
 */
export interface WRITE3args {
  file: nfs_fh3;
  /** Clamped to 2^53 when the client sends more: the handler answers NFS3ERR_FBIG. */
  offset: number;
  count: number;
  stable: stable_how;
  /** A view into the request buffer; decode checks data.length === count. */
  data: Buffer;
}
export interface WRITE3resok {
  file_wcc?: wcc_data;
  count: number;
  committed: stable_how;
  /** writeverf3: changes whenever unstable data could have been lost. */
  verf: bigint;
}
export interface WRITE3resfail {
  file_wcc?: wcc_data;
}
export type WRITE3res = Nfs3Result<WRITE3resok, WRITE3resfail>;

export function decodeWRITE3args(r: XdrReader): WRITE3args {
  const file = readNfsFh3(r, 'WRITE3args.file');
  const offset = r.uhyperClamped('WRITE3args.offset');
  const count = r.uint32('WRITE3args.count');
  const stable = r.enumOf<stable_how>(STABLE_HOW_VALUES, 'WRITE3args.stable');
  const data = r.varOpaque(0xffffffff, 'WRITE3args.data');
  // Linux nfsd also refuses a count that disagrees with the data: which one would we write?
  if (data.length !== count) throw new XdrDecodeError(`WRITE3args.count ${count} differs from the ${data.length} bytes of data`);
  return { file, offset, count, stable, data };
}
export function encodeWRITE3res(w: XdrWriter, res: WRITE3res): void {
  writeResult(
    w,
    res,
    (x, ok) => {
      writeWccData(x, ok.file_wcc);
      x.uint32(ok.count).int32(ok.committed);
      writeVerf(x, ok.verf);
    },
    (x, f) => writeWccData(x, f?.file_wcc),
  );
}
export function encodeWRITE3args(w: XdrWriter, a: WRITE3args): void {
  writeNfsFh3(w, a.file);
  w.uhyper(a.offset).uint32(a.count).int32(a.stable).varOpaque(a.data);
}
export function decodeWRITE3res(r: XdrReader): WRITE3res {
  return readResult(
    r,
    (x) => ({
      file_wcc: readWccData(x, 'file_wcc'),
      count: x.uint32('WRITE3resok.count'),
      committed: x.enumOf<stable_how>(STABLE_HOW_VALUES, 'WRITE3resok.committed'),
      verf: readVerf(x, 'WRITE3resok.verf'),
    }),
    (x) => ({ file_wcc: readWccData(x, 'file_wcc') }),
  );
}

/*
 * struct COMMIT3args { nfs_fh3 file; offset3 offset; count3 count; };
 * struct COMMIT3resok { wcc_data file_wcc; writeverf3 verf; };
 * struct COMMIT3resfail { wcc_data file_wcc; };
 * union COMMIT3res switch (nfsstat3 status) { case NFS3_OK: COMMIT3resok resok; default: COMMIT3resfail resfail; };
 */
export interface COMMIT3args {
  file: nfs_fh3;
  offset: number;
  /** 0 means from offset to the end of the file. */
  count: number;
}
export interface COMMIT3resok {
  file_wcc?: wcc_data;
  verf: bigint;
}
export interface COMMIT3resfail {
  file_wcc?: wcc_data;
}
export type COMMIT3res = Nfs3Result<COMMIT3resok, COMMIT3resfail>;

export function decodeCOMMIT3args(r: XdrReader): COMMIT3args {
  return { file: readNfsFh3(r, 'COMMIT3args.file'), offset: r.uhyperClamped('COMMIT3args.offset'), count: r.uint32('COMMIT3args.count') };
}
export function encodeCOMMIT3res(w: XdrWriter, res: COMMIT3res): void {
  writeResult(
    w,
    res,
    (x, ok) => {
      writeWccData(x, ok.file_wcc);
      writeVerf(x, ok.verf);
    },
    (x, f) => writeWccData(x, f?.file_wcc),
  );
}
export function encodeCOMMIT3args(w: XdrWriter, a: COMMIT3args): void {
  writeNfsFh3(w, a.file);
  w.uhyper(a.offset).uint32(a.count);
}
export function decodeCOMMIT3res(r: XdrReader): COMMIT3res {
  return readResult(
    r,
    (x) => ({ file_wcc: readWccData(x, 'file_wcc'), verf: readVerf(x, 'COMMIT3resok.verf') }),
    (x) => ({ file_wcc: readWccData(x, 'file_wcc') }),
  );
}
