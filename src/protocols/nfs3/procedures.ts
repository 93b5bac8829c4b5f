/**
 * The NFSv3 procedure table, codec only: index = procedure number (NFSPROC3_*). The dispatcher decodes
 * the call's arguments with `decode`, runs its own handler, and encodes the result with `encode`;
 * `encodeArgs`/`decodeRes` are the client side (our test client).
 *
 * `idempotent: false` marks the procedures whose replies go through the duplicate request cache; the
 * set is Linux nfsd's (fs/nfsd/nfs3proc.c: RC_REPLBUFF for SETATTR, WRITE, CREATE, MKDIR, SYMLINK, MKNOD,
 * REMOVE, RMDIR, RENAME, LINK; RC_NOCACHE for the rest, COMMIT included). A retransmitted REMOVE must
 * not answer NOENT, a retransmitted exclusive CREATE must not answer EXIST, a replayed WRITE must not
 * overwrite a later one, a guarded SETATTR must not fail its own ctime check.
 * `mutates: true` marks the procedures a read-only export answers with NFS3ERR_ROFS.
 */

import type { XdrReader, XdrWriter } from '../xdr/xdr';
import * as dir from './directory.codec';
import * as file from './file.codec';
import * as fs from './filesystem.codec';
import * as readdir from './readdir.codec';

export interface Nfs3Procedure<A, R> {
  readonly proc: number;
  /** The RFC's procedure name without NFSPROC3_ (e.g. 'GETATTR'). */
  readonly name: string;
  readonly idempotent: boolean;
  readonly mutates: boolean;
  /** Server: the call's arguments. */
  readonly decode: (r: XdrReader) => A;
  /** Server: the reply's result. */
  readonly encode: (w: XdrWriter, res: R) => void;
  /** Client: the call's arguments. */
  readonly encodeArgs: (w: XdrWriter, args: A) => void;
  /** Client: the reply's result. */
  readonly decodeRes: (r: XdrReader) => R;
}

/** Argument and result types per procedure number, for a typed handler table. */
export interface Nfs3Signatures {
  0: { args: void; res: void };
  1: { args: file.GETATTR3args; res: file.GETATTR3res };
  2: { args: file.SETATTR3args; res: file.SETATTR3res };
  3: { args: dir.LOOKUP3args; res: dir.LOOKUP3res };
  4: { args: file.ACCESS3args; res: file.ACCESS3res };
  5: { args: file.READLINK3args; res: file.READLINK3res };
  6: { args: file.READ3args; res: file.READ3res };
  7: { args: file.WRITE3args; res: file.WRITE3res };
  8: { args: dir.CREATE3args; res: dir.CREATE3res };
  9: { args: dir.MKDIR3args; res: dir.MKDIR3res };
  10: { args: dir.SYMLINK3args; res: dir.SYMLINK3res };
  11: { args: dir.MKNOD3args; res: dir.MKNOD3res };
  12: { args: dir.REMOVE3args; res: dir.REMOVE3res };
  13: { args: dir.RMDIR3args; res: dir.RMDIR3res };
  14: { args: dir.RENAME3args; res: dir.RENAME3res };
  15: { args: dir.LINK3args; res: dir.LINK3res };
  16: { args: readdir.READDIR3args; res: readdir.READDIR3res };
  17: { args: readdir.READDIRPLUS3args; res: readdir.READDIRPLUS3res };
  18: { args: fs.FSSTAT3args; res: fs.FSSTAT3res };
  19: { args: fs.FSINFO3args; res: fs.FSINFO3res };
  20: { args: fs.PATHCONF3args; res: fs.PATHCONF3res };
  21: { args: file.COMMIT3args; res: file.COMMIT3res };
}
export type Nfs3Proc = keyof Nfs3Signatures;
export type Nfs3Args<P extends Nfs3Proc> = Nfs3Signatures[P]['args'];
export type Nfs3Res<P extends Nfs3Proc> = Nfs3Signatures[P]['res'];

type Table = { readonly [P in Nfs3Proc]: Nfs3Procedure<Nfs3Args<P>, Nfs3Res<P>> };

function entry<A, R>(
  proc: number,
  name: string,
  flags: { idempotent: boolean; mutates: boolean },
  decode: (r: XdrReader) => A,
  encode: (w: XdrWriter, res: R) => void,
  encodeArgs: (w: XdrWriter, args: A) => void,
  decodeRes: (r: XdrReader) => R,
): Nfs3Procedure<A, R> {
  return Object.freeze({ proc, name, ...flags, decode, encode, encodeArgs, decodeRes });
}

const READS = { idempotent: true, mutates: false };
const CHANGES = { idempotent: false, mutates: true };

const TABLE: Table = {
  0: entry(0, 'NULL', READS, fs.decodeNULL3args, fs.encodeNULL3res, fs.encodeNULL3args, fs.decodeNULL3res),
  1: entry(1, 'GETATTR', READS, file.decodeGETATTR3args, file.encodeGETATTR3res, file.encodeGETATTR3args, file.decodeGETATTR3res),
  2: entry(2, 'SETATTR', CHANGES, file.decodeSETATTR3args, file.encodeSETATTR3res, file.encodeSETATTR3args, file.decodeSETATTR3res),
  3: entry(3, 'LOOKUP', READS, dir.decodeLOOKUP3args, dir.encodeLOOKUP3res, dir.encodeLOOKUP3args, dir.decodeLOOKUP3res),
  4: entry(4, 'ACCESS', READS, file.decodeACCESS3args, file.encodeACCESS3res, file.encodeACCESS3args, file.decodeACCESS3res),
  5: entry(5, 'READLINK', READS, file.decodeREADLINK3args, file.encodeREADLINK3res, file.encodeREADLINK3args, file.decodeREADLINK3res),
  6: entry(6, 'READ', READS, file.decodeREAD3args, file.encodeREAD3res, file.encodeREAD3args, file.decodeREAD3res),
  7: entry(7, 'WRITE', CHANGES, file.decodeWRITE3args, file.encodeWRITE3res, file.encodeWRITE3args, file.decodeWRITE3res),
  8: entry(8, 'CREATE', CHANGES, dir.decodeCREATE3args, dir.encodeCREATE3res, dir.encodeCREATE3args, dir.decodeCREATE3res),
  9: entry(9, 'MKDIR', CHANGES, dir.decodeMKDIR3args, dir.encodeMKDIR3res, dir.encodeMKDIR3args, dir.decodeMKDIR3res),
  10: entry(10, 'SYMLINK', CHANGES, dir.decodeSYMLINK3args, dir.encodeSYMLINK3res, dir.encodeSYMLINK3args, dir.decodeSYMLINK3res),
  11: entry(11, 'MKNOD', CHANGES, dir.decodeMKNOD3args, dir.encodeMKNOD3res, dir.encodeMKNOD3args, dir.decodeMKNOD3res),
  12: entry(12, 'REMOVE', CHANGES, dir.decodeREMOVE3args, dir.encodeREMOVE3res, dir.encodeREMOVE3args, dir.decodeREMOVE3res),
  13: entry(13, 'RMDIR', CHANGES, dir.decodeRMDIR3args, dir.encodeRMDIR3res, dir.encodeRMDIR3args, dir.decodeRMDIR3res),
  14: entry(14, 'RENAME', CHANGES, dir.decodeRENAME3args, dir.encodeRENAME3res, dir.encodeRENAME3args, dir.decodeRENAME3res),
  15: entry(15, 'LINK', CHANGES, dir.decodeLINK3args, dir.encodeLINK3res, dir.encodeLINK3args, dir.decodeLINK3res),
  16: entry(16, 'READDIR', READS, readdir.decodeREADDIR3args, readdir.encodeREADDIR3res, readdir.encodeREADDIR3args, readdir.decodeREADDIR3res),
  17: entry(
    17,
    'READDIRPLUS',
    READS,
    readdir.decodeREADDIRPLUS3args,
    readdir.encodeREADDIRPLUS3res,
    readdir.encodeREADDIRPLUS3args,
    readdir.decodeREADDIRPLUS3res,
  ),
  18: entry(18, 'FSSTAT', READS, fs.decodeFSSTAT3args, fs.encodeFSSTAT3res, fs.encodeFSSTAT3args, fs.decodeFSSTAT3res),
  19: entry(19, 'FSINFO', READS, fs.decodeFSINFO3args, fs.encodeFSINFO3res, fs.encodeFSINFO3args, fs.decodeFSINFO3res),
  20: entry(20, 'PATHCONF', READS, fs.decodePATHCONF3args, fs.encodePATHCONF3res, fs.encodePATHCONF3args, fs.decodePATHCONF3res),
  // COMMIT only flushes what WRITE already changed: safe to repeat, and allowed on a read-only export.
  21: entry(21, 'COMMIT', READS, file.decodeCOMMIT3args, file.encodeCOMMIT3res, file.encodeCOMMIT3args, file.decodeCOMMIT3res),
};

/** The typed table: NFS3_PROCEDURE[NFSPROC3_READ].decode(r) is a READ3args. */
export const NFS3_PROCEDURE: Table = Object.freeze(TABLE);

/**
 * The same entries as an array for dispatch by the call's procedure number
 * (`NFS3_PROCEDURES[proc]` is undefined past NFSPROC3_COMMIT: PROC_UNAVAIL).
 */
// `any`: the dispatcher pairs each decode with its own handler and encode; NFS3_PROCEDURE keeps the types.
export const NFS3_PROCEDURES: readonly Nfs3Procedure<any, any>[] = Object.freeze(
  Array.from({ length: 22 }, (_, p) => TABLE[p as Nfs3Proc]),
);
