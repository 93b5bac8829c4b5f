import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { stable_how, type nfs_fh3 } from '../../src/protocols/nfs3';
import type { Nfs3Client } from '../utils/nfs3-client';
import { NasKillFixture } from '../utils/nas-kill-fixture';

const PASSWORD = 'nas-inline-crash-password';

/** A small file as a client made it, and what the server acknowledged. */
interface Small {
  name: string;
  fh: nfs_fh3;
  data: Buffer;
  /** COMMIT answered with the verifier of the WRITE: the bytes are durable. */
  committed: boolean;
  /** Written UNSTABLE after the commit, past the inline limit (moves the file to blocks); never committed. */
  grown?: Buffer;
}

/**
 * Small files keep their data in the metadata (inline data). kill -9 of the
 * gateway while clients create small files (CREATE, a 100-byte UNSTABLE
 * WRITE, COMMIT) and grow some past the inline limit without committing:
 * after the restart every file whose CREATE was answered exists, every
 * committed file reads back exactly (also those that were moving to blocks
 * when the gateway died), and the share's fsck is clean.
 */
describe('kill -9 of the gateway while clients write small files', () => {
  let fx: NasKillFixture | undefined;
  afterAll(async () => {
    await fx?.cleanup();
  });

  it('keeps every committed small file, and fsck finds the filesystem clean', async () => {
    fx = await NasKillFixture.start(PASSWORD, { name: 'small', size: '128M' });
    const connect = () => fx!.connect();
    const setup = await connect();
    const root = await setup.mount('/small');
    const dirFh = await setup.mkdir(root, 'notes');

    const files: Small[] = [];
    let dead = false;
    let enough = false;
    let next = 0;
    const make = async (c: Nfs3Client): Promise<Small> => {
      const name = `n-${next++}`;
      const fh = await c.create(dirFh, name);
      const f: Small = { name, fh, data: randomBytes(100), committed: false };
      files.push(f);
      return f;
    };
    const grow = async (c: Nfs3Client, f: Small) => {
      f.grown = randomBytes(8192);
      await c.write(f.fh, 4096, f.grown, stable_how.UNSTABLE);
    };
    const writer = async (c: Nfs3Client): Promise<void> => {
      try {
        let last: Small | undefined;
        while (!enough) {
          const f = await make(c);
          const w = await c.write(f.fh, 0, f.data, stable_how.UNSTABLE);
          f.committed = (await c.commit(f.fh)).verf === w.verf;
          if (files.length % 3 === 0) await grow(c, f);
          else last = f;
        }
        // Last, a committed file grows (to blocks) and only namespace changes follow, no COMMIT: the kill
        // comes while its move to blocks is committed by those, and its committed bytes must not go with it.
        if (last) await grow(c, last);
        while (!dead) await make(c);
      } catch (e) {
        if (!dead) throw e;
      }
    };
    const writers = [writer(await connect()), writer(await connect()), writer(await connect())];
    while (files.filter((f) => f.committed).length < 120) await new Promise((r) => setTimeout(r, 20));
    enough = true;
    const made = files.length;
    while (files.length < made + 30) await new Promise((r) => setTimeout(r, 5));
    dead = true;
    expect(await fx.kill()).toBeNull();
    await Promise.all(writers);
    expect(files.some((f) => f.committed && f.grown)).toBe(true);

    await fx.restart();
    const c = await connect();
    for (const f of files) {
      // Every answered CREATE was durable (a sync share): the name is there, with the same handle.
      expect((await c.lookup(dirFh, f.name)).fh, f.name).toEqual(f.fh);
      const got = await c.readAll(f.fh);
      if (f.committed) expect(got.subarray(0, 100).equals(f.data), `committed ${f.name}`).toBe(true);
      else expect(got.length === 0 || got.subarray(0, 100).equals(f.data), `uncommitted ${f.name}`).toBe(true);
      if (f.grown && got.length > 100) {
        // The unstable growth: block by block its bytes or zeros, never anything else.
        expect(got.subarray(100, 4096).every((x) => x === 0), f.name).toBe(true);
        for (let at = 4096; at < got.length; at += 4096) {
          const block = got.subarray(at, at + 4096);
          expect(block.equals(f.grown.subarray(at - 4096, at)) || block.every((x) => x === 0), `${f.name} block at ${at}`).toBe(true);
        }
      }
    }

    const { report } = await fx.fsck('small');
    expect(report).toMatchObject({ clean: true, problems: [], directories: 2 });
    // A CREATE in flight at the kill may have committed without its reply reaching the client.
    expect(report.files).toBeGreaterThanOrEqual(files.length);
    expect(report.files).toBeLessThanOrEqual(files.length + writers.length);
  });
});
