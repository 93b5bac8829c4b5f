import { crc32 } from 'node:zlib';

export interface DrcOptions {
  /** Completed replies kept at most (least recently used go first). */
  maxEntries?: number;
  /** Bytes of completed replies kept at most. */
  maxBytes?: number;
}

export type DrcLookup =
  /** First sight: the caller runs the call and then calls `complete` or `forget`. */
  | { state: 'new' }
  /** The same call is still running: drop the retransmission (the original will answer). */
  | { state: 'in-progress' }
  /** Already answered: send this reply again. */
  | { state: 'done'; reply: readonly Buffer[] };

type Entry = { done: false } | { done: true; reply: readonly Buffer[]; bytes: number };

/** Linux's nfsd hashes this many leading argument bytes; the xid, procedure and length carry the rest. */
const HASHED_ARG_BYTES = 256;

export interface DrcStats {
  entries: number;
  bytes: number;
  hits: number;
  inProgressDrops: number;
  evictions: number;
}

/**
 * Duplicate request cache for non-idempotent procedures (as Linux nfsd and
 * nfs-ganesha keep one): a retransmitted call that already ran gets
 * its original reply, one still running is dropped, so a CREATE or REMOVE is
 * never executed twice. Keyed by client address (not port: a client may
 * reconnect from another one), xid, program, version, procedure and a hash
 * of the arguments. Bounded by count and bytes, least recently used first.
 */
export class DuplicateRequestCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private completed = 0;
  private bytes = 0;
  private hits = 0;
  private inProgressDrops = 0;
  private evictions = 0;

  constructor(opts: DrcOptions = {}) {
    this.maxEntries = opts.maxEntries ?? 4096;
    this.maxBytes = opts.maxBytes ?? 16 * 2 ** 20;
  }

  static key(address: string, xid: number, prog: number, vers: number, proc: number, args: Buffer): string {
    const hash = crc32(args.subarray(0, HASHED_ARG_BYTES));
    return `${address}/${xid}/${prog}/${vers}/${proc}/${args.length}/${hash}`;
  }

  begin(key: string): DrcLookup {
    const e = this.entries.get(key);
    if (!e) {
      this.entries.set(key, { done: false });
      return { state: 'new' };
    }
    if (!e.done) {
      this.inProgressDrops++;
      return { state: 'in-progress' };
    }
    // Refresh its place in the LRU order.
    this.entries.delete(key);
    this.entries.set(key, e);
    this.hits++;
    return { state: 'done', reply: e.reply };
  }

  /** Record the reply of a call begun with `begin`; a reply larger than the whole cache is not kept. */
  complete(key: string, reply: readonly Buffer[]): void {
    const bytes = reply.reduce((n, b) => n + b.length, 0);
    const e = this.entries.get(key);
    if (!e || e.done) return;
    if (bytes > this.maxBytes) {
      this.entries.delete(key);
      return;
    }
    // Delete then set: a completed entry joins the LRU order at the young end.
    this.entries.delete(key);
    this.entries.set(key, { done: true, reply, bytes });
    this.completed++;
    this.bytes += bytes;
    this.evict();
  }

  /** A call begun with `begin` that produced no reply (dropped): a retransmission runs it again. */
  forget(key: string): void {
    const e = this.entries.get(key);
    if (e && !e.done) this.entries.delete(key);
  }

  get stats(): DrcStats {
    return { entries: this.completed, bytes: this.bytes, hits: this.hits, inProgressDrops: this.inProgressDrops, evictions: this.evictions };
  }

  private evict(): void {
    if (this.completed <= this.maxEntries && this.bytes <= this.maxBytes) return;
    for (const [key, e] of this.entries) {
      if (this.completed <= this.maxEntries && this.bytes <= this.maxBytes) break;
      // Calls in progress are bounded by the in-flight limits, and evicting them would let a duplicate run.
      if (!e.done) continue;
      this.entries.delete(key);
      this.completed--;
      this.bytes -= e.bytes;
      this.evictions++;
    }
  }
}
