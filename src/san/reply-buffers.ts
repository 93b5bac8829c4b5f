import { BufferPool } from '../common/buffer-pool';
import type { SanStats } from './san-stats';

/**
 * Buffers for large READ replies, used again once a reply is done with.
 *
 * Each large READ used to allocate its own reply buffer outside V8's heap.
 * While a reply is in flight it survives young-generation collections, so at
 * hundreds of MB/s those buffers reach the old generation, and V8 answers the
 * external memory they hold with a full mark-compact every few tens of
 * milliseconds: after a busy 4 KiB phase, 1 MiB reads over the SAN dropped
 * from about 1,100 to 550-620 MB/s, with the gateway's CPU per MB doubled, all
 * of the difference in garbage collection. (The NBD server and NFS reads pool
 * their buffers for the same reason: common/buffer-pool.)
 *
 * A buffer is lent by take() and handed back by give() once nothing refers to
 * it: the session gives it back when both the slot table (the reply cache) and
 * the channel (segments not yet acknowledged) have let go of it. It becomes
 * free only in a turn of the event loop after the one it was given back in:
 * a setImmediate scheduled by that give() runs after every batcher flush
 * scheduled before it, and a segment of the reply can only have been queued
 * before (a segment may wait in the session's batcher until the end of a
 * turn). And only if the socket has no send queued in the kernel's stead
 * (libuv keeps a queued datagram's pieces by reference): otherwise it is left
 * to the garbage collector, never reused while anything could still send from
 * it. A buffer never given back (a session ended, a READ failed with its
 * device I/O perhaps still running) is forgotten when it is collected.
 */

/** Replies smaller than this are allocated as before: young-generation collections reclaim them cheaply. */
export const POOLED_MIN = 256 * 2 ** 10;
/** Bytes of free buffers kept for reuse per size class, per listener. */
export const POOL_CLASS_BYTES = 32 * 2 ** 20;

export class ReplyBuffers {
  /** By capacity: a power of two of data, plus the reply header. */
  private readonly pools = new Map<number, BufferPool>();
  /** The whole buffer behind each reply lent out, by its memory (weakly: one never given back is collected). */
  private readonly lent = new WeakMap<ArrayBufferLike, Loan>();

  constructor(
    private readonly stats: Pick<SanStats, 'replyBuffersReused' | 'replyBuffersDiscarded'>,
    /** Bytes before the data in each reply (the READ reply header). */
    private readonly header: number,
    /** Sends still queued by the socket the replies go out on: a buffer is reused only when there are none. */
    private readonly queuedSends: () => number,
    private readonly classBytes = POOL_CLASS_BYTES,
    private readonly defer: (fn: () => void) => void = (fn) => void setImmediate(fn),
  ) {}

  /** A reply buffer for `length` bytes of data after the header: pooled when large, fresh otherwise. */
  take(length: number): Buffer {
    const size = this.header + length;
    if (length < POOLED_MIN) return Buffer.allocUnsafe(size);
    const pool = this.poolFor(this.header + 2 ** Math.ceil(Math.log2(length)));
    if (pool.idle > 0) this.stats.replyBuffersReused++;
    const whole = pool.take();
    this.lent.set(whole.buffer, { whole, pool });
    return whole.subarray(0, size);
  }

  /** Whether `reply` came from take() and is still lent out. */
  owns(reply: Buffer): boolean {
    return this.lent.has(reply.buffer);
  }

  /** Nothing refers to `reply` any more: it may be reused after this turn. A buffer not lent by take() is ignored. */
  give(reply: Buffer): void {
    const loan = this.lent.get(reply.buffer);
    if (!loan) return;
    this.lent.delete(reply.buffer);
    // Its own deferral, never one scheduled before this give (see above); one per large reply costs little.
    this.defer(() => this.settle(loan));
  }

  private poolFor(capacity: number): BufferPool {
    let pool = this.pools.get(capacity);
    if (!pool) this.pools.set(capacity, (pool = new BufferPool(capacity, Math.max(1, Math.floor(this.classBytes / capacity)))));
    return pool;
  }

  private settle({ whole, pool }: Loan): void {
    if (this.queuedSends() !== 0 || !pool.give(whole)) this.stats.replyBuffersDiscarded++;
  }
}

interface Loan {
  whole: Buffer;
  pool: BufferPool;
}
