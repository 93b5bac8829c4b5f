import { createHash } from 'node:crypto';
import * as fs from 'node:fs';

/**
 * The metadata half of a share's replication cycle (docs/replication.md,
 * "Shares"): the cycle's copy of the share's metadata database is compared
 * with the previous cycle's, block by block, and only the blocks that
 * differ travel (REPLICA_META), onto a copy of the previous cycle's
 * database the target starts from; the commit carries the whole file's
 * length and SHA-256, which the target checks.
 */

/** Compared in blocks of one SQLite page (4 KiB, the page size of the copies); adjacent ones go in one call. */
export const METADATA_BLOCK = 4096;
const READ_SIZE = 1 << 20;

export interface MetadataRange {
  offset: number;
  length: number;
}

export interface MetadataPlan {
  /** The new database's length and SHA-256 (what the commit carries). */
  length: number;
  sha256: Buffer;
  /** Byte ranges of the new database to send, in order, each at most `chunk` bytes. */
  ranges: MetadataRange[];
  /** Their total. */
  bytes: number;
}

/**
 * What to send of `path` to a target that holds `basePath`'s bytes (null:
 * nothing, send it all): the blocks that differ, merged while adjacent, cut
 * at `chunk` bytes. Bytes past the new length need nothing: the commit cuts
 * the file there.
 */
export async function planMetadata(path: string, basePath: string | null, chunk: number): Promise<MetadataPlan> {
  // Whole blocks per call, at least one.
  const limit = Math.max(METADATA_BLOCK, chunk - (chunk % METADATA_BLOCK));
  const hash = createHash('sha256');
  const ranges: MetadataRange[] = [];
  let bytes = 0;
  const add = (offset: number, length: number) => {
    bytes += length;
    const last = ranges[ranges.length - 1];
    if (last && last.offset + last.length === offset && last.length + length <= limit) last.length += length;
    else ranges.push({ offset, length });
  };
  const file = await fs.promises.open(path, 'r');
  const base = basePath ? await fs.promises.open(basePath, 'r').catch(() => null) : null;
  try {
    const buf = Buffer.allocUnsafe(READ_SIZE);
    const old = Buffer.allocUnsafe(READ_SIZE);
    let at = 0;
    for (;;) {
      const n = await readFully(file, buf, at);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
      const m = base ? await readFully(base, old, at) : 0;
      for (let off = 0; off < n; off += METADATA_BLOCK) {
        const end = Math.min(n, off + METADATA_BLOCK);
        // A block the base does not have whole, or has with other bytes, goes.
        if (end > m || !buf.subarray(off, end).equals(old.subarray(off, end))) add(at + off, end - off);
      }
      at += n;
      if (n < READ_SIZE) break;
    }
    return { length: at, sha256: hash.digest(), ranges, bytes };
  } finally {
    await file.close();
    await base?.close();
  }
}

/** Read up to `buf.length` bytes at `position` (fewer only at the end of the file). */
async function readFully(fh: fs.promises.FileHandle, buf: Buffer, position: number): Promise<number> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

/** Send the planned ranges of `path`, `depth` at a time; `send` is REPLICA_META. False: stopped part way (cancel, shutdown). */
export async function sendMetadata(
  path: string,
  plan: MetadataPlan,
  send: (offset: number, data: Buffer) => Promise<void>,
  o: { depth: number; stopping(): boolean; admit(bytes: number): Promise<void>; sent(bytes: number): void },
): Promise<boolean> {
  const fh = await fs.promises.open(path, 'r');
  try {
    const inflight = new Set<Promise<void>>();
    let failure: unknown = null;
    for (const r of plan.ranges) {
      if (failure || o.stopping()) break;
      while (inflight.size >= o.depth) await Promise.race(inflight);
      // The cycle's bandwidth limit covers the metadata too.
      await o.admit(r.length);
      if (failure || o.stopping()) break;
      const data = Buffer.allocUnsafe(r.length);
      if ((await readFully(fh, data, r.offset)) !== r.length) throw new Error(`the metadata copy ${path} is shorter than when it was planned`);
      const task: Promise<void> = send(r.offset, data).then(
        () => {
          inflight.delete(task);
          o.sent(r.length);
        },
        (e: unknown) => {
          inflight.delete(task);
          failure ??= e;
        },
      );
      inflight.add(task);
    }
    await Promise.all(inflight);
    if (failure) throw failure;
    return !o.stopping();
  } finally {
    await fh.close();
  }
}
