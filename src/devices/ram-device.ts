import { DeviceGone, InvalidArgument } from '../common/errors';
import type { BlockDevice } from './block-device';
import { checkCapacity, checkRange } from './check-range';

/**
 * A sparse in-memory device: chunks are allocated on first write and dropped
 * by discard, so a device of many GiB costs nothing until written. Contents
 * are lost on close. Every operation completes before its promise is returned,
 * so concurrent callers see the same ordering as their calls.
 */
export class RamDevice implements BlockDevice {
  readonly kind = 'ram';
  readonly label: string;
  readonly sectorSize = 512;
  private readonly chunks = new Map<number, Buffer>();
  private closed = false;

  constructor(
    name: string,
    readonly size: number,
    private readonly chunkSize = 1 << 20,
  ) {
    this.label = `ram:${name}`;
    checkCapacity(this.label, size);
    if (!Number.isSafeInteger(chunkSize) || chunkSize <= 0) {
      throw new InvalidArgument(`device '${this.label}': chunk size must be a positive integer, got ${chunkSize}`, 'chunkSize');
    }
  }

  /** Bytes of memory currently held for data. */
  get allocatedBytes(): number {
    let total = 0;
    for (const chunk of this.chunks.values()) total += chunk.length;
    return total;
  }

  async read(offset: number, target: Buffer): Promise<void> {
    this.check(offset, target.length);
    this.forEachSlice(offset, target.length, (index, start, end, pos) => {
      const chunk = this.chunks.get(index);
      if (chunk) chunk.copy(target, pos, start, end);
      else target.fill(0, pos, pos + end - start);
    });
  }

  async write(offset: number, data: Buffer): Promise<void> {
    this.check(offset, data.length);
    this.forEachSlice(offset, data.length, (index, start, end, pos) => {
      let chunk = this.chunks.get(index);
      if (!chunk) {
        chunk = Buffer.alloc(Math.min(this.chunkSize, this.size - index * this.chunkSize));
        this.chunks.set(index, chunk);
      }
      data.copy(chunk, start, pos, pos + end - start);
    });
  }

  async flush(): Promise<void> {
    this.check(0, 0);
  }

  async discard(offset: number, length: number): Promise<void> {
    this.check(offset, length);
    this.forEachSlice(offset, length, (index, start, end) => {
      const chunk = this.chunks.get(index);
      if (!chunk) return;
      if (start === 0 && end === chunk.length) this.chunks.delete(index);
      else chunk.fill(0, start, end);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.chunks.clear();
  }

  private check(offset: number, length: number): void {
    if (this.closed) throw new DeviceGone(this.label, 'closed');
    checkRange(this.label, this.size, offset, length);
  }

  /**
   * Split [offset, offset + length) at chunk boundaries; `fn` gets the chunk
   * index, the slice [start, end) within the chunk and the position in the
   * caller's buffer.
   */
  private forEachSlice(
    offset: number,
    length: number,
    fn: (index: number, start: number, end: number, pos: number) => void,
  ): void {
    const endOffset = offset + length;
    let at = offset;
    while (at < endOffset) {
      const index = Math.floor(at / this.chunkSize);
      const chunkStart = index * this.chunkSize;
      const start = at - chunkStart;
      const end = Math.min(this.chunkSize, endOffset - chunkStart);
      fn(index, start, end, at - offset);
      at = chunkStart + end;
    }
  }
}
