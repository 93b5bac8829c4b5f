/**
 * The contract every storage backend fulfils. Offsets and lengths are bytes.
 * Any byte offset is allowed (backends use buffered I/O); upper layers keep
 * their I/O sector aligned anyway, and `sectorSize` tells them the unit.
 *
 * Errors: an access outside [0, size) rejects with OutOfRange; a failed I/O
 * rejects with DeviceIOError; I/O after close() or on a vanished backing store
 * rejects with DeviceGone. A backend never throws synchronously and never
 * crashes the process.
 */
export type DeviceKind = 'file' | 'block' | 'ram';

export interface BlockDevice {
  readonly kind: DeviceKind;
  /** Human label used in errors and logs (path, or ram:<name>). */
  readonly label: string;
  /** Capacity in bytes. */
  readonly size: number;
  /** Logical sector size in bytes (512 or 4096). */
  readonly sectorSize: number;

  /** Fill `target` with the bytes at [offset, offset + target.length). */
  read(offset: number, target: Buffer): Promise<void>;
  /** Write all of `data` at `offset`. Durable after flush(). */
  write(offset: number, data: Buffer): Promise<void>;
  /** Make every completed write durable (fdatasync). */
  flush(): Promise<void>;
  /** Release the range; afterwards it reads as zeros. */
  discard(offset: number, length: number): Promise<void>;
  /** Flush and release the backing store. Idempotent. */
  close(): Promise<void>;
}
