/**
 * Reusable buffers of one size: a READ reply's data, given back once the
 * reply is written. Large buffers made and dropped at line rate are what
 * sets off V8's full collections (external memory pressure), not their bytes.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];
  made = 0;

  constructor(
    readonly size: number,
    /** Buffers kept for reuse at most; more are made when needed and left to the collector. */
    private readonly keep: number,
  ) {}

  take(): Buffer {
    const b = this.free.pop();
    if (b) return b;
    this.made++;
    return Buffer.allocUnsafeSlow(this.size);
  }

  /** Keep `b` for reuse; false when the pool already holds as many as it keeps (`b` is left to the collector). */
  give(b: Buffer): boolean {
    if (this.free.length >= this.keep) return false;
    this.free.push(b);
    return true;
  }

  get idle(): number {
    return this.free.length;
  }
}
