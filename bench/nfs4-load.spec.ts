import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileSystem } from '../src/nas/fs';
import type { nfs_argop4 } from '../src/protocols/nfs4/compound.codec';
import { nfs_opnum4 as OP } from '../src/protocols/nfs4/constants';
import { startNfs4, type Nfs4Fixture } from '../test/utils/nfs4-fixture';
import { download, metadata, mountNfs4, nfs4LoadArgv, parseNfs4LoadArgs, parseNfs4LoadResult, remove, upload, type Nfs4LoadArgs, type Nfs4Mount } from './nfs4-load';

const ROOT = { uid: 0, gid: 0, gids: [] };

describe('the NFSv4.1 load command line', () => {
  const base = { host: '10.0.0.2', port: 2049, exportPath: '/export', depth: 3 };

  it('reads back what the bench writes, for every command', () => {
    const runs: Nfs4LoadArgs['run'][] = [
      { command: 'upload', source: '/tmp/x.bin', name: 'up-0.bin' },
      { command: 'download', name: 'up-0.bin', sha256: true },
      { command: 'download', name: 'up-0.bin', sha256: false },
      { command: 'meta', dir: 'meta-1', files: 1000 },
      { command: 'rm', name: 'up-0.bin' },
    ];
    for (const run of runs) expect(parseNfs4LoadArgs(nfs4LoadArgv({ ...base, run }))).toEqual({ ...base, run });
  });

  it('defaults the host and depth, and refuses what it cannot run', () => {
    expect(parseNfs4LoadArgs(['--port', '7', '--export', '/bench', 'rm', 'f'])).toEqual({ host: '127.0.0.1', port: 7, exportPath: '/bench', depth: 4, run: { command: 'rm', name: 'f' } });
    expect(() => parseNfs4LoadArgs(['--export', '/bench', 'rm', 'f'])).toThrow(/--port must be a positive integer/);
    expect(() => parseNfs4LoadArgs(['--port', '7', '--export', 'bench', 'rm', 'f'])).toThrow(/--export must be a path/);
    expect(() => parseNfs4LoadArgs(['--port', '7', '--export', '/b', 'meta', 'd', '0'])).toThrow(/files must be a positive integer/);
    expect(() => parseNfs4LoadArgs(['--port', '7', '--export', '/b', 'copy', 'a', 'b'])).toThrow(/^usage/);
    expect(() => parseNfs4LoadArgs(['--port', '7', '--export', '/b', 'upload', 'a'])).toThrow(/^usage/);
    expect(() => parseNfs4LoadArgs(['--port', '7', '--export', '/b', '--sha256', 'upload', 'a', 'b'])).toThrow(/^usage/);
  });

  it('takes a result line only for the command it ran, with real times', () => {
    expect(parseNfs4LoadResult('{"command":"upload","bytes":10,"seconds":0.5,"chunk":1048576,"cpu":0.4}\n', 'upload')).toEqual({ command: 'upload', bytes: 10, seconds: 0.5, chunk: 1048576, cpu: 0.4 });
    expect(parseNfs4LoadResult('{"command":"rm"}', 'rm')).toEqual({ command: 'rm' });
    expect(() => parseNfs4LoadResult('nfs4-load: NFS4ERR_NOENT', 'rm')).toThrow(/not a result/);
    expect(() => parseNfs4LoadResult('{"command":"rm"}', 'meta')).toThrow(/for meta/);
    expect(() => parseNfs4LoadResult('{"command":"meta","files":5,"create":1,"stat":0,"unlink":1,"cpu":0.2}', 'meta')).toThrow(/for meta/);
    expect(() => parseNfs4LoadResult('{"command":"download","bytes":5,"chunk":1,"cpu":0.5}', 'download')).toThrow(/for download/);
    expect(() => parseNfs4LoadResult('{"command":"download","bytes":5,"chunk":1,"seconds":2}', 'download')).toThrow(/for download/);
  });
});

describe('the NFSv4.1 load against the gateway NFSv4.1 server', () => {
  let fx: Nfs4Fixture;
  let m: Nfs4Mount;
  let fs: FileSystem;
  let dir: string;
  let source: string;
  // 3.5 MiB and a bit: four chunks, the last a short one, through two calls in flight.
  const bytes = randomBytes(3.5 * 2 ** 20 + 123);
  /** Every COMPOUND the client sent, as its operation names after SEQUENCE. */
  const sent: string[][] = [];

  beforeAll(async () => {
    fx = await startNfs4([{ name: 'data' }]);
    fs = fx.fs('data');
    dir = mkdtempSync(join(tmpdir(), 'nfs4-load-'));
    source = join(dir, 'source.bin');
    writeFileSync(source, bytes);
    m = await mountNfs4('127.0.0.1', fx.port, '/data', 2);
    const call = m.client.call.bind(m.client);
    m.client.call = (ops: nfs_argop4[]) => {
      sent.push(ops.map((o) => OP[o.argop].replace('OP_', '')));
      return call(ops);
    };
  });
  afterAll(async () => {
    await m?.client.destroy().catch(() => undefined);
    await fx?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The whole content of a file in the share's root, read on the server's side. */
  const serverBytes = async (name: string): Promise<Buffer> => {
    const { node, attr } = fs.lookup(ROOT, fs.root, name);
    const parts: Buffer[] = [];
    for (let off = 0; off < attr.size; ) {
      const { data } = await fs.read(ROOT, node, off, attr.size - off);
      parts.push(Buffer.from(data));
      off += data.length;
    }
    return Buffer.concat(parts);
  };

  it('uploads the file in 1 MiB WRITEs and the server holds exactly its bytes; the download hashes the same bytes', async () => {
    expect([m.writeChunk, m.readChunk]).toEqual([2 ** 20, 2 ** 20]);
    sent.length = 0;
    const up = await upload(m, source, 'up.bin');
    expect(up).toMatchObject({ command: 'upload', bytes: bytes.length, chunk: 2 ** 20 });
    expect(up.seconds).toBeGreaterThan(0);
    expect(up.cpu).toBeGreaterThan(0);
    expect(sent.map((ops) => ops.join(' '))).toEqual(['PUTFH OPEN GETFH GETATTR', ...Array(4).fill('PUTFH WRITE'), 'PUTFH COMMIT', 'PUTFH CLOSE']);
    expect((await serverBytes('up.bin')).equals(bytes)).toBe(true);

    const down = await download(m, 'up.bin', true);
    expect(down).toMatchObject({ command: 'download', bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
    expect((await download(m, 'up.bin')).sha256).toBeUndefined();

    await remove(m, 'up.bin');
    expect(() => fs.lookup(ROOT, fs.root, 'up.bin')).toThrow(/not found/);
  });

  it('creates, stats and removes its files through the COMPOUNDs a Linux client sends, and leaves no directory behind', async () => {
    const files = 5;
    sent.length = 0;
    // Between the phases, on the server's side: the files are there, 100 bytes each.
    let seenAfterCreate: number[] | undefined;
    const call = m.client.call;
    m.client.call = (ops: nfs_argop4[]) => {
      if (!seenAfterCreate && ops.some((o) => o.argop === OP.OP_LOOKUP)) {
        const d = fs.lookup(ROOT, fs.root, 'meta-0').node;
        seenAfterCreate = Array.from({ length: files }, (_, i) => fs.lookup(ROOT, d, `f00000${i}`).attr.size);
      }
      return call(ops);
    };
    try {
      const r = await metadata(m, 'meta-0', files);
      expect(r).toMatchObject({ command: 'meta', files });
      expect([r.create, r.stat, r.unlink, r.cpu].every((t) => t > 0)).toBe(true);
    } finally {
      m.client.call = call;
    }
    expect(seenAfterCreate).toEqual(Array(files).fill(100));
    const perFile = ['PUTFH OPEN GETFH ACCESS GETATTR', 'PUTFH WRITE GETATTR', 'PUTFH GETATTR CLOSE'];
    expect(sent.map((ops) => ops.join(' '))).toEqual([
      'PUTFH CREATE GETFH',
      ...Array.from({ length: files }, () => perFile).flat(),
      ...Array(files).fill('PUTFH LOOKUP GETFH GETATTR'),
      ...Array(files).fill('PUTFH REMOVE'),
      'PUTFH REMOVE',
    ]);
    expect(() => fs.lookup(ROOT, fs.root, 'meta-0')).toThrow(/not found/);
  });
});
