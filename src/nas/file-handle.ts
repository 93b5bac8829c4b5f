import { createHmac, timingSafeEqual } from 'node:crypto';

/*
 * NFS file handles (opaque to clients, RFC 1813 nfs_fh3 / RFC 8881 nfs_fh4):
 * fixed length, a multiple of 4 bytes, stable across gateway restarts, and
 * unforgeable: a client that edits the inode number gets BADHANDLE, not
 * someone else's file.
 *
 * offset size field
 *  0     1    version (1)
 *  1     1    reserved, 0
 *  2     2    reserved, 0
 *  4     4    export id        the share's stable small id
 *  8     4    snapshot id      0 = the live filesystem
 * 12     8    inode number
 * 20     4    generation       changes when an inode number is reused
 * 24    16    MAC              HMAC-SHA256(share key, bytes 0..23), first 16 bytes
 */
export const FH_SIZE = 40;
const VERSION = 1;
const MAC_AT = 24;

export interface FileHandle {
  exportId: number;
  snapshotId: number;
  ino: number;
  generation: number;
}

/** Why a handle was refused: the front end answers BADHANDLE (malformed or forged) or STALE (export gone). */
export type HandleProblem = 'malformed' | 'unknown-export' | 'forged';

export class BadFileHandle extends Error {
  override name = 'BadFileHandle';
  constructor(readonly problem: HandleProblem) {
    super(`file handle is ${problem}`);
  }
}

function mac(key: Buffer, body: Buffer): Buffer {
  return createHmac('sha256', key).update(body).digest().subarray(0, FH_SIZE - MAC_AT);
}

export function encodeFileHandle(h: FileHandle, key: Buffer): Buffer {
  const b = Buffer.alloc(FH_SIZE);
  b[0] = VERSION;
  b.writeUInt32BE(h.exportId >>> 0, 4);
  b.writeUInt32BE(h.snapshotId >>> 0, 8);
  b.writeBigUInt64BE(BigInt(h.ino), 12);
  b.writeUInt32BE(h.generation >>> 0, 20);
  mac(key, b.subarray(0, MAC_AT)).copy(b, MAC_AT);
  return b;
}

/** The export id a handle claims, to find the key that checks it; undefined when it cannot be a handle of ours. */
export function handleExportId(b: Buffer): number | undefined {
  if (b.length !== FH_SIZE || b[0] !== VERSION || b[1] !== 0 || b.readUInt16BE(2) !== 0) return undefined;
  return b.readUInt32BE(4);
}

/**
 * Check and open a handle. `keyOf` gives the key of an export id, or
 * undefined when no such export exists (any more).
 */
export function decodeFileHandle(b: Buffer, keyOf: (exportId: number) => Buffer | undefined): FileHandle {
  const exportId = handleExportId(b);
  if (exportId === undefined) throw new BadFileHandle('malformed');
  const key = keyOf(exportId);
  if (!key) throw new BadFileHandle('unknown-export');
  if (!timingSafeEqual(mac(key, b.subarray(0, MAC_AT)), b.subarray(MAC_AT, FH_SIZE))) throw new BadFileHandle('forged');
  const ino = b.readBigUInt64BE(12);
  if (ino > BigInt(Number.MAX_SAFE_INTEGER)) throw new BadFileHandle('malformed');
  return { exportId, snapshotId: b.readUInt32BE(8), ino: Number(ino), generation: b.readUInt32BE(20) };
}
