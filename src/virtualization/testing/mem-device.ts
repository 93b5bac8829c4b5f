import { DeviceGone, DeviceIOError, OutOfRange } from '../../common/errors';
import type { BlockDevice } from '../../devices/block-device';

/**
 * A Buffer-backed BlockDevice for specs, with switches to make I/O fail and
 * hooks to delay it, so failure and concurrency paths can be driven.
 */
export class MemDevice implements BlockDevice {
  readonly kind = 'ram' as const;
  readonly sectorSize = 512;
  readonly data: Buffer;

  failReads = false;
  failWrites = false;
  failFlush = false;
  failDiscard = false;
  /** A device whose discard does nothing (and still succeeds): stale bytes stay. */
  dropDiscards = false;
  gone = false;

  reads = 0;
  writes = 0;
  flushes = 0;
  discards: Array<[offset: number, length: number]> = [];

  /** Macrotask turns to wait before each I/O completes; lets concurrent I/O finish out of order. */
  jitter?: () => number;
  private readonly gates = new Map<'read' | 'write' | 'discard', Promise<void>>();

  constructor(
    readonly label: string,
    readonly size: number,
  ) {
    this.data = Buffer.alloc(size);
  }

  /** Hold every read (write, discard) until the returned function is called. */
  pause(op: 'read' | 'write' | 'discard'): () => void {
    let resume!: () => void;
    this.gates.set(op, new Promise<void>((resolve) => (resume = resolve)));
    return () => {
      this.gates.delete(op);
      resume();
    };
  }

  async read(offset: number, target: Buffer): Promise<void> {
    this.check(offset, target.length);
    await this.gates.get('read');
    await this.settle('read', offset, this.failReads);
    this.data.copy(target, 0, offset, offset + target.length);
    this.reads++;
  }

  async write(offset: number, data: Buffer): Promise<void> {
    this.check(offset, data.length);
    await this.gates.get('write');
    await this.settle('write', offset, this.failWrites);
    data.copy(this.data, offset);
    this.writes++;
  }

  async flush(): Promise<void> {
    await this.settle('flush', 0, this.failFlush);
    this.flushes++;
  }

  async discard(offset: number, length: number): Promise<void> {
    this.check(offset, length);
    await this.gates.get('discard');
    await this.settle('discard', offset, this.failDiscard);
    this.discards.push([offset, length]);
    if (!this.dropDiscards) this.data.fill(0, offset, offset + length);
  }

  async close(): Promise<void> {
    this.gone = true;
  }

  private check(offset: number, length: number): void {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new OutOfRange(`device '${this.label}'`, offset, length, this.size);
    }
  }

  private async settle(op: string, offset: number, fail: boolean): Promise<void> {
    for (let turns = this.jitter?.() ?? 0; turns > 0; turns--) await new Promise(setImmediate);
    if (this.gone) throw new DeviceGone(this.label, 'closed');
    if (fail) throw new DeviceIOError(this.label, op, offset, 'EIO');
  }
}
