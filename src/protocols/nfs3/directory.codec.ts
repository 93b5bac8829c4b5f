/**
 * NFSv3 procedures on directory entries (RFC 1813 sections 3.3.3 and 3.3.8-3.3.15): LOOKUP, CREATE,
 * MKDIR, SYMLINK, MKNOD, REMOVE, RMDIR, RENAME, LINK. Names decode as filename3 (Nfs3DecodeError with
 * NAMETOOLONG past 255 bytes, INVAL when not UTF-8); empty names, ".", ".." and names holding "/" or NUL
 * are valid XDR and left to the filesystem engine to refuse.
 */

import { CREATEMODE3_VALUES, createmode3, ftype3 } from './constants';
import type { XdrReader, XdrWriter } from '../xdr/xdr';
import {
  readDiropargs3,
  readFtype3,
  readNfsFh3,
  readNfspath3,
  readPostOpAttr,
  readPostOpFh3,
  readResult,
  readSattr3,
  readVerf,
  readWccData,
  writeDiropargs3,
  writeNfsFh3,
  writePostOpAttr,
  writePostOpFh3,
  writeResult,
  writeSattr3,
  writeVerf,
  writeWccData,
  type Nfs3Result,
  type diropargs3,
  type nfs_fh3,
  type post_op_attr,
  type post_op_fh3,
  type sattr3,
  type specdata3,
  type wcc_data,
} from './common.codec';

/*
 * struct LOOKUP3args { diropargs3 what; };
 * struct LOOKUP3resok { nfs_fh3 object; post_op_attr obj_attributes; post_op_attr dir_attributes; };
 * struct LOOKUP3resfail { post_op_attr dir_attributes; };
 * union LOOKUP3res switch (nfsstat3 status) { case NFS3_OK: LOOKUP3resok resok; default: LOOKUP3resfail resfail; };
 */
export interface LOOKUP3args {
  what: diropargs3;
}
export interface LOOKUP3resok {
  object: nfs_fh3;
  obj_attributes?: post_op_attr;
  dir_attributes?: post_op_attr;
}
export interface LOOKUP3resfail {
  dir_attributes?: post_op_attr;
}
export type LOOKUP3res = Nfs3Result<LOOKUP3resok, LOOKUP3resfail>;

export function decodeLOOKUP3args(r: XdrReader): LOOKUP3args {
  return { what: readDiropargs3(r, 'LOOKUP3args.what') };
}
export function encodeLOOKUP3res(w: XdrWriter, res: LOOKUP3res): void {
  writeResult(
    w,
    res,
    (x, ok) => {
      writeNfsFh3(x, ok.object);
      writePostOpAttr(x, ok.obj_attributes);
      writePostOpAttr(x, ok.dir_attributes);
    },
    (x, f) => writePostOpAttr(x, f?.dir_attributes),
  );
}
export function encodeLOOKUP3args(w: XdrWriter, a: LOOKUP3args): void {
  writeDiropargs3(w, a.what);
}
export function decodeLOOKUP3res(r: XdrReader): LOOKUP3res {
  return readResult(
    r,
    (x) => ({
      object: readNfsFh3(x, 'LOOKUP3resok.object'),
      obj_attributes: readPostOpAttr(x, 'obj_attributes'),
      dir_attributes: readPostOpAttr(x, 'dir_attributes'),
    }),
    (x) => ({ dir_attributes: readPostOpAttr(x, 'dir_attributes') }),
  );
}

/*
 * The four creating procedures answer alike:
 * struct CREATE3resok { post_op_fh3 obj; post_op_attr obj_attributes; wcc_data dir_wcc; };
 * struct CREATE3resfail { wcc_data dir_wcc; };
 * (MKDIR3resok, SYMLINK3resok, MKNOD3resok and their resfail are declared the same way.)
 */
export interface CREATE3resok {
  obj?: post_op_fh3;
  obj_attributes?: post_op_attr;
  dir_wcc?: wcc_data;
}
export interface CREATE3resfail {
  dir_wcc?: wcc_data;
}
export type CREATE3res = Nfs3Result<CREATE3resok, CREATE3resfail>;
export type MKDIR3res = CREATE3res;
export type SYMLINK3res = CREATE3res;
export type MKNOD3res = CREATE3res;

/** Encodes CREATE3res, MKDIR3res, SYMLINK3res and MKNOD3res. */
export function encodeCREATE3res(w: XdrWriter, res: CREATE3res): void {
  writeResult(
    w,
    res,
    (x, ok) => {
      writePostOpFh3(x, ok.obj);
      writePostOpAttr(x, ok.obj_attributes);
      writeWccData(x, ok.dir_wcc);
    },
    (x, f) => writeWccData(x, f?.dir_wcc),
  );
}
export function decodeCREATE3res(r: XdrReader): CREATE3res {
  return readResult(
    r,
    (x) => ({ obj: readPostOpFh3(x, 'obj'), obj_attributes: readPostOpAttr(x, 'obj_attributes'), dir_wcc: readWccData(x, 'dir_wcc') }),
    (x) => ({ dir_wcc: readWccData(x, 'dir_wcc') }),
  );
}
export const encodeMKDIR3res = encodeCREATE3res;
export const decodeMKDIR3res = decodeCREATE3res;
export const encodeSYMLINK3res = encodeCREATE3res;
export const decodeSYMLINK3res = decodeCREATE3res;
export const encodeMKNOD3res = encodeCREATE3res;
export const decodeMKNOD3res = decodeCREATE3res;

/*
 * enum createmode3 { UNCHECKED = 0, GUARDED = 1, EXCLUSIVE = 2 };
 * union createhow3 switch (createmode3 mode) {
 * case UNCHECKED:
 * case GUARDED:   sattr3 obj_attributes;
 * case EXCLUSIVE: createverf3 verf;
 * };
 * struct CREATE3args { diropargs3 where; createhow3 how; };
 */
export type createhow3 =
  | { mode: createmode3.UNCHECKED | createmode3.GUARDED; obj_attributes: sattr3 }
  | { mode: createmode3.EXCLUSIVE; verf: bigint };
export interface CREATE3args {
  where: diropargs3;
  how: createhow3;
}

export function decodeCREATE3args(r: XdrReader): CREATE3args {
  const where = readDiropargs3(r, 'CREATE3args.where');
  const mode = r.enumOf<createmode3>(CREATEMODE3_VALUES, 'createhow3.mode');
  const how: createhow3 =
    mode === createmode3.EXCLUSIVE ? { mode, verf: readVerf(r, 'createhow3.verf') } : { mode, obj_attributes: readSattr3(r, 'createhow3.obj_attributes') };
  return { where, how };
}
export function encodeCREATE3args(w: XdrWriter, a: CREATE3args): void {
  writeDiropargs3(w, a.where);
  w.int32(a.how.mode);
  if (a.how.mode === createmode3.EXCLUSIVE) writeVerf(w, a.how.verf);
  else writeSattr3(w, a.how.obj_attributes);
}

/* struct MKDIR3args { diropargs3 where; sattr3 attributes; }; */
export interface MKDIR3args {
  where: diropargs3;
  attributes: sattr3;
}
export function decodeMKDIR3args(r: XdrReader): MKDIR3args {
  return { where: readDiropargs3(r, 'MKDIR3args.where'), attributes: readSattr3(r, 'MKDIR3args.attributes') };
}
export function encodeMKDIR3args(w: XdrWriter, a: MKDIR3args): void {
  writeDiropargs3(w, a.where);
  writeSattr3(w, a.attributes);
}

/*
 * struct symlinkdata3 { sattr3 symlink_attributes; nfspath3 symlink_data; };
 * struct SYMLINK3args { diropargs3 where; symlinkdata3 symlink; };
 */
export interface symlinkdata3 {
  symlink_attributes: sattr3;
  /** At most NFS3_MAXPATHLEN bytes of UTF-8, else Nfs3DecodeError. */
  symlink_data: string;
}
export interface SYMLINK3args {
  where: diropargs3;
  symlink: symlinkdata3;
}
export function decodeSYMLINK3args(r: XdrReader): SYMLINK3args {
  const where = readDiropargs3(r, 'SYMLINK3args.where');
  const symlink_attributes = readSattr3(r, 'symlinkdata3.symlink_attributes');
  return { where, symlink: { symlink_attributes, symlink_data: readNfspath3(r, 'symlinkdata3.symlink_data') } };
}
export function encodeSYMLINK3args(w: XdrWriter, a: SYMLINK3args): void {
  writeDiropargs3(w, a.where);
  writeSattr3(w, a.symlink.symlink_attributes);
  w.string(a.symlink.symlink_data);
}

/*
 * struct devicedata3 { sattr3 dev_attributes; specdata3 spec; };
 * union mknoddata3 switch (ftype3 type) {
 * case NF3CHR:
 * case NF3BLK:  devicedata3 device;
 * case NF3SOCK:
 * case NF3FIFO: sattr3 pipe_attributes;
 * default:      void;
 * };
 * struct MKNOD3args { diropargs3 where; mknoddata3 what; };
 */
export interface devicedata3 {
  dev_attributes: sattr3;
  spec: specdata3;
}
export type mknoddata3 =
  | { type: ftype3.NF3CHR | ftype3.NF3BLK; device: devicedata3 }
  | { type: ftype3.NF3SOCK | ftype3.NF3FIFO; pipe_attributes: sattr3 }
  /** The handler answers NFS3ERR_BADTYPE for these. */
  | { type: ftype3.NF3REG | ftype3.NF3DIR | ftype3.NF3LNK };
export interface MKNOD3args {
  where: diropargs3;
  what: mknoddata3;
}

export function decodeMKNOD3args(r: XdrReader): MKNOD3args {
  const where = readDiropargs3(r, 'MKNOD3args.where');
  const type = readFtype3(r, 'mknoddata3.type');
  let what: mknoddata3;
  if (type === ftype3.NF3CHR || type === ftype3.NF3BLK) {
    const dev_attributes = readSattr3(r, 'devicedata3.dev_attributes');
    what = { type, device: { dev_attributes, spec: { specdata1: r.uint32('devicedata3.spec.specdata1'), specdata2: r.uint32('devicedata3.spec.specdata2') } } };
  } else if (type === ftype3.NF3SOCK || type === ftype3.NF3FIFO) {
    what = { type, pipe_attributes: readSattr3(r, 'mknoddata3.pipe_attributes') };
  } else {
    what = { type };
  }
  return { where, what };
}
export function encodeMKNOD3args(w: XdrWriter, a: MKNOD3args): void {
  writeDiropargs3(w, a.where);
  const what = a.what;
  w.int32(what.type);
  if ('device' in what) {
    writeSattr3(w, what.device.dev_attributes);
    w.uint32(what.device.spec.specdata1).uint32(what.device.spec.specdata2);
  } else if ('pipe_attributes' in what) {
    writeSattr3(w, what.pipe_attributes);
  }
}

/*
 * struct REMOVE3args { diropargs3 object; };
 * struct REMOVE3resok { wcc_data dir_wcc; };
 * struct REMOVE3resfail { wcc_data dir_wcc; };
 * union REMOVE3res switch (nfsstat3 status) { case NFS3_OK: REMOVE3resok resok; default: REMOVE3resfail resfail; };
 * (RMDIR3args, RMDIR3resok, RMDIR3resfail and RMDIR3res are declared the same way.)
 */
export interface REMOVE3args {
  object: diropargs3;
}
export interface REMOVE3resok {
  dir_wcc?: wcc_data;
}
export type REMOVE3resfail = REMOVE3resok;
export type REMOVE3res = Nfs3Result<REMOVE3resok, REMOVE3resfail>;
export type RMDIR3args = REMOVE3args;
export type RMDIR3res = REMOVE3res;

export function decodeREMOVE3args(r: XdrReader): REMOVE3args {
  return { object: readDiropargs3(r, 'REMOVE3args.object') };
}
export function decodeRMDIR3args(r: XdrReader): RMDIR3args {
  return { object: readDiropargs3(r, 'RMDIR3args.object') };
}
export function encodeREMOVE3args(w: XdrWriter, a: REMOVE3args): void {
  writeDiropargs3(w, a.object);
}
export function encodeREMOVE3res(w: XdrWriter, res: REMOVE3res): void {
  writeResult(w, res, (x, ok) => writeWccData(x, ok.dir_wcc), (x, f) => writeWccData(x, f?.dir_wcc));
}
const readDirWcc = (r: XdrReader): REMOVE3resok => ({ dir_wcc: readWccData(r, 'dir_wcc') });
export function decodeREMOVE3res(r: XdrReader): REMOVE3res {
  return readResult(r, readDirWcc, readDirWcc);
}
export const encodeRMDIR3args = encodeREMOVE3args;
export const encodeRMDIR3res = encodeREMOVE3res;
export const decodeRMDIR3res = decodeREMOVE3res;

/*
 * struct RENAME3args { diropargs3 from; diropargs3 to; };
 * struct RENAME3resok { wcc_data fromdir_wcc; wcc_data todir_wcc; };
 * struct RENAME3resfail { wcc_data fromdir_wcc; wcc_data todir_wcc; };
 * union RENAME3res switch (nfsstat3 status) { case NFS3_OK: RENAME3resok resok; default: RENAME3resfail resfail; };
 */
export interface RENAME3args {
  from: diropargs3;
  to: diropargs3;
}
export interface RENAME3resok {
  fromdir_wcc?: wcc_data;
  todir_wcc?: wcc_data;
}
export type RENAME3resfail = RENAME3resok;
export type RENAME3res = Nfs3Result<RENAME3resok, RENAME3resfail>;

export function decodeRENAME3args(r: XdrReader): RENAME3args {
  return { from: readDiropargs3(r, 'RENAME3args.from'), to: readDiropargs3(r, 'RENAME3args.to') };
}
const writeRenameBody = (w: XdrWriter, b: RENAME3resok | undefined): void => {
  writeWccData(w, b?.fromdir_wcc);
  writeWccData(w, b?.todir_wcc);
};
export function encodeRENAME3res(w: XdrWriter, res: RENAME3res): void {
  writeResult(w, res, writeRenameBody, writeRenameBody);
}
export function encodeRENAME3args(w: XdrWriter, a: RENAME3args): void {
  writeDiropargs3(w, a.from);
  writeDiropargs3(w, a.to);
}
const readRenameBody = (r: XdrReader): RENAME3resok => ({ fromdir_wcc: readWccData(r, 'fromdir_wcc'), todir_wcc: readWccData(r, 'todir_wcc') });
export function decodeRENAME3res(r: XdrReader): RENAME3res {
  return readResult(r, readRenameBody, readRenameBody);
}

/*
 * struct LINK3args { nfs_fh3 file; diropargs3 link; };
 * struct LINK3resok { post_op_attr file_attributes; wcc_data linkdir_wcc; };
 * struct LINK3resfail { post_op_attr file_attributes; wcc_data linkdir_wcc; };
 * union LINK3res switch (nfsstat3 status) { case NFS3_OK: LINK3resok resok; default: LINK3resfail resfail; };
 */
export interface LINK3args {
  file: nfs_fh3;
  link: diropargs3;
}
export interface LINK3resok {
  file_attributes?: post_op_attr;
  linkdir_wcc?: wcc_data;
}
export type LINK3resfail = LINK3resok;
export type LINK3res = Nfs3Result<LINK3resok, LINK3resfail>;

export function decodeLINK3args(r: XdrReader): LINK3args {
  return { file: readNfsFh3(r, 'LINK3args.file'), link: readDiropargs3(r, 'LINK3args.link') };
}
const writeLinkBody = (w: XdrWriter, b: LINK3resok | undefined): void => {
  writePostOpAttr(w, b?.file_attributes);
  writeWccData(w, b?.linkdir_wcc);
};
export function encodeLINK3res(w: XdrWriter, res: LINK3res): void {
  writeResult(w, res, writeLinkBody, writeLinkBody);
}
export function encodeLINK3args(w: XdrWriter, a: LINK3args): void {
  writeNfsFh3(w, a.file);
  writeDiropargs3(w, a.link);
}
const readLinkBody = (r: XdrReader): LINK3resok => ({ file_attributes: readPostOpAttr(r, 'file_attributes'), linkdir_wcc: readWccData(r, 'linkdir_wcc') });
export function decodeLINK3res(r: XdrReader): LINK3res {
  return readResult(r, readLinkBody, readLinkBody);
}
