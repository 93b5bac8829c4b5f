import type { Prng } from '../../../common/prng';
import type { BlockStore } from '../fs-types';

type Pending = { offset: number; data: Buffer } | { offset: number; zero: number };

const SECTOR = 512;

/**
 * A BlockStore that can lose power: reads see every completed write, but only
 * writes completed before a flush() began are durable. crash() returns the
 * store as it would come back: the durable image plus a random choice of the
 * later writes, each kept, dropped or torn at sector granularity. The crashed
 * store refuses all further I/O, like a dead process's file descriptors.
 */
export class CrashStore implements BlockStore {
  readonly size: number;
  readonly pageSize: number;
  private readonly image: Buffer;
  private readonly durable: Buffer;
  private pending: Pending[] = [];
  private dead = false;
  writes = 0;
  flushes = 0;
  discards = 0;
  /** Event-loop turns before each I/O completes, so concurrent I/O interleaves. */
  jitter?: () => number;
  /** Make flush() fail (e.g. a device error): pending writes stay pending. */
  failFlush = false;
  failWrites = false;
  private discardGate?: Promise<void>;

  constructor(size: number, pageSize = 64 * 1024, base?: Buffer) {
    this.size = size;
    this.pageSize = pageSize;
    this.durable = base ? Buffer.from(base) : Buffer.alloc(size);
    this.image = Buffer.from(this.durable);
  }

  /** Bytes a reader would see now (for tests that inspect raw blocks). */
  get bytes(): Buffer {
    return this.image;
  }

  /** Bytes that would survive a power loss now: writes completed before the last flush began. */
  get durableBytes(): Buffer {
    return this.durable;
  }

  async readInto(offset: number, target: Buffer): Promise<void> {
    await this.settle(offset, target.length);
    this.image.copy(target, 0, offset, offset + target.length);
  }

  async write(offset: number, data: Buffer, opts?: { fua?: boolean }): Promise<void> {
    await this.settle(offset, data.length);
    if (this.failWrites) throw new Error('injected write failure');
    data.copy(this.image, offset);
    this.pending.push({ offset, data: Buffer.from(data) });
    this.writes++;
    if (opts?.fua) await this.flush();
  }

  async flush(): Promise<void> {
    const upto = this.pending.length;
    await this.settle(0, 0);
    if (this.failFlush) throw new Error('injected flush failure');
    for (const p of this.pending.splice(0, upto)) apply(this.durable, p);
    this.flushes++;
  }

  /** Hold every discard until the returned function is called. */
  pauseDiscards(): () => void {
    let resume!: () => void;
    this.discardGate = new Promise<void>((resolve) => (resume = resolve));
    return () => {
      this.discardGate = undefined;
      resume();
    };
  }

  async discard(offset: number, length: number): Promise<void> {
    await this.discardGate;
    await this.settle(offset, length);
    this.image.fill(0, offset, offset + length);
    this.pending.push({ offset, zero: length });
    this.discards++;
  }

  /** Power loss: this store dies; the returned one holds what survived (with no prng: nothing unflushed). */
  crash(prng?: Prng): CrashStore {
    this.dead = true;
    const img = Buffer.from(this.durable);
    if (!prng) return new CrashStore(this.size, this.pageSize, img);
    for (const p of this.pending) {
      const r = prng.next();
      if (r < 1 / 3) apply(img, p);
      else if (r < 2 / 3 && 'data' in p) {
        // Torn: some sectors made it.
        for (let s = 0; s < p.data.length; s += SECTOR) {
          if (prng.next() < 0.5) p.data.copy(img, p.offset + s, s, Math.min(p.data.length, s + SECTOR));
        }
      }
    }
    return new CrashStore(this.size, this.pageSize, img);
  }

  private async settle(offset: number, length: number): Promise<void> {
    for (let turns = this.jitter?.() ?? 0; turns > 0; turns--) await new Promise(setImmediate);
    if (this.dead) throw new Error('store is gone (crashed)');
    if (offset < 0 || length < 0 || offset + length > this.size) throw new RangeError(`[${offset}, ${offset + length}) outside the store`);
  }
}

function apply(target: Buffer, p: Pending): void {
  if ('data' in p) p.data.copy(target, p.offset);
  else target.fill(0, p.offset, p.offset + p.zero);
}
