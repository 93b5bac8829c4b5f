import { createHash, randomBytes, randomInt } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { stable_how, type nfs_fh3 } from '../../src/protocols/nfs3';
import { NasKillFixture } from '../utils/nas-kill-fixture';
import type { Nfs3Client } from '../utils/nfs3-client';

const PASSWORD = 'nas-crash-password';
const KiB = 1024;
const CHUNK = 128 * KiB;
const SLOTS_PER_FILE = 96;
const FILES = 6;
const BLOCK = 4096;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** One chunk written to a file at a slot, and what the server said about it. */
interface Written {
  file: number;
  slot: number;
  data: Buffer;
  /** How the server acknowledged it as durable: a FILE_SYNC/DATA_SYNC reply, or a COMMIT with the same verifier. */
  ack: 'write' | 'commit' | null;
}

/**
 * kill -9 of the gateway while NFS clients upload: every byte the server
 * reported committed (WRITE answered FILE_SYNC/DATA_SYNC, or UNSTABLE
 * followed by a COMMIT with the same write verifier) reads back after the
 * restart, every file whose CREATE was answered exists, no block shows bytes
 * that were never written to it, and the share's fsck is clean.
 */
describe('kill -9 of the gateway during an NFS upload', () => {
  let fx: NasKillFixture | undefined;
  afterAll(async () => {
    await fx?.cleanup();
  });

  it('keeps everything acknowledged as committed, and fsck finds the filesystem clean', async () => {
    fx = await NasKillFixture.start(PASSWORD, { name: 'uploads', size: '256M' });
    const connect = () => fx!.connect();
    const setup = await connect();
    const root = await setup.mount('/uploads');
    const dirFh = await setup.mkdir(root, 'incoming');
    const files: nfs_fh3[] = [];
    for (let i = 0; i < FILES; i++) files.push(await setup.create(dirFh, `part-${i}.bin`));

    // Writers on two connections, several calls in flight each, until the gateway dies under them.
    const written: Written[] = [];
    const slots = Array.from({ length: FILES * SLOTS_PER_FILE }, (_, i) => i).sort(() => Math.random() - 0.5);
    let acked = 0;
    let dead = false;
    const writer = async (c: Nfs3Client) => {
      // UNSTABLE writes of this writer not yet covered by a COMMIT, by file.
      const pending = new Map<number, Array<{ w: Written; verf: bigint }>>();
      try {
        while (!dead && slots.length > 0) {
          const n = slots.pop()!;
          const w: Written = { file: n % FILES, slot: Math.floor(n / FILES), data: randomBytes(CHUNK), ack: null };
          written.push(w);
          const stable = [stable_how.UNSTABLE, stable_how.UNSTABLE, stable_how.DATA_SYNC, stable_how.FILE_SYNC][randomInt(4)];
          const r = await c.write(files[w.file], w.slot * CHUNK, w.data, stable);
          if (r.count !== CHUNK) throw new Error(`short write: ${r.count}`);
          if (r.committed !== stable_how.UNSTABLE) {
            w.ack = 'write';
            acked++;
            continue;
          }
          const list = pending.get(w.file) ?? [];
          list.push({ w, verf: r.verf });
          pending.set(w.file, list);
          if (list.length >= 3) {
            pending.delete(w.file);
            const commit = await c.commit(files[w.file]);
            for (const p of list) {
              // A different verifier means the server may have lost them: not acknowledged.
              if (p.verf === commit.verf) {
                p.w.ack = 'commit';
                acked++;
              }
            }
          }
        }
      } catch (e) {
        if (!dead) throw e;
      }
    };
    const a = await connect();
    const b = await connect();
    const writers = [writer(a), writer(a), writer(a), writer(b), writer(b), writer(b)];
    while (acked < 150 && slots.length > 0) await new Promise((r) => setTimeout(r, 20));
    dead = true;
    expect(await fx.kill()).toBeNull();
    await Promise.all(writers);
    const ackedWrites = written.filter((w) => w.ack !== null);
    expect(ackedWrites.length).toBeGreaterThanOrEqual(150);
    expect(ackedWrites.some((w) => w.ack === 'commit')).toBe(true);
    expect(ackedWrites.some((w) => w.ack === 'write')).toBe(true);
    // The kill hit the upload in progress: writes in flight or awaiting their COMMIT were lost to the client.
    expect(written.length).toBeGreaterThan(ackedWrites.length);

    await fx.restart();
    const c = await connect();
    // The handles from before the crash are still good; so is the name of every file CREATE acknowledged.
    const root2 = await c.mount('/uploads');
    expect(root2).toEqual(root);
    expect((await c.lookup(root, 'incoming')).fh).toEqual(dirFh);
    for (let i = 0; i < FILES; i++) expect((await c.lookup(dirFh, `part-${i}.bin`)).fh).toEqual(files[i]);

    const contents = await Promise.all(files.map((fh) => c.readAll(fh)));
    for (const w of written) {
      const at = w.slot * CHUNK;
      const got = contents[w.file].subarray(at, at + CHUNK);
      if (w.ack) {
        expect(got.length, `acknowledged (${w.ack}) chunk ${w.slot} of file ${w.file}`).toBe(CHUNK);
        expect(sha(got), `acknowledged (${w.ack}) chunk ${w.slot} of file ${w.file}`).toBe(sha(w.data));
        continue;
      }
      // Not acknowledged: each block holds what was written there, or zeros (a hole), never anything else.
      for (let off = 0; off < got.length; off += BLOCK) {
        const block = got.subarray(off, off + BLOCK);
        const ok = block.equals(w.data.subarray(off, off + block.length)) || block.every((x) => x === 0);
        expect(ok, `unacknowledged chunk ${w.slot} of file ${w.file}, block at ${off}`).toBe(true);
      }
    }
    // Slots never written read as zeros where the file reaches them.
    const touched = new Set(written.map((w) => `${w.file}:${w.slot}`));
    for (let f = 0; f < FILES; f++) {
      for (let s = 0; s * CHUNK < contents[f].length; s++) {
        if (!touched.has(`${f}:${s}`)) expect(contents[f].subarray(s * CHUNK, (s + 1) * CHUNK).every((x) => x === 0)).toBe(true);
      }
    }

    // The filesystem's own check, through the CLI as an admin runs it.
    const { text, report } = await fx.fsck('uploads');
    expect(text).toMatch(/^Share 'uploads': clean\./);
    expect(report).toMatchObject({ clean: true, problems: [], files: FILES, directories: 2 });
  });
});
