import { Presets, SingleBar } from 'cli-progress';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, readFile, stat, truncate } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { devNumbers } from '../devices/block-dev-device';
import type { VolumeInfo } from '../storage/domain';
import { CliError, EXIT, seg, usageError } from './client';
import type { Context } from './context';
import { rate, size } from './format';
import type { CliIO } from './io';

/**
 * Upload unit: each chunk is its own PUT, which the gateway flushes before
 * answering, so every acknowledged chunk is durable and a failed upload can
 * say exactly how far it got.
 */
export const UPLOAD_CHUNK = 64 * 2 ** 20;

/** A bar on a terminal; nothing otherwise (the caller prints a summary line instead). */
class Progress {
  private readonly bar?: SingleBar;
  private readonly started = process.hrtime.bigint();

  constructor(io: CliIO, label: string, total: number) {
    if (!io.stderr.isTTY || total === 0) return;
    this.bar = new SingleBar(
      {
        stream: io.stderr,
        format: `${label} [{bar}] {percentage}% | {done} / {size} | {speed} | ETA {eta_formatted}`,
        hideCursor: true,
        barsize: 30,
      },
      Presets.shades_classic,
    );
    this.bar.start(total, 0, { done: size(0), size: size(total), speed: '-' });
  }

  get seconds(): number {
    return Number(process.hrtime.bigint() - this.started) / 1e9;
  }

  update(done: number): void {
    this.bar?.update(done, { done: size(done), speed: rate(done, this.seconds) });
  }

  stop(): void {
    this.bar?.stop();
  }
}

const fileError = (file: string, e: unknown) => {
  const err = e as NodeJS.ErrnoException;
  return new CliError(`cannot use ${file}: ${err.message}`, { exitCode: EXIT.API, code: err.code ?? 'FILE_ERROR' });
};

/** Block devices stat as size 0: sysfs knows their size (in 512-byte units, whatever the sector size). */
async function blockDeviceSize(file: string, rdev: bigint): Promise<number> {
  const { major, minor } = devNumbers(rdev);
  try {
    return Number((await readFile(`/sys/dev/block/${major}:${minor}/size`, 'utf8')).trim()) * 512;
  } catch (e) {
    throw fileError(file, e);
  }
}

async function sourceSize(file: string): Promise<number> {
  try {
    const st = await stat(file, { bigint: true });
    // Opening proves we may read it, before the first request goes out.
    await (await open(file, 'r')).close();
    if (st.isFile()) return Number(st.size);
    if (st.isBlockDevice()) return blockDeviceSize(file, st.rdev);
  } catch (e) {
    throw e instanceof CliError ? e : fileError(file, e);
  }
  throw usageError(`${file} is neither a regular file nor a block device`);
}

export async function upload(ctx: Context, key: string, file: string, offset: number): Promise<void> {
  const total = await sourceSize(file);
  const vol = await ctx.api.get<VolumeInfo>(`volumes/${seg(key)}`);
  if (offset + total > vol.size) {
    const where = offset > 0 ? ` from offset ${offset}` : '';
    throw new CliError(
      `${file} is ${size(total)} (${total} bytes) but volume '${vol.name}' is ${size(vol.size)} (${vol.size} bytes)${where}: nothing was sent`,
      { exitCode: EXIT.API, code: 'OUT_OF_RANGE' },
    );
  }
  const progress = new Progress(ctx.io, `upload ${vol.name}`, total);
  let sent = 0;
  try {
    while (sent < total) {
      const n = Math.min(UPLOAD_CHUNK, total - sent);
      const body = createReadStream(file, { start: sent, end: sent + n - 1 });
      let readError: unknown;
      body.once('error', (e) => (readError = e));
      try {
        // By id: a rename during a long upload must not send later chunks elsewhere.
        await ctx.api.request('PUT', `volumes/${seg(vol.id)}/image`, {
          query: { offset: offset + sent },
          body,
          headers: { 'content-type': 'application/octet-stream', 'content-length': String(n) },
        });
      } catch (e) {
        // fetch reports a failing body as a failed request: say it was the file.
        throw readError ? fileError(file, readError) : e;
      } finally {
        body.destroy();
      }
      sent += n;
      progress.update(sent);
    }
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    throw e.prefixed(`upload stopped at offset ${offset + sent} (${size(sent)} of ${size(total)} written): `);
  } finally {
    progress.stop();
  }
  const seconds = progress.seconds;
  ctx.emit({ volume: vol.name, offset, length: total }, () =>
    `Uploaded ${size(total)} from ${file} to volume '${vol.name}' at offset ${offset} in ${seconds.toFixed(1)} s (${rate(total, seconds)}).`,
  );
}

/** Where a download goes: a new file, or an existing file or device written in place. */
async function target(file: string, length: number): Promise<{ exists: boolean; truncate: boolean }> {
  let st;
  try {
    st = await stat(file, { bigint: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { exists: false, truncate: false };
    throw fileError(file, e);
  }
  if (st.isDirectory()) throw usageError(`${file} is a directory: give the file to write`);
  if (st.isBlockDevice()) {
    const deviceSize = await blockDeviceSize(file, st.rdev);
    if (length > deviceSize) {
      throw new CliError(`${file} is ${size(deviceSize)} (${deviceSize} bytes), too small for ${size(length)} (${length} bytes): nothing was written`, {
        exitCode: EXIT.API,
        code: 'OUT_OF_RANGE',
      });
    }
  }
  // A regular file ends where the image ends; a device keeps whatever lies beyond.
  return { exists: true, truncate: st.isFile() };
}

export async function download(ctx: Context, key: string, file: string, range: { offset?: number; length?: number }): Promise<void> {
  const res = await ctx.api.fetch('GET', `volumes/${seg(key)}/image`, {
    query: { offset: range.offset, length: range.length },
    headers: { accept: 'application/octet-stream' },
  });
  const total = Number(res.headers.get('content-length'));
  if (!res.body || !Number.isSafeInteger(total)) {
    throw new CliError(`the gateway at ${ctx.url} sent no image length`, { exitCode: EXIT.API, code: 'BAD_RESPONSE' });
  }
  const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
  let dest: { exists: boolean; truncate: boolean };
  try {
    dest = await target(file, total);
  } catch (e) {
    body.destroy();
    throw e;
  }
  const progress = new Progress(ctx.io, `download ${key}`, total);
  let received = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      received += chunk.length;
      progress.update(received);
      done(null, chunk);
    },
  });
  // r+ writes in place (a device, or a file others may hold open); flush fsyncs before close.
  const out = createWriteStream(file, { flags: dest.exists ? 'r+' : 'w', flush: true });
  try {
    await pipeline(body, count, out);
    if (received !== total) throw new Error(`the gateway ended the transfer after ${received} of ${total} bytes`);
    if (dest.truncate) await truncate(file, total);
  } catch (e) {
    // undici reports a cut connection as 'terminated', with the socket's reason in cause.
    const cause = (e as { cause?: Error }).cause?.message ?? (e as Error).message;
    throw new CliError(`download stopped at offset ${(range.offset ?? 0) + received} (${size(received)} of ${size(total)} written to ${file}): ${cause}`, {
      exitCode: EXIT.API,
      code: (e as NodeJS.ErrnoException).code ?? 'TRANSFER_FAILED',
    });
  } finally {
    progress.stop();
  }
  const seconds = progress.seconds;
  ctx.emit({ volume: key, offset: range.offset ?? 0, length: total, file }, () =>
    `Downloaded ${size(total)} of volume '${key}' to ${file} in ${seconds.toFixed(1)} s (${rate(total, seconds)}).`,
  );
}
