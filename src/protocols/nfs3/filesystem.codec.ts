/**
 * NFSv3 NULL and the file system information procedures (RFC 1813 sections 3.3.0 and 3.3.18-3.3.20):
 * FSSTAT, FSINFO, PATHCONF.
 */

import type { XdrReader, XdrWriter } from '../xdr/xdr';
import {
  readNfsFh3,
  readNfstime3,
  readPostOpAttr,
  readResult,
  writeNfsFh3,
  writeNfstime3,
  writePostOpAttr,
  writeResult,
  type Nfs3Result,
  type nfs_fh3,
  type nfstime3,
  type post_op_attr,
} from './common.codec';

/* void NFSPROC3_NULL(void) = 0; */
export function decodeNULL3args(_r: XdrReader): void {}
export function encodeNULL3res(_w: XdrWriter, _res: void): void {}
export function encodeNULL3args(_w: XdrWriter, _args: void): void {}
export function decodeNULL3res(_r: XdrReader): void {}

/** FSSTAT3args, FSINFO3args and PATHCONF3args differ only in the handle's name. */
export interface FSSTAT3args {
  fsroot: nfs_fh3;
}
export type FSINFO3args = FSSTAT3args;
export interface PATHCONF3args {
  object: nfs_fh3;
}

/** The failure body of all three: post_op_attr obj_attributes. */
export interface FSSTAT3resfail {
  obj_attributes?: post_op_attr;
}
export type FSINFO3resfail = FSSTAT3resfail;
export type PATHCONF3resfail = FSSTAT3resfail;

const writeObjAttributes = (w: XdrWriter, f: FSSTAT3resfail | undefined): void => writePostOpAttr(w, f?.obj_attributes);
const readObjAttributes = (r: XdrReader): FSSTAT3resfail => ({ obj_attributes: readPostOpAttr(r, 'obj_attributes') });

/*
 * struct FSSTAT3args { nfs_fh3 fsroot; };
 * struct FSSTAT3resok { post_op_attr obj_attributes; size3 tbytes; size3 fbytes; size3 abytes;
 *                       size3 tfiles; size3 ffiles; size3 afiles; uint32 invarsec; };
 * struct FSSTAT3resfail { post_op_attr obj_attributes; };
 * union FSSTAT3res switch (nfsstat3 status) { case NFS3_OK: FSSTAT3resok resok; default: FSSTAT3resfail resfail; };
 */
export interface FSSTAT3resok {
  obj_attributes?: post_op_attr;
  tbytes: number;
  fbytes: number;
  abytes: number;
  tfiles: number;
  ffiles: number;
  afiles: number;
  invarsec: number;
}
export type FSSTAT3res = Nfs3Result<FSSTAT3resok, FSSTAT3resfail>;

export function decodeFSSTAT3args(r: XdrReader): FSSTAT3args {
  return { fsroot: readNfsFh3(r, 'FSSTAT3args.fsroot') };
}
export function decodeFSINFO3args(r: XdrReader): FSINFO3args {
  return { fsroot: readNfsFh3(r, 'FSINFO3args.fsroot') };
}
export function encodeFSSTAT3args(w: XdrWriter, a: FSSTAT3args): void {
  writeNfsFh3(w, a.fsroot);
}
export const encodeFSINFO3args = encodeFSSTAT3args;

export function encodeFSSTAT3res(w: XdrWriter, res: FSSTAT3res): void {
  writeResult(
    w,
    res,
    (x, ok) => {
      writePostOpAttr(x, ok.obj_attributes);
      x.uhyper(ok.tbytes).uhyper(ok.fbytes).uhyper(ok.abytes).uhyper(ok.tfiles).uhyper(ok.ffiles).uhyper(ok.afiles).uint32(ok.invarsec);
    },
    writeObjAttributes,
  );
}
export function decodeFSSTAT3res(r: XdrReader): FSSTAT3res {
  return readResult(
    r,
    (x) => ({
      obj_attributes: readPostOpAttr(x, 'obj_attributes'),
      tbytes: x.uhyperClamped('FSSTAT3resok.tbytes'),
      fbytes: x.uhyperClamped('FSSTAT3resok.fbytes'),
      abytes: x.uhyperClamped('FSSTAT3resok.abytes'),
      tfiles: x.uhyperClamped('FSSTAT3resok.tfiles'),
      ffiles: x.uhyperClamped('FSSTAT3resok.ffiles'),
      afiles: x.uhyperClamped('FSSTAT3resok.afiles'),
      invarsec: x.uint32('FSSTAT3resok.invarsec'),
    }),
    readObjAttributes,
  );
}

/*
 * struct FSINFO3args { nfs_fh3 fsroot; };
 * struct FSINFO3resok { post_op_attr obj_attributes; uint32 rtmax; uint32 rtpref; uint32 rtmult;
 *                       uint32 wtmax; uint32 wtpref; uint32 wtmult; uint32 dtpref;
 *                       size3 maxfilesize; nfstime3 time_delta; uint32 properties; };
 * struct FSINFO3resfail { post_op_attr obj_attributes; };
 * union FSINFO3res switch (nfsstat3 status) { case NFS3_OK: FSINFO3resok resok; default: FSINFO3resfail resfail; };
 */
export interface FSINFO3resok {
  obj_attributes?: post_op_attr;
  rtmax: number;
  rtpref: number;
  rtmult: number;
  wtmax: number;
  wtpref: number;
  wtmult: number;
  dtpref: number;
  maxfilesize: number;
  time_delta: nfstime3;
  /** FSF3_* bits. */
  properties: number;
}
export type FSINFO3res = Nfs3Result<FSINFO3resok, FSINFO3resfail>;

export function encodeFSINFO3res(w: XdrWriter, res: FSINFO3res): void {
  writeResult(
    w,
    res,
    (x, ok) => {
      writePostOpAttr(x, ok.obj_attributes);
      x.uint32(ok.rtmax).uint32(ok.rtpref).uint32(ok.rtmult).uint32(ok.wtmax).uint32(ok.wtpref).uint32(ok.wtmult).uint32(ok.dtpref);
      x.uhyper(ok.maxfilesize);
      writeNfstime3(x, ok.time_delta);
      x.uint32(ok.properties);
    },
    writeObjAttributes,
  );
}
export function decodeFSINFO3res(r: XdrReader): FSINFO3res {
  return readResult(
    r,
    (x) => ({
      obj_attributes: readPostOpAttr(x, 'obj_attributes'),
      rtmax: x.uint32('FSINFO3resok.rtmax'),
      rtpref: x.uint32('FSINFO3resok.rtpref'),
      rtmult: x.uint32('FSINFO3resok.rtmult'),
      wtmax: x.uint32('FSINFO3resok.wtmax'),
      wtpref: x.uint32('FSINFO3resok.wtpref'),
      wtmult: x.uint32('FSINFO3resok.wtmult'),
      dtpref: x.uint32('FSINFO3resok.dtpref'),
      maxfilesize: x.uhyperClamped('FSINFO3resok.maxfilesize'),
      time_delta: readNfstime3(x, 'FSINFO3resok.time_delta'),
      properties: x.uint32('FSINFO3resok.properties'),
    }),
    readObjAttributes,
  );
}

/*
 * struct PATHCONF3args { nfs_fh3 object; };
 * struct PATHCONF3resok { post_op_attr obj_attributes; uint32 linkmax; uint32 name_max; bool no_trunc;
 *                         bool chown_restricted; bool case_insensitive; bool case_preserving; };
 * struct PATHCONF3resfail { post_op_attr obj_attributes; };
 * union PATHCONF3res switch (nfsstat3 status) { case NFS3_OK: PATHCONF3resok resok; default: PATHCONF3resfail resfail; };
 */
export interface PATHCONF3resok {
  obj_attributes?: post_op_attr;
  linkmax: number;
  name_max: number;
  no_trunc: boolean;
  chown_restricted: boolean;
  case_insensitive: boolean;
  case_preserving: boolean;
}
export type PATHCONF3res = Nfs3Result<PATHCONF3resok, PATHCONF3resfail>;

export function decodePATHCONF3args(r: XdrReader): PATHCONF3args {
  return { object: readNfsFh3(r, 'PATHCONF3args.object') };
}
export function encodePATHCONF3args(w: XdrWriter, a: PATHCONF3args): void {
  writeNfsFh3(w, a.object);
}
export function encodePATHCONF3res(w: XdrWriter, res: PATHCONF3res): void {
  writeResult(
    w,
    res,
    (x, ok) => {
      writePostOpAttr(x, ok.obj_attributes);
      x.uint32(ok.linkmax).uint32(ok.name_max).bool(ok.no_trunc).bool(ok.chown_restricted).bool(ok.case_insensitive).bool(ok.case_preserving);
    },
    writeObjAttributes,
  );
}
export function decodePATHCONF3res(r: XdrReader): PATHCONF3res {
  return readResult(
    r,
    (x) => ({
      obj_attributes: readPostOpAttr(x, 'obj_attributes'),
      linkmax: x.uint32('PATHCONF3resok.linkmax'),
      name_max: x.uint32('PATHCONF3resok.name_max'),
      no_trunc: x.bool('PATHCONF3resok.no_trunc'),
      chown_restricted: x.bool('PATHCONF3resok.chown_restricted'),
      case_insensitive: x.bool('PATHCONF3resok.case_insensitive'),
      case_preserving: x.bool('PATHCONF3resok.case_preserving'),
    }),
    readObjAttributes,
  );
}
