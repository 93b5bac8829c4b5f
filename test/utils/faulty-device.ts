import { DeviceGone, DeviceIOError } from '../../src/common/errors';
import type { BlockDevice, DeviceKind } from '../../src/devices/block-device';
import { checkRange } from '../../src/devices/check-range';

type Op = 'read' | 'write' | 'flush' | 'discard';

/**
 * Wraps a device and injects failures, for tests of the layers above.
 * Validation comes first, as on a real device: an out-of-range call still
 * rejects with OutOfRange while faults are on. Discards count as writes.
 */
export class FaultyDevice implements BlockDevice {
  /** Calls seen per operation, failed ones included. */
  readonly ops: Record<Op, number> = { read: 0, write: 0, flush: 0, discard: 0 };
  /** Calls rejected by an injected fault (I/O error or vanish). */
  injectedFailures = 0;

  private readsFail = false;
  private writesFail = false;
  private vanished = false;
  private closed = false;
  private readonly badRanges: Array<{ start: number; end: number }> = [];

  constructor(readonly inner: BlockDevice) {}

  get kind(): DeviceKind {
    return this.inner.kind;
  }
  get label(): string {
    return this.inner.label;
  }
  get size(): number {
    return this.inner.size;
  }
  get sectorSize(): number {
    return this.inner.sectorSize;
  }

  /** Every read rejects with EIO while on. */
  failReads(on = true): this {
    this.readsFail = on;
    return this;
  }

  /** Every write and discard rejects with EIO while on. */
  failWrites(on = true): this {
    this.writesFail = on;
    return this;
  }

  /** Reads, writes and discards touching [offset, offset + length) reject with EIO. */
  failRange(offset: number, length: number): this {
    this.badRanges.push({ start: offset, end: offset + length });
    return this;
  }

  /** From now on every operation rejects with DeviceGone; heal() does not undo it. */
  vanish(): this {
    this.vanished = true;
    return this;
  }

  /** Clear failReads, failWrites and failRange. */
  heal(): this {
    this.readsFail = false;
    this.writesFail = false;
    this.badRanges.length = 0;
    return this;
  }

  async read(offset: number, target: Buffer): Promise<void> {
    this.admit('read', offset, target.length, this.readsFail);
    await this.inner.read(offset, target);
  }

  async write(offset: number, data: Buffer): Promise<void> {
    this.admit('write', offset, data.length, this.writesFail);
    await this.inner.write(offset, data);
  }

  async flush(): Promise<void> {
    this.admit('flush', 0, 0, false);
    await this.inner.flush();
  }

  async discard(offset: number, length: number): Promise<void> {
    this.admit('discard', offset, length, this.writesFail);
    await this.inner.discard(offset, length);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.inner.close();
  }

  /** Count the call, then throw what the device would: gone, out of range, or an injected EIO. */
  private admit(op: Op, offset: number, length: number, failing: boolean): void {
    this.ops[op]++;
    if (this.closed) throw new DeviceGone(this.label, 'closed');
    if (this.vanished) {
      this.injectedFailures++;
      throw new DeviceGone(this.label, 'vanished (injected fault)');
    }
    checkRange(this.label, this.size, offset, length);
    const end = offset + length;
    if (failing || (length > 0 && this.badRanges.some((r) => offset < r.end && r.start < end))) {
      this.injectedFailures++;
      throw new DeviceIOError(this.label, op, offset, 'EIO');
    }
  }
}
