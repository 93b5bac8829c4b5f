/**
 * READDIR and READDIRPLUS (RFC 1813 sections 3.3.16-3.3.17), and the exact encoded sizes a handler needs
 * to fill a reply up to the client's limits.
 *
 * How the limits count (RFC 1813):
 * - READDIR `count` and READDIRPLUS `maxcount`: "The maximum size of the READDIR3resok [READDIRPLUS3resok]
 *   structure, in bytes. The size must include all XDR overhead." That is the fixed part
 *   (readdir3ResokFixedSize) plus every entry as it sits in the list, with the TRUE pointer before it
 *   (entry3Size / entryplus3Size). The status word and the RPC header are outside resok, not counted.
 * - READDIRPLUS `dircount`: "The maximum number of bytes of directory information returned. This number
 *   should not include the size of the attributes and file handle portions of the result."
 *   entryplus3DirSize counts each entry's fileid, name and cookie.
 * A handler adds entries while both sums stay within the limits; if not even the first entry fits in
 * count/maxcount it answers NFS3ERR_TOOSMALL.
 */

import type { XdrReader, XdrWriter } from '../xdr/xdr';
import {
  postOpAttrSize,
  postOpFh3Size,
  readFilename3,
  readNfsFh3,
  readPostOpAttr,
  readPostOpFh3,
  readResult,
  readVerf,
  writeNfsFh3,
  writePostOpAttr,
  writePostOpFh3,
  writeResult,
  writeVerf,
  type Nfs3Result,
  type nfs_fh3,
  type post_op_attr,
  type post_op_fh3,
} from './common.codec';

/*
 * struct READDIR3args { nfs_fh3 dir; cookie3 cookie; cookieverf3 cookieverf; count3 count; };
 * struct entry3 { fileid3 fileid; filename3 name; cookie3 cookie; entry3 *nextentry; };
 * struct dirlist3 { entry3 *entries; bool eof; };
 * struct READDIR3resok { post_op_attr dir_attributes; cookieverf3 cookieverf; dirlist3 reply; };
 * struct READDIR3resfail { post_op_attr dir_attributes; };
 * union READDIR3res switch (nfsstat3 status) { case NFS3_OK: READDIR3resok resok; default: READDIR3resfail resfail; };
 */
export interface READDIR3args {
  dir: nfs_fh3;
  /** 0n on the first call, then a cookie this server returned. */
  cookie: bigint;
  /** 0n on the first call, then the cookieverf returned with that cookie. */
  cookieverf: bigint;
  count: number;
}
export interface entry3 {
  fileid: number;
  name: string;
  cookie: bigint;
}
/** The linked list (entry3 *nextentry) as an array. */
export interface dirlist3 {
  entries: entry3[];
  eof: boolean;
}
export interface READDIR3resok {
  dir_attributes?: post_op_attr;
  cookieverf: bigint;
  reply: dirlist3;
}
export interface READDIR3resfail {
  dir_attributes?: post_op_attr;
}
export type READDIR3res = Nfs3Result<READDIR3resok, READDIR3resfail>;

export function decodeREADDIR3args(r: XdrReader): READDIR3args {
  return {
    dir: readNfsFh3(r, 'READDIR3args.dir'),
    cookie: r.uhyperBig('READDIR3args.cookie'),
    cookieverf: readVerf(r, 'READDIR3args.cookieverf'),
    count: r.uint32('READDIR3args.count'),
  };
}
export function encodeREADDIR3args(w: XdrWriter, a: READDIR3args): void {
  writeNfsFh3(w, a.dir);
  w.uhyper(a.cookie);
  writeVerf(w, a.cookieverf);
  w.uint32(a.count);
}

/** The TRUE list pointer, then fileid3 fileid; filename3 name; cookie3 cookie; (shared by entry3 and entryplus3). */
function writeEntryHead(w: XdrWriter, e: entry3): void {
  w.bool(true).uhyper(e.fileid).string(e.name).uhyper(e.cookie);
}
function readEntryHead(r: XdrReader, what: string): entry3 {
  return { fileid: r.uhyper(`${what}.fileid`), name: readFilename3(r, `${what}.name`), cookie: r.uhyperBig(`${what}.cookie`) };
}

/** The list pointers: TRUE before each entry, FALSE after the last. */
function readList<T>(r: XdrReader, item: (r: XdrReader) => T, what: string): T[] {
  const out: T[] = [];
  while (r.bool(`${what} pointer`)) out.push(item(r));
  return out;
}

export function encodeREADDIR3res(w: XdrWriter, res: READDIR3res): void {
  writeResult(
    w,
    res,
    (x, ok) => {
      writePostOpAttr(x, ok.dir_attributes);
      writeVerf(x, ok.cookieverf);
      for (const e of ok.reply.entries) writeEntryHead(x, e);
      x.bool(false).bool(ok.reply.eof);
    },
    (x, f) => writePostOpAttr(x, f?.dir_attributes),
  );
}
export function decodeREADDIR3res(r: XdrReader): READDIR3res {
  return readResult(
    r,
    (x) => ({
      dir_attributes: readPostOpAttr(x, 'dir_attributes'),
      cookieverf: readVerf(x, 'READDIR3resok.cookieverf'),
      reply: { entries: readList(x, (y) => readEntryHead(y, 'entry3'), 'entry3'), eof: x.bool('dirlist3.eof') },
    }),
    (x) => ({ dir_attributes: readPostOpAttr(x, 'dir_attributes') }),
  );
}

/*
 * struct READDIRPLUS3args { nfs_fh3 dir; cookie3 cookie; cookieverf3 cookieverf; count3 dircount; count3 maxcount; };
 * struct entryplus3 { fileid3 fileid; filename3 name; cookie3 cookie; post_op_attr name_attributes;
 *                     post_op_fh3 name_handle; entryplus3 *nextentry; };
 * struct dirlistplus3 { entryplus3 *entries; bool eof; };
 * struct READDIRPLUS3resok { post_op_attr dir_attributes; cookieverf3 cookieverf; dirlistplus3 reply; };
 * struct READDIRPLUS3resfail { post_op_attr dir_attributes; };
 * union READDIRPLUS3res switch (nfsstat3 status) { case NFS3_OK: READDIRPLUS3resok resok; default: READDIRPLUS3resfail resfail; };
 */
export interface READDIRPLUS3args {
  dir: nfs_fh3;
  cookie: bigint;
  cookieverf: bigint;
  dircount: number;
  maxcount: number;
}
export interface entryplus3 extends entry3 {
  name_attributes?: post_op_attr;
  name_handle?: post_op_fh3;
}
export interface dirlistplus3 {
  entries: entryplus3[];
  eof: boolean;
}
export interface READDIRPLUS3resok {
  dir_attributes?: post_op_attr;
  cookieverf: bigint;
  reply: dirlistplus3;
}
export type READDIRPLUS3resfail = READDIR3resfail;
export type READDIRPLUS3res = Nfs3Result<READDIRPLUS3resok, READDIRPLUS3resfail>;

export function decodeREADDIRPLUS3args(r: XdrReader): READDIRPLUS3args {
  return {
    dir: readNfsFh3(r, 'READDIRPLUS3args.dir'),
    cookie: r.uhyperBig('READDIRPLUS3args.cookie'),
    cookieverf: readVerf(r, 'READDIRPLUS3args.cookieverf'),
    dircount: r.uint32('READDIRPLUS3args.dircount'),
    maxcount: r.uint32('READDIRPLUS3args.maxcount'),
  };
}
export function encodeREADDIRPLUS3args(w: XdrWriter, a: READDIRPLUS3args): void {
  writeNfsFh3(w, a.dir);
  w.uhyper(a.cookie);
  writeVerf(w, a.cookieverf);
  w.uint32(a.dircount).uint32(a.maxcount);
}
export function encodeREADDIRPLUS3res(w: XdrWriter, res: READDIRPLUS3res): void {
  writeResult(
    w,
    res,
    (x, ok) => {
      writePostOpAttr(x, ok.dir_attributes);
      writeVerf(x, ok.cookieverf);
      for (const e of ok.reply.entries) {
        writeEntryHead(x, e);
        writePostOpAttr(x, e.name_attributes);
        writePostOpFh3(x, e.name_handle);
      }
      x.bool(false).bool(ok.reply.eof);
    },
    (x, f) => writePostOpAttr(x, f?.dir_attributes),
  );
}
function readEntryplus3(r: XdrReader): entryplus3 {
  const { fileid, name, cookie } = readEntryHead(r, 'entryplus3');
  return { fileid, name, cookie, name_attributes: readPostOpAttr(r, 'entryplus3.name_attributes'), name_handle: readPostOpFh3(r, 'entryplus3.name_handle') };
}
export function decodeREADDIRPLUS3res(r: XdrReader): READDIRPLUS3res {
  return readResult(
    r,
    (x) => ({
      dir_attributes: readPostOpAttr(x, 'dir_attributes'),
      cookieverf: readVerf(x, 'READDIRPLUS3resok.cookieverf'),
      reply: { entries: readList(x, readEntryplus3, 'entryplus3'), eof: x.bool('dirlistplus3.eof') },
    }),
    (x) => ({ dir_attributes: readPostOpAttr(x, 'dir_attributes') }),
  );
}

const padded = (name: string): number => (Buffer.byteLength(name, 'utf8') + 3) & ~3;

/**
 * READDIR3resok or READDIRPLUS3resok without its entries: dir_attributes, cookieverf (8), the FALSE
 * pointer that ends the list (4) and eof (4).
 */
export function readdir3ResokFixedSize(dir_attributes: post_op_attr): number {
  return postOpAttrSize(dir_attributes) + 8 + 4 + 4;
}

/** What an entry3 adds to READDIR3resok (counted against `count`): its TRUE pointer, fileid, name, cookie. */
export function entry3Size(name: string): number {
  return 4 + 8 + 4 + padded(name) + 8;
}

/** What an entryplus3 adds to READDIRPLUS3resok (counted against `maxcount`). */
export function entryplus3Size(e: Pick<entryplus3, 'name' | 'name_attributes' | 'name_handle'>): number {
  return entry3Size(e.name) + postOpAttrSize(e.name_attributes) + postOpFh3Size(e.name_handle);
}

/** What an entryplus3 counts against `dircount`: the directory information only (fileid, name, cookie). */
export function entryplus3DirSize(name: string): number {
  return 8 + 4 + padded(name) + 8;
}
