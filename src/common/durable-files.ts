import { createHash } from 'node:crypto';
import * as fs from 'node:fs';

/** Whole-file copies that are durable before anything points at them (backups, share replicas). */

const COPY_CHUNK = 2 ** 20;

/** Copy `src` to `dest` (created or truncated) and fsync it; its size and hex SHA-256 as read. */
export async function copyFileHashed(src: string, dest: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  const from = await fs.promises.open(src, 'r');
  try {
    const to = await fs.promises.open(dest, 'w', 0o600);
    try {
      const buf = Buffer.allocUnsafe(COPY_CHUNK);
      let size = 0;
      for (;;) {
        const { bytesRead } = await from.read(buf, 0, buf.length, size);
        if (bytesRead === 0) break;
        hash.update(buf.subarray(0, bytesRead));
        await to.write(buf, 0, bytesRead, size);
        size += bytesRead;
      }
      await to.sync();
      return { size, sha256: hash.digest('hex') };
    } finally {
      await to.close();
    }
  } finally {
    await from.close();
  }
}

/** fsync a directory: a rename or create in it survives a crash once this returns. */
export async function syncDirectory(path: string): Promise<void> {
  const fh = await fs.promises.open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
