import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { DeviceGone, DeviceIOError, DomainError, InvalidArgument } from '../common/errors';
import type { BlockDevice, DeviceKind } from './block-device';
import { checkRange } from './check-range';
import { INLINE_READ_MAX, INLINE_WRITE_MAX, InlineIoPolicy, READ_SLOW_BASE_MS, WRITE_SLOW_BASE_MS } from './inline-io-policy';

/**
 * File-descriptor I/O shared by FileDevice and BlockDevDevice. The hot path
 * uses callback fs.read/fs.write wrapped in one Promise per call: measurably
 * cheaper than FileHandle, and one Promise covers the short-I/O retry loop.
 * Reads and writes the page cache serves without waiting run inline (InlineIoPolicy).
 */

const ZERO_CHUNK = 1 << 20;
let zeroChunk: Buffer | undefined;

type Done<T> = (err: NodeJS.ErrnoException | null, value: T) => void;

/** Read into `buf` from `position` until full or EOF; calls back with the bytes read. */
function preadLoop(fd: number, buf: Buffer, position: number, done: Done<number>): void {
  let got = 0;
  const step = (): void => {
    fs.read(fd, buf, got, buf.length - got, position + got, (err, n) => {
      if (err) return done(err, got);
      got += n;
      if (n === 0 || got === buf.length) return done(null, got);
      step();
    });
  };
  if (buf.length === 0) done(null, 0);
  else step();
}

/** Write all of `buf` at `position`, retrying short writes. */
function pwriteLoop(fd: number, buf: Buffer, position: number, done: Done<void>): void {
  let put = 0;
  const step = (): void => {
    fs.write(fd, buf, put, buf.length - put, position + put, (err, n) => {
      if (err) return done(err, undefined);
      // A zero-byte write would loop forever; treat it as an I/O error.
      if (n === 0) return done(noProgress(position + put), undefined);
      put += n;
      if (put === buf.length) return done(null, undefined);
      step();
    });
  };
  if (buf.length === 0) done(null, undefined);
  else step();
}

/** preadLoop on the calling thread (for page-cache hits); returns the bytes read. */
function preadLoopSync(fd: number, buf: Buffer, position: number): number {
  let got = 0;
  while (got < buf.length) {
    const n = fs.readSync(fd, buf, got, buf.length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/** pwriteLoop on the calling thread. */
function pwriteLoopSync(fd: number, buf: Buffer, position: number): void {
  let put = 0;
  while (put < buf.length) {
    const n = fs.writeSync(fd, buf, put, buf.length - put, position + put);
    if (n === 0) throw noProgress(position + put);
    put += n;
  }
}

function noProgress(at: number): Error {
  return Object.assign(new Error(`write made no progress at ${at}`), { code: 'EIO' });
}

export function preadFully(fd: number, buf: Buffer, position: number): Promise<number> {
  return new Promise((resolve, reject) => preadLoop(fd, buf, position, (err, got) => (err ? reject(err) : resolve(got))));
}

export function pwriteFully(fd: number, buf: Buffer, position: number): Promise<void> {
  return new Promise((resolve, reject) => pwriteLoop(fd, buf, position, (err) => (err ? reject(err) : resolve())));
}

/** Overwrite [offset, offset + length) with zeros, at most 1 MiB per write. */
export async function zeroFill(fd: number, offset: number, length: number): Promise<void> {
  const zeros = (zeroChunk ??= Buffer.alloc(ZERO_CHUNK));
  const end = offset + length;
  for (let pos = offset; pos < end; pos += ZERO_CHUNK) {
    await pwriteFully(fd, zeros.subarray(0, Math.min(ZERO_CHUNK, end - pos)), pos);
  }
}

function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

function closeFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.close(fd, (err) => (err ? reject(err) : resolve())));
}

export function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Errnos meaning the backing store itself went away, not that one I/O failed. */
const GONE_ERRNOS = new Set(['EBADF', 'ENXIO', 'ENODEV', 'ENOENT', 'ESTALE']);

export function mapIoError(label: string, op: string, offset: number, err: unknown): DomainError {
  if (err instanceof DomainError) return err;
  const errno = errnoOf(err);
  if (errno !== undefined && GONE_ERRNOS.has(errno)) {
    return new DeviceGone(label, `${op} at ${offset} failed with ${errno}`);
  }
  return new DeviceIOError(label, op, offset, errno, err);
}

export type NodeKind = 'file' | 'block';

/**
 * Open an existing regular file or block device read-write. The path is
 * stat'ed before opening, so a wrong node (e.g. a tape or watchdog character
 * device, where open() itself has side effects) is never opened; fstat then
 * confirms the fd is what was checked.
 */
export async function openExisting(path: string, want: NodeKind): Promise<{ fd: number; stat: fs.BigIntStats }> {
  const before = await fs.promises.stat(path, { bigint: true }).catch((err: unknown) => {
    throw openError(path, err);
  });
  checkNodeKind(path, before, want);
  const fd = await new Promise<number>((resolve, reject) =>
    fs.open(path, 'r+', (err, fd) => (err ? reject(openError(path, err)) : resolve(fd))),
  );
  try {
    const stat = await new Promise<fs.BigIntStats>((resolve, reject) =>
      fs.fstat(fd, { bigint: true }, (err, st) => (err ? reject(openError(path, err)) : resolve(st))),
    );
    checkNodeKind(path, stat, want);
    if (stat.ino !== before.ino || stat.dev !== before.dev) {
      throw new DeviceIOError(path, 'open', 0, undefined, new Error('path was replaced while opening'));
    }
    return { fd, stat };
  } catch (err) {
    fs.close(fd, () => undefined);
    throw err;
  }
}

function checkNodeKind(path: string, st: fs.BigIntStats, want: NodeKind): void {
  if (want === 'file' && !st.isFile()) {
    const hint = st.isBlockDevice() ? " (use kind 'block')" : '';
    throw new InvalidArgument(`'${path}' is not a regular file${hint}`, 'path');
  }
  if (want === 'block' && !st.isBlockDevice()) {
    const hint = st.isFile() ? " (for an image file use kind 'file')" : '';
    throw new InvalidArgument(`'${path}' is not a block device${hint}`, 'path');
  }
}

export function openError(path: string, err: unknown): DomainError {
  switch (errnoOf(err)) {
    case 'ENOENT':
      return new InvalidArgument(`'${path}' does not exist`, 'path');
    case 'ENOTDIR':
      return new InvalidArgument(`'${path}' is not a valid path: a parent is not a directory`, 'path');
    case 'EISDIR':
      return new InvalidArgument(`'${path}' is a directory`, 'path');
    default:
      return mapIoError(path, 'open', 0, err);
  }
}

/**
 * A BlockDevice over an open file descriptor. Subclasses decide what a read
 * past the end of the backing store means and how to discard.
 *
 * close() waits for operations already in flight before closing the fd:
 * closing under a pending read would let the kernel hand the same fd number
 * to another open(), and the read would then hit someone else's file.
 */
export abstract class FdDevice implements BlockDevice {
  /** Why the device is unusable; undefined while it is open. */
  private goneReason: string | undefined;
  /** False once the fd is closed or known not to be ours (EBADF). */
  private fdValid = true;
  private inflight = 0;
  private drained: (() => void) | undefined;
  private closing: Promise<void> | undefined;
  private readonly inlineReads = new InlineIoPolicy(READ_SLOW_BASE_MS, INLINE_READ_MAX);
  private readonly inlineWrites = new InlineIoPolicy(WRITE_SLOW_BASE_MS, INLINE_WRITE_MAX);

  protected constructor(
    readonly kind: DeviceKind,
    readonly label: string,
    readonly size: number,
    readonly sectorSize: number,
    private readonly fd: number,
  ) {}

  // read and write are the hot path: one Promise per call around the callback
  // loop, no async frames.
  read(offset: number, target: Buffer): Promise<void> {
    const refused = this.refuse(offset, target.length);
    if (refused) return refused;
    if (this.inlineReads.inline(target.length)) return this.readInline(offset, target);
    this.inflight++;
    return new Promise((resolve, reject) =>
      preadLoop(this.fd, target, offset, (err, got) => {
        this.left();
        if (err) return reject(this.failed('read', offset, err));
        if (got < target.length) {
          try {
            this.readPastEnd(target, got, offset);
          } catch (e) {
            return reject(e);
          }
        }
        resolve();
      }),
    );
  }

  /** A read on this thread; nothing is in flight afterwards, so close() need not wait for it. */
  private readInline(offset: number, target: Buffer): Promise<void> {
    const start = performance.now();
    try {
      const got = preadLoopSync(this.fd, target, offset);
      this.inlineReads.took(target.length, performance.now() - start);
      if (got < target.length) this.readPastEnd(target, got, offset);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err instanceof DomainError ? err : this.failed('read', offset, err));
    }
  }

  write(offset: number, data: Buffer): Promise<void> {
    const refused = this.refuse(offset, data.length);
    if (refused) return refused;
    if (this.inlineWrites.inline(data.length)) return this.writeInline(offset, data);
    this.inflight++;
    return new Promise((resolve, reject) =>
      pwriteLoop(this.fd, data, offset, (err) => {
        this.left();
        if (err) reject(this.failed('write', offset, err));
        else resolve();
      }),
    );
  }

  /** Into the page cache like a pooled write, so exactly as durable: after the next flush. */
  private writeInline(offset: number, data: Buffer): Promise<void> {
    const start = performance.now();
    try {
      pwriteLoopSync(this.fd, data, offset);
      this.inlineWrites.took(data.length, performance.now() - start);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(this.failed('write', offset, err));
    }
  }

  flush(): Promise<void> {
    return this.run('flush', 0, 0, fdatasync);
  }

  discard(offset: number, length: number): Promise<void> {
    return this.run('discard', offset, length, async (fd) => {
      if (length > 0) await this.release(fd, offset, length);
    });
  }

  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  /** The backing store ended `got` bytes into a read that is within `size`. */
  protected abstract readPastEnd(target: Buffer, got: number, offset: number): void;

  /** Make [offset, offset + length) read as zeros; length > 0, range checked. */
  protected abstract release(fd: number, offset: number, length: number): Promise<void>;

  /** A rejection when the device is gone or the range is bad; undefined when the I/O may go ahead. */
  private refuse(offset: number, length: number): Promise<never> | undefined {
    if (this.goneReason !== undefined) return Promise.reject(new DeviceGone(this.label, this.goneReason));
    try {
      checkRange(this.label, this.size, offset, length);
    } catch (err) {
      return Promise.reject(err);
    }
    return undefined;
  }

  private async run(op: string, offset: number, length: number, body: (fd: number) => Promise<void>): Promise<void> {
    const refused = this.refuse(offset, length);
    if (refused) return refused;
    this.inflight++;
    try {
      await body(this.fd);
    } catch (err) {
      throw this.failed(op, offset, err);
    } finally {
      this.left();
    }
  }

  private left(): void {
    if (--this.inflight === 0) this.drained?.();
  }

  private failed(op: string, offset: number, err: unknown): DomainError {
    if (errnoOf(err) === 'EBADF' && this.fdValid) {
      // The fd was closed behind our back; its number may already belong to another file.
      this.fdValid = false;
      this.goneReason ??= 'its file descriptor is no longer valid';
    }
    return mapIoError(this.label, op, offset, err);
  }

  private async shutdown(): Promise<void> {
    this.goneReason ??= 'closed';
    if (this.inflight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    if (!this.fdValid) return;
    this.fdValid = false;
    let error: unknown;
    await fdatasync(this.fd).catch((err: unknown) => (error = err));
    // On EBADF the number is not ours any more: closing it could close another file.
    if (errnoOf(error) !== 'EBADF') await closeFd(this.fd).catch((err: unknown) => (error ??= err));
    if (error !== undefined) throw mapIoError(this.label, 'close', 0, error);
  }
}
