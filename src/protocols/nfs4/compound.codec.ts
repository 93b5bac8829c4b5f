/**
 * COMPOUND (RFC 8881 section 16.2): a tag, a minor version and a list of operations, each an operation
 * number followed by its arguments; the reply has the status of the last operation run, the tag, and one
 * result per operation run.
 *
 * The server reads the header, then one operation at a time as it runs them (readArgop), so an operation
 * it does not implement, or whose arguments are malformed, ends the COMPOUND with that operation's status
 * (NFS4ERR_NOTSUPP, NFS4ERR_OP_ILLEGAL, NFS4ERR_BADXDR) and the rest is never decoded.
 */

import { isUtf8 } from 'node:buffer';
import { type XdrReader, XdrDecodeError, type XdrWriter } from '../xdr/xdr';
import { LAST_OP_V41, LAST_OP_V42, Nfs4DecodeError, nfs_opnum4, nfsstat4 } from './constants';
import { type Nfs4Opnum, OP_CODECS, type OpArgs, type OpRes } from './ops.codec';

/* union nfs_argop4 switch (nfs_opnum4 argop) { case OP_ACCESS: ACCESS4args opaccess; ... case OP_ILLEGAL: void; }; */
export type nfs_argop4 = { [K in Nfs4Opnum]: { argop: K; args: OpArgs<K> } }[Nfs4Opnum];

/* union nfs_resop4 switch (nfs_opnum4 resop) { case OP_ACCESS: ACCESS4res opaccess; ... case OP_ILLEGAL: ILLEGAL4res opillegal; }; */
export type nfs_resop4 = { [K in Nfs4Opnum]: { resop: K; res: OpRes<K> } }[Nfs4Opnum] | { resop: number; res: { status: nfsstat4 } };

/* struct COMPOUND4args { utf8str_cs tag; uint32_t minorversion; nfs_argop4 argarray<>; }; */
export interface COMPOUND4args {
  tag: Buffer;
  minorversion: number;
  argarray: nfs_argop4[];
}

/* struct COMPOUND4res { nfsstat4 status; utf8str_cs tag; nfs_resop4 resarray<>; }; */
export interface COMPOUND4res {
  status: nfsstat4;
  tag: Buffer;
  resarray: nfs_resop4[];
}

/** Longest tag accepted (the XDR leaves it unbounded; Linux's nfsd takes 64 KiB at most, real clients send none). */
export const MAX_TAG = 1024;

/** The fixed part of COMPOUND4args: what the server reads before the operations. */
export interface CompoundHeader {
  tag: Buffer;
  minorversion: number;
  numops: number;
}

export function readCompoundHeader(r: XdrReader): CompoundHeader {
  const tag = r.varOpaque(MAX_TAG, 'tag');
  const minorversion = r.uint32('minorversion');
  // The count is not checked against the bytes here: the server reads operations as it runs them, and a
  // COMPOUND that ends early fails at the missing operation with NFS4ERR_BADXDR.
  const numops = r.uint32('argarray count');
  return { tag, minorversion, numops };
}

/** Whether an operation number belongs to a minor version (0 to 2). */
export function opInMinorVersion(op: number, minorversion: number): boolean {
  if (op < nfs_opnum4.OP_ACCESS) return false;
  return op <= (minorversion >= 2 ? LAST_OP_V42 : minorversion === 1 ? LAST_OP_V41 : nfs_opnum4.OP_RELEASE_LOCKOWNER);
}

export function isImplemented(op: number): op is Nfs4Opnum {
  return Object.prototype.hasOwnProperty.call(OP_CODECS, op);
}

/** One operation's arguments; `op` must be implemented (isImplemented). */
export function readOpArgs<K extends Nfs4Opnum>(op: K, r: XdrReader): OpArgs<K> {
  return OP_CODECS[op].args.read(r) as OpArgs<K>;
}

/**
 * Read the whole COMPOUND4args (the client side and tests; the server reads lazily). An operation number
 * this codec has no arguments for is Nfs4DecodeError(NFS4ERR_OP_ILLEGAL), since its length is unknown.
 */
export function readCompound4args(r: XdrReader): COMPOUND4args {
  const h = readCompoundHeader(r);
  // Every operation takes at least its 4-byte number.
  if (h.numops * 4 > r.remaining) throw new XdrDecodeError(`truncated argarray: ${h.numops} operations cannot fit in ${r.remaining} bytes`);
  const argarray: nfs_argop4[] = [];
  for (let i = 0; i < h.numops; i++) {
    const argop = r.uint32('argop');
    if (!isImplemented(argop)) throw new Nfs4DecodeError(nfsstat4.NFS4ERR_OP_ILLEGAL, `operation ${argop} has no argument codec`);
    argarray.push({ argop, args: readOpArgs(argop, r) } as nfs_argop4);
  }
  return { tag: h.tag, minorversion: h.minorversion, argarray };
}

export function writeArgop(w: XdrWriter, op: nfs_argop4): void {
  w.uint32(op.argop);
  (OP_CODECS[op.argop].args.write as (w: XdrWriter, v: unknown) => void)(w, op.args);
}

export function writeCompound4args(w: XdrWriter, c: COMPOUND4args): void {
  w.varOpaque(c.tag).uint32(c.minorversion);
  w.array(c.argarray, writeArgop);
}

/** One result: the operation number then its result union; an operation without a codec (NOTSUPP, ILLEGAL) carries its status only. */
export function writeResop(w: XdrWriter, op: nfs_resop4): void {
  w.uint32(op.resop);
  if (isImplemented(op.resop)) (OP_CODECS[op.resop].res.write as (w: XdrWriter, v: unknown) => void)(w, op.res);
  else w.uint32(op.res.status);
}

export function readResop(r: XdrReader): nfs_resop4 {
  const resop = r.uint32('resop');
  if (isImplemented(resop)) return { resop, res: OP_CODECS[resop].res.read(r) } as nfs_resop4;
  const status = r.uint32('status') as nfsstat4;
  if (status === nfsstat4.NFS4_OK) throw new XdrDecodeError(`operation ${resop} succeeded but has no result codec`);
  return { resop, res: { status } };
}

/** The fixed start of COMPOUND4res; results follow, counted by `count`. */
export function writeCompoundResHeader(w: XdrWriter, status: nfsstat4, tag: Buffer, count: number): void {
  w.uint32(status).varOpaque(tag).uint32(count);
}

export function writeCompound4res(w: XdrWriter, c: COMPOUND4res): void {
  writeCompoundResHeader(w, c.status, c.tag, c.resarray.length);
  for (const op of c.resarray) writeResop(w, op);
}

export function readCompound4res(r: XdrReader): COMPOUND4res {
  const status = r.uint32('status') as nfsstat4;
  const tag = r.varOpaque(MAX_TAG, 'tag');
  const resarray = r.array(readResop, 0xffffffff, 'resarray');
  return { status, tag, resarray };
}

/** A tag the server may echo as text in logs. */
export function tagText(tag: Buffer): string {
  return isUtf8(tag) ? tag.toString('utf8') : tag.toString('hex');
}
