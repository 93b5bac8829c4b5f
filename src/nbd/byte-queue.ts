import type { Readable } from 'node:stream';

/**
 * Reads exact-size frames from a byte stream: `read(n)` resolves with the
 * next n bytes (one copy only when a frame spans chunks), or null at end.
 * The stream is paused while the queue holds more than `highWater` bytes.
 */
export class ByteQueue {
  private chunks: Buffer[] = [];
  private size = 0;
  private ended = false;
  private waiter: (() => void) | null = null;

  constructor(
    private readonly stream: Readable,
    private readonly highWater = 8 * 2 ** 20,
  ) {
    stream.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.size += chunk.length;
      if (this.size > this.highWater) stream.pause();
      this.wake();
    });
    const end = () => {
      this.ended = true;
      this.wake();
    };
    stream.on('end', end);
    stream.on('close', end);
    stream.on('error', end);
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  async read(n: number): Promise<Buffer | null> {
    while (this.size < n) {
      if (this.ended) return null;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
    let out: Buffer;
    const first = this.chunks[0];
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.consumed(n);
    } else {
      out = Buffer.allocUnsafe(n);
      this.take(out);
    }
    return out;
  }

  /**
   * Fill all of `target` with the next target.length bytes (always a copy,
   * into a buffer the caller owns, e.g. a pooled one); false at end.
   */
  async readInto(target: Buffer): Promise<boolean> {
    while (this.size < target.length) {
      if (this.ended) return false;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
    this.take(target);
    return true;
  }

  private take(out: Buffer): void {
    const n = out.length;
    let at = 0;
    while (at < n) {
      const c = this.chunks[0];
      const take = Math.min(c.length, n - at);
      c.copy(out, at, 0, take);
      at += take;
      if (take === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(take);
    }
    this.consumed(n);
  }

  private consumed(n: number): void {
    this.size -= n;
    if (this.size <= this.highWater && this.stream.isPaused()) this.stream.resume();
  }
}
