import type { Readable } from 'node:stream';

/** What the NBD server reads its frames with: ByteQueue over any stream, DirectInput over a socket. */
export interface FrameInput {
  /** The next n bytes, or null at end. */
  read(n: number): Promise<Buffer | null>;
  /** Fill all of `target` with the next bytes; false at end. */
  readInto(target: Buffer): Promise<boolean>;
  /**
   * How many bytes a read from the source may take while no payload is
   * wanted (at most the scratch size): the caller knows when the next frame's
   * payload is large enough to be worth landing in its own buffer.
   */
  readAhead?(bytes: number): void;
}

/**
 * Received chunks waiting to be read as frames: `read(n)` resolves with the
 * next n bytes (one copy only when a frame spans chunks), or null at end.
 * One reader at a time. Subclasses feed it and say what to do once the
 * queue is back under its high-water mark.
 */
export abstract class ChunkQueue {
  private chunks: Buffer[] = [];
  protected size = 0;
  protected ended = false;
  private waiter: (() => void) | null = null;

  constructor(protected readonly highWater: number) {}

  /** The queue went from above highWater to at most highWater. */
  protected abstract belowHighWater(): void;

  protected push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    this.wake();
  }

  protected end(): void {
    this.ended = true;
    this.wake();
  }

  async read(n: number): Promise<Buffer | null> {
    while (this.size < n) {
      if (this.ended) return null;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
    const first = this.chunks[0];
    if (first.length < n) {
      const out = Buffer.allocUnsafe(n);
      this.take(out, 0, n);
      return out;
    }
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.consumed(n);
    return first.subarray(0, n);
  }

  /** Wait until `n` bytes are queued; false if the stream ends first. */
  protected async queued(n: number): Promise<boolean> {
    while (this.size < n) {
      if (this.ended) return false;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
    return true;
  }

  /** Copy the next n queued bytes into out[at, at + n). */
  protected take(out: Buffer, at: number, n: number): void {
    const end = at + n;
    while (at < end) {
      const c = this.chunks[0];
      const k = Math.min(c.length, end - at);
      c.copy(out, at, 0, k);
      at += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.consumed(n);
  }

  private consumed(n: number): void {
    const above = this.size > this.highWater;
    this.size -= n;
    if (above && this.size <= this.highWater) this.belowHighWater();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }
}

/**
 * Frames from any byte stream through its 'data' events. The stream is
 * paused while the queue holds more than `highWater` bytes.
 */
export class ByteQueue extends ChunkQueue implements FrameInput {
  constructor(
    private readonly stream: Readable,
    highWater = 8 * 2 ** 20,
  ) {
    super(highWater);
    stream.on('data', (chunk: Buffer) => {
      this.push(chunk);
      if (this.size > this.highWater) stream.pause();
    });
    const end = () => this.end();
    stream.on('end', end);
    stream.on('close', end);
    stream.on('error', end);
  }

  /** Fill all of `target` (always a copy, into a buffer the caller owns, e.g. a pooled one); false at end. */
  async readInto(target: Buffer): Promise<boolean> {
    if (!(await this.queued(target.length))) return false;
    this.take(target, 0, target.length);
    return true;
  }

  protected belowHighWater(): void {
    if (this.stream.isPaused()) this.stream.resume();
  }
}
