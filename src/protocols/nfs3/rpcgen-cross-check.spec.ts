import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XdrReader, XdrWriter } from '../xdr/xdr';
import { NFS3_PROCEDURES, type Nfs3Proc } from './procedures';
import { Arbitrary, GENERATORS } from './testing/arbitrary';

/*
 * A second, independent implementation: rpcgen compiles nfs3.x into C XDR routines (libtirpc) and
 * testing/xdr-echo.c decodes each of our messages with them and encodes it again. Identical bytes back,
 * with every byte consumed, mean nfs3.x and the TypeScript codec describe the same wire format.
 */

const onPath = (cmd: string): boolean => (process.env.PATH ?? '').split(delimiter).some((d) => existsSync(join(d, cmd)));
const missing = [
  onPath('rpcgen') ? undefined : 'rpcgen (Debian: rpcsvc-proto)',
  onPath('cc') ? undefined : 'cc (Debian: gcc)',
  existsSync('/usr/include/tirpc/rpc/rpc.h') ? undefined : 'libtirpc headers (Debian: libtirpc-dev)',
].filter((m): m is string => m !== undefined);
if (missing.length > 0) console.warn(`skipping the rpcgen cross-check of the NFSv3 codec: missing ${missing.join(', ')}`);

describe.skipIf(missing.length > 0)('NFSv3 codec against rpcgen + libtirpc compiled from nfs3.x', () => {
  let dir = '';
  let echo = '';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nfs3-rpcgen-'));
    // rpcgen names the header in the C file as it was given: run it on a copy, in the build folder.
    copyFileSync(join(__dirname, 'nfs3.x'), join(dir, 'nfs3.x'));
    execFileSync('rpcgen', ['-h', 'nfs3.x', '-o', 'nfs3.h'], { cwd: dir });
    execFileSync('rpcgen', ['-c', 'nfs3.x', '-o', 'nfs3_xdr.c'], { cwd: dir });
    echo = join(dir, 'xdr-echo');
    execFileSync('cc', ['-O1', '-w', '-I/usr/include/tirpc', `-I${dir}`, '-o', echo, join(__dirname, 'testing', 'xdr-echo.c'), join(dir, 'nfs3_xdr.c'), '-ltirpc']);
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Send messages through the C program; one answer line per message. */
  function throughC(messages: { type: string; bytes: Buffer }[]): string[] {
    const input = messages.map((m) => `${m.type} ${m.bytes.toString('hex')}\n`).join('');
    const run = spawnSync(echo, [], { input, maxBuffer: 256 << 20 });
    expect(run.status).toBe(0);
    return run.stdout.toString().split('\n').slice(0, messages.length);
  }

  it('every procedure\'s arguments and both result arms, random values: libtirpc decodes all bytes and re-encodes them identically', () => {
    const a = new Arbitrary(2024);
    const messages: { type: string; bytes: Buffer; decode: (r: XdrReader) => unknown; value: unknown }[] = [];
    for (let n = 1; n <= 21; n++) {
      const p = n as Nfs3Proc;
      const proc = NFS3_PROCEDURES[p];
      const gen = GENERATORS[p];
      for (let i = 0; i < 60; i++) {
        const add = <T>(type: string, encode: (w: XdrWriter, v: T) => void, decode: (r: XdrReader) => T, value: T) => {
          const w = new XdrWriter();
          encode(w, value);
          messages.push({ type, bytes: w.toBuffer(), decode, value });
        };
        add(`${proc.name}3args`, proc.encodeArgs, proc.decode, gen.args(a));
        add(`${proc.name}3res`, proc.encode, proc.decodeRes, gen.ok(a));
        add(`${proc.name}3res`, proc.encode, proc.decodeRes, gen.fail(a));
      }
    }
    const answers = throughC(messages);
    messages.forEach((m, i) => {
      expect(answers[i], `${m.type} #${i}`).toBe(m.bytes.toString('hex'));
      // And what came back from C decodes to the value we started from.
      const r = new XdrReader(Buffer.from(answers[i], 'hex'));
      expect(m.decode(r)).toEqual(m.value);
      r.done();
    });
    expect(messages.length).toBe(21 * 60 * 3);
  });

  it('libtirpc refuses what our decoder refuses for size limits: a 65-byte file handle', () => {
    const fh65 = Buffer.concat([Buffer.from('00000041', 'hex'), Buffer.alloc(68)]);
    expect(throughC([{ type: 'GETATTR3args', bytes: fh65 }])[0]).toBe('ERR decode failed');
  });
});
