import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { onreadSocket } from '../common/onread-socket';
import { ChunkQueue, type FrameInput } from './byte-queue';

export const SCRATCH = 64 * 1024;

/**
 * Frames from a socket read with `onread`: while a payload is wanted and
 * nothing is queued, the kernel copies the next bytes straight into the
 * caller's buffer (no 64 KiB chunk made per read, no second copy); other
 * bytes land in one scratch buffer and are copied out. Receiving 1 MiB
 * WRITEs this way took about a third of the CPU of 'data' events.
 * One reader at a time, as the NBD server reads.
 */
export class DirectInput extends ChunkQueue implements FrameInput {
  private readonly scratch = Buffer.allocUnsafeSlow(SCRATCH);
  /** A readInto in progress: its buffer, how much is in, and its resolver. */
  private target: Buffer | null = null;
  private filled = 0;
  private done: ((ok: boolean) => void) | null = null;
  private stream: Readable | null = null;
  private stopped = false;
  /** Where a read goes while no payload is wanted: the scratch buffer, or its first readAhead() bytes. */
  private ahead = this.scratch;
  /** Bytes the kernel put straight into callers' buffers, and bytes copied out of the scratch buffer. */
  readonly bytes = { direct: 0, copied: 0 };

  constructor(highWater = 8 * 2 ** 20) {
    super(highWater);
  }

  /** For `onread.buffer`: asked after every read for where the next one goes. */
  readonly next = (): Buffer => {
    if (this.target !== null && this.size === 0) return this.target.subarray(this.filled);
    return this.ahead;
  };

  /**
   * While the reader waits for a frame header, a full scratch read takes the
   * header and up to 64 KiB of whatever follows. That suits small frames
   * (many arrive in one read) but costs a large payload two copies of its
   * first 64 KiB: the reader of 1 MiB WRITEs reads ahead only a header's
   * worth, so each payload lands whole in its buffer.
   */
  readAhead(bytes: number): void {
    const n = Math.max(1, Math.min(SCRATCH, bytes));
    if (n !== this.ahead.length) this.ahead = n === SCRATCH ? this.scratch : this.scratch.subarray(0, n);
  }

  /** For `onread.callback`: `buf` is what next() returned before this read. False stops reading (queue full). */
  readonly received = (n: number, buf: Buffer): boolean => {
    if (buf.buffer !== this.scratch.buffer) {
      this.bytes.direct += n;
      this.filled += n;
      if (this.filled === this.target!.length) this.finish(true);
      return true;
    }
    this.bytes.copied += n;
    // The scratch buffer is overwritten by the next read.
    const chunk = Buffer.allocUnsafe(n);
    buf.copy(chunk, 0, 0, n);
    this.push(chunk);
    if (this.target) this.fillTarget();
    if (this.size > this.highWater) {
      this.stopped = true;
      return false;
    }
    return true;
  };

  /** Watch the stream for its end; resume() is called on it when a full queue drains. */
  attach(stream: Readable): void {
    this.stream = stream;
    const end = () => {
      this.end();
      if (this.target) this.finish(false);
    };
    stream.on('end', end);
    stream.on('close', end);
    stream.on('error', end);
  }

  readInto(target: Buffer): Promise<boolean> {
    if (target.length === 0) return Promise.resolve(true);
    if (this.ended && this.size < target.length) return Promise.resolve(false);
    this.target = target;
    this.filled = 0;
    return new Promise<boolean>((resolve) => {
      this.done = resolve;
      this.fillTarget();
    });
  }

  protected belowHighWater(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.stream?.resume();
  }

  /** Move queued bytes into the pending target. */
  private fillTarget(): void {
    const target = this.target!;
    const n = Math.min(this.size, target.length - this.filled);
    if (n > 0) {
      this.take(target, this.filled, n);
      this.filled += n;
    }
    if (this.filled === target.length) this.finish(true);
    else if (this.ended) this.finish(false);
  }

  private finish(ok: boolean): void {
    const done = this.done!;
    this.target = null;
    this.done = null;
    done(ok);
  }
}

/**
 * Re-wrap a socket the server accepted paused (pauseOnConnect) so that it
 * reads through a DirectInput (onreadSocket). Undefined when there is no
 * handle to move (the caller reads as a stream).
 */
export function directSocket(accepted: Socket, highWater?: number): { socket: Socket; input: DirectInput } | undefined {
  const input = new DirectInput(highWater);
  const socket = onreadSocket(accepted, { buffer: input.next, callback: input.received });
  if (!socket) return undefined;
  input.attach(socket);
  socket.resume();
  return { socket, input };
}
