import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { Nfs4Client, resultOf, rootCred } from '../src/nas/nfs4/client/nfs4-client';
import type { stateid4 } from '../src/protocols/nfs4/common.codec';
import type { nfs_argop4 } from '../src/protocols/nfs4/compound.codec';
import { ACCESS4_EXTEND, ACCESS4_MODIFY, nfs_ftype4, nfs_opnum4 as OP, OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_ACCESS_WRITE, stable_how4 } from '../src/protocols/nfs4/constants';
import { type bitmap4, bitmapOf, FATTR4, type Fattr4 } from '../src/protocols/nfs4/fattr4.codec';
import type { OPEN4resok, READ4resok, WRITE4resok } from '../src/protocols/nfs4/ops.codec';

/*
 * NFSv4.1 load for the NAS bench, in a process of its own: no kernel NFS
 * client runs here and libnfs 4.0 speaks only NFSv4.0, so the client is
 * Strata's own minimal one (src/nas/nfs4/client), the same for both
 * servers. Ganesha lives in a network namespace, so the bench runs this as
 * `nsenter --net=/proc/<ganesha>/ns/net node nfs4-load.js ...` for it and
 * directly for the gateway.
 *
 *   node dist/bench/nfs4-load.js --port N --export /bench [--host 127.0.0.1] [--depth 4] <command>
 *     upload <source file> <name>     OPEN create, WRITE UNSTABLE 1 MiB chunks (depth in flight), COMMIT, CLOSE
 *     download <name> [--sha256]      OPEN, READ 1 MiB chunks (depth in flight), CLOSE; --sha256 hashes what came
 *     meta <directory> <files>        create + 100-byte write + close, stat, unlink of <files> files, one call at a time
 *     rm <name>
 *
 * Each run mounts (EXCHANGE_ID, CREATE_SESSION, RECLAIM_COMPLETE, PUTROOTFH
 * and LOOKUPs down the export path), runs one command, prints one JSON line
 * (Nfs4LoadResult) and destroys its session and client id. One command a
 * process lets the bench quiesce both servers between rows, as it does
 * between the libnfs tools of the NFSv3 rows. Times are taken here, from
 * the first call of a row to the reply of its last (mounting is not timed).
 *
 * The metadata rows send what Linux's client sends for open(O_CREAT) +
 * write + close, stat and unlink of a name it has not cached, so the servers
 * do the work a real v4.1 mount asks of them (fs/nfs/nfs4xdr.c):
 *   create  SEQUENCE PUTFH(dir) OPEN(UNCHECKED4) GETFH ACCESS GETATTR;
 *           SEQUENCE PUTFH WRITE(FILE_SYNC4, 100 bytes) GETATTR;  SEQUENCE PUTFH GETATTR CLOSE
 *   stat    SEQUENCE PUTFH(dir) LOOKUP GETFH GETATTR
 *   unlink  SEQUENCE PUTFH(dir) REMOVE
 * (three round trips per created file, as Linux's close-to-open flushes the
 * write before CLOSE; a single SEQUENCE PUTFH OPEN WRITE CLOSE would be one).
 */

export const CHUNK = 2 ** 20;
export const DEFAULT_DEPTH = 4;
/** Bytes the smallest WRITE or READ compound carries besides its data (RPC header, SEQUENCE, PUTFH, the operation), with room to spare. */
const OVERHEAD = 1024;
const META_DATA = Buffer.alloc(100, 'm');

/* Linux's nfs4_fattr_bitmap (what stat and open ask for) and its cache consistency bitmap (after WRITE and before CLOSE). */
const STAT_ATTRS = bitmapOf([
  FATTR4.TYPE,
  FATTR4.CHANGE,
  FATTR4.SIZE,
  FATTR4.FSID,
  FATTR4.FILEID,
  FATTR4.MODE,
  FATTR4.NUMLINKS,
  FATTR4.OWNER,
  FATTR4.OWNER_GROUP,
  FATTR4.RAWDEV,
  FATTR4.SPACE_USED,
  FATTR4.TIME_ACCESS,
  FATTR4.TIME_METADATA,
  FATTR4.TIME_MODIFY,
  FATTR4.MOUNTED_ON_FILEID,
]);
const CONSISTENCY_ATTRS = bitmapOf([FATTR4.CHANGE, FATTR4.SIZE, FATTR4.TIME_METADATA, FATTR4.TIME_MODIFY]);
const SIZE_ATTR = bitmapOf([FATTR4.SIZE]);

export type Nfs4LoadCommand =
  | { command: 'upload'; source: string; name: string }
  | { command: 'download'; name: string; sha256: boolean }
  | { command: 'meta'; dir: string; files: number }
  | { command: 'rm'; name: string };

export interface Nfs4LoadArgs {
  host: string;
  port: number;
  /** The export's path from the server's pseudo root ('/export', '/bench'). */
  exportPath: string;
  /** Calls in flight during upload and download. */
  depth: number;
  run: Nfs4LoadCommand;
}

/**
 * What one run prints; times in seconds, `chunk` the bytes per WRITE or READ the server's limits
 * allowed, `cpu` the share of one core this process used meanwhile (near 1: the client set the pace).
 */
export type Nfs4LoadResult =
  | { command: 'upload'; bytes: number; seconds: number; chunk: number; cpu: number }
  | { command: 'download'; bytes: number; seconds: number; chunk: number; cpu: number; sha256?: string }
  | { command: 'meta'; files: number; create: number; stat: number; unlink: number; cpu: number }
  | { command: 'rm' };

const USAGE = 'usage: nfs4-load.js --port N --export PATH [--host H] [--depth N] upload <source> <name> | download <name> [--sha256] | meta <dir> <files> | rm <name>';

const positive = (s: string | undefined, what: string): number => {
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${what} must be a positive integer, not ${JSON.stringify(s)}\n${USAGE}`);
  return n;
};

/** The command line, as the bench writes it (nfs4LoadArgv) or a person types it. */
export function parseNfs4LoadArgs(argv: string[]): Nfs4LoadArgs {
  const { values, positionals: p } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string' }, export: { type: 'string' }, depth: { type: 'string', default: String(DEFAULT_DEPTH) }, sha256: { type: 'boolean', default: false } },
  });
  if (!values.export?.startsWith('/')) throw new Error(`--export must be a path from the pseudo root ('/export')\n${USAGE}`);
  const base = { host: values.host, port: positive(values.port, '--port'), exportPath: values.export, depth: positive(values.depth, '--depth') };
  const arity = { upload: 3, download: 2, meta: 3, rm: 2 }[p[0]];
  if (arity === undefined || p.length !== arity || (values.sha256 && p[0] !== 'download')) throw new Error(USAGE);
  switch (p[0]) {
    case 'upload':
      return { ...base, run: { command: 'upload', source: p[1], name: p[2] } };
    case 'download':
      return { ...base, run: { command: 'download', name: p[1], sha256: values.sha256 } };
    case 'meta':
      return { ...base, run: { command: 'meta', dir: p[1], files: positive(p[2], 'files') } };
    default:
      return { ...base, run: { command: 'rm', name: p[1] } };
  }
}

/** The command line for `a` (parseNfs4LoadArgs reads it back). */
export function nfs4LoadArgv(a: Nfs4LoadArgs): string[] {
  const r = a.run;
  const command =
    r.command === 'upload' ? [r.command, r.source, r.name] : r.command === 'download' ? [r.command, r.name, ...(r.sha256 ? ['--sha256'] : [])] : r.command === 'meta' ? [r.command, r.dir, String(r.files)] : [r.command, r.name];
  return ['--host', a.host, '--port', String(a.port), '--export', a.exportPath, '--depth', String(a.depth), ...command];
}

/** The result line a run printed, checked: a load process that printed anything else failed. */
export function parseNfs4LoadResult(stdout: string, expected: Nfs4LoadCommand['command']): Nfs4LoadResult {
  let r: Nfs4LoadResult;
  try {
    r = JSON.parse(stdout.trim()) as Nfs4LoadResult;
  } catch {
    throw new Error(`NFSv4.1 load printed ${JSON.stringify(stdout)}, not a result`);
  }
  const figures = r.command === 'upload' || r.command === 'download' ? [r.seconds, r.cpu] : r.command === 'meta' ? [r.create, r.stat, r.unlink, r.cpu] : [];
  if (r.command !== expected || !figures.every((t) => typeof t === 'number' && t > 0)) throw new Error(`NFSv4.1 load printed ${JSON.stringify(stdout)} for ${expected}`);
  return r;
}

/** A mounted export: the client, the export's handle, and the bytes per WRITE and READ. */
export interface Nfs4Mount {
  client: Nfs4Client;
  root: Buffer;
  writeChunk: number;
  readChunk: number;
  depth: number;
  /** The open-owner of every OPEN (Linux keeps one per credential). */
  owner: Buffer;
}

/** Mount `exportPath`: chunks are 1 MiB unless the server's maxwrite / maxread or the session's sizes are smaller. */
export async function mountNfs4(host: string, port: number, exportPath: string, depth = DEFAULT_DEPTH): Promise<Nfs4Mount> {
  const client = await Nfs4Client.connect(port, { host, cred: rootCred(0, 0, [], 'strata-bench') });
  try {
    await client.mount();
    const r = await client.call([...Nfs4Client.path(exportPath), { argop: OP.OP_GETFH, args: undefined }, { argop: OP.OP_GETATTR, args: bitmapOf([FATTR4.MAXREAD, FATTR4.MAXWRITE]) }]);
    const attrs = resultOf<Fattr4>(r, OP.OP_GETATTR);
    const fore = client.foreChannel!;
    return {
      client,
      root: resultOf<Buffer>(r, OP.OP_GETFH),
      writeChunk: Math.min(CHUNK, attrs.maxwrite ?? CHUNK, fore.ca_maxrequestsize - OVERHEAD),
      readChunk: Math.min(CHUNK, attrs.maxread ?? CHUNK, fore.ca_maxresponsesize - OVERHEAD),
      depth,
      owner: Buffer.from('strata-bench'),
    };
  } catch (e) {
    await client.destroy().catch(() => undefined);
    throw e;
  }
}

/** A timed part: its seconds, and the share of one core the process used over them. */
function stopwatch(): () => { seconds: number; cpu: number } {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  return () => {
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    return { seconds: s, cpu: (c.user + c.system) / 1e6 / s };
  };
}

const putfh = (fh: Buffer): nfs_argop4 => ({ argop: OP.OP_PUTFH, args: fh });
const getfh: nfs_argop4 = { argop: OP.OP_GETFH, args: undefined };

/** Run task(0 .. count-1), at most `depth` at once, each worker taking the next index; the first failure stops them all. */
async function inFlight(count: number, depth: number, task: (i: number, worker: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  await Promise.all(
    Array.from({ length: Math.min(depth, count) }, async (_, worker) => {
      while (next < count && !failed) {
        try {
          await task(next++, worker);
        } catch (e) {
          failed = true;
          throw e;
        }
      }
    }),
  );
}

/** OPEN `name` in the directory `dir` (created if `create`): its handle and open stateid, and the attributes asked for. */
async function openFile(m: Nfs4Mount, dir: Buffer, name: string, how: { create: boolean; access: number; attrs: bitmap4; accessCheck?: number }): Promise<{ fh: Buffer; stateid: stateid4; attrs: Fattr4 }> {
  const openOp: nfs_argop4 = { argop: OP.OP_OPEN, args: m.client.openArgs(name, { create: how.create, access: how.access, owner: m.owner }) };
  const access: nfs_argop4[] = how.accessCheck ? [{ argop: OP.OP_ACCESS, args: how.accessCheck }] : [];
  const r = await m.client.call([putfh(dir), openOp, getfh, ...access, { argop: OP.OP_GETATTR, args: how.attrs }]);
  return { fh: resultOf<Buffer>(r, OP.OP_GETFH), stateid: resultOf<OPEN4resok>(r, OP.OP_OPEN).stateid, attrs: resultOf<Fattr4>(r, OP.OP_GETATTR) };
}

async function closeFile(m: Nfs4Mount, fh: Buffer, stateid: stateid4, attrs?: bitmap4): Promise<void> {
  const getattr: nfs_argop4[] = attrs ? [{ argop: OP.OP_GETATTR, args: attrs }] : [];
  await m.client.call([putfh(fh), ...getattr, { argop: OP.OP_CLOSE, args: { seqid: 0, open_stateid: stateid } }]);
}

/**
 * Upload `source` as `name`: OPEN create, WRITE UNSTABLE in chunks with m.depth in flight (a short
 * write sends the rest), COMMIT, CLOSE. Every WRITE and the COMMIT must carry one verifier: a server
 * that restarted meanwhile may have lost unstable data, and this client does not write it again.
 */
export async function upload(m: Nfs4Mount, source: string, name: string): Promise<Extract<Nfs4LoadResult, { command: 'upload' }>> {
  const file = await open(source, 'r');
  try {
    const size = (await file.stat()).size;
    const chunk = m.writeChunk;
    const buffers = Array.from({ length: m.depth }, () => Buffer.allocUnsafe(chunk));
    let verifier: Buffer | undefined;
    const sameVerifier = (v: Buffer, what: string) => {
      verifier ??= Buffer.from(v);
      if (!verifier.equals(v)) throw new Error(`${name}: ${what} verifier changed (the server restarted?)`);
    };
    const timed = stopwatch();
    const { fh, stateid } = await openFile(m, m.root, name, { create: true, access: OPEN4_SHARE_ACCESS_WRITE, attrs: SIZE_ATTR });
    await inFlight(Math.ceil(size / chunk), m.depth, async (i, worker) => {
      const offset = i * chunk;
      const n = Math.min(chunk, size - offset);
      if ((await file.read(buffers[worker], 0, n, offset)).bytesRead !== n) throw new Error(`${source} changed while it was uploaded`);
      for (let done = 0; done < n; ) {
        const r = await m.client.call([putfh(fh), { argop: OP.OP_WRITE, args: { stateid, offset: offset + done, stable: stable_how4.UNSTABLE4, data: buffers[worker].subarray(done, n) } }]);
        const w = resultOf<WRITE4resok>(r, OP.OP_WRITE);
        if (w.count === 0) throw new Error(`${name}: WRITE at ${offset + done} wrote nothing`);
        sameVerifier(w.writeverf, 'WRITE');
        done += w.count;
      }
    });
    const c = await m.client.call([putfh(fh), { argop: OP.OP_COMMIT, args: { offset: 0, count: 0 } }]);
    sameVerifier(resultOf<Buffer>(c, OP.OP_COMMIT), 'COMMIT');
    await closeFile(m, fh, stateid);
    return { command: 'upload', bytes: size, chunk, ...timed() };
  } finally {
    await file.close();
  }
}

/**
 * Download `name`: OPEN (its size from GETATTR in the same COMPOUND), READ in chunks with m.depth in
 * flight (a short read asks for the rest), CLOSE. With `sha256`, what came is hashed in file order.
 */
export async function download(m: Nfs4Mount, name: string, sha256 = false): Promise<Extract<Nfs4LoadResult, { command: 'download' }>> {
  const chunk = m.readChunk;
  const hash = sha256 ? createHash('sha256') : undefined;
  // Chunks read out of order wait here until the ones before them are hashed.
  const arrived = new Map<number, Buffer[]>();
  let hashed = 0;
  const timed = stopwatch();
  const { fh, stateid, attrs } = await openFile(m, m.root, name, { create: false, access: OPEN4_SHARE_ACCESS_READ, attrs: SIZE_ATTR });
  const size = attrs.size!;
  await inFlight(Math.ceil(size / chunk), m.depth, async (i) => {
    const offset = i * chunk;
    const want = Math.min(chunk, size - offset);
    const pieces: Buffer[] = [];
    for (let got = 0; got < want; ) {
      const r = await m.client.call([putfh(fh), { argop: OP.OP_READ, args: { stateid, offset: offset + got, count: want - got } }]);
      const { data, eof } = resultOf<READ4resok>(r, OP.OP_READ);
      if (data.length === 0) throw new Error(`${name}: READ at ${offset + got} returned nothing${eof ? ' (eof)' : ''}, the file has ${size} bytes`);
      if (hash) pieces.push(data);
      got += data.length;
    }
    if (!hash) return;
    arrived.set(i, pieces);
    for (let p = arrived.get(hashed); p; p = arrived.get(hashed)) {
      for (const b of p) hash.update(b);
      arrived.delete(hashed++);
    }
  });
  await closeFile(m, fh, stateid);
  return { command: 'download', bytes: size, chunk, ...timed(), ...(hash ? { sha256: hash.digest('hex') } : {}) };
}

/** In a fresh directory `dir` of the export: create + write + close, stat, unlink of `files` files, one call at a time (see the COMPOUNDs above); removes `dir`. */
export async function metadata(m: Nfs4Mount, dir: string, files: number): Promise<Extract<Nfs4LoadResult, { command: 'meta' }>> {
  const c = m.client;
  const mk = await c.call([putfh(m.root), { argop: OP.OP_CREATE, args: { objtype: { type: nfs_ftype4.NF4DIR }, objname: dir, createattrs: { mode: 0o755 } } }, getfh]);
  const d = resultOf<Buffer>(mk, OP.OP_GETFH);
  const name = (i: number) => `f${String(i).padStart(6, '0')}`;
  const all = stopwatch();

  let lap = stopwatch();
  for (let i = 0; i < files; i++) {
    const { fh, stateid } = await openFile(m, d, name(i), { create: true, access: OPEN4_SHARE_ACCESS_WRITE, attrs: STAT_ATTRS, accessCheck: ACCESS4_MODIFY | ACCESS4_EXTEND });
    const w = await c.call([putfh(fh), { argop: OP.OP_WRITE, args: { stateid, offset: 0, stable: stable_how4.FILE_SYNC4, data: META_DATA } }, { argop: OP.OP_GETATTR, args: CONSISTENCY_ATTRS }]);
    if (resultOf<WRITE4resok>(w, OP.OP_WRITE).count !== META_DATA.length) throw new Error(`${dir}/${name(i)}: short WRITE`);
    await closeFile(m, fh, stateid, CONSISTENCY_ATTRS);
  }
  const create = lap().seconds;

  lap = stopwatch();
  for (let i = 0; i < files; i++) {
    const r = await c.call([putfh(d), { argop: OP.OP_LOOKUP, args: name(i) }, getfh, { argop: OP.OP_GETATTR, args: STAT_ATTRS }]);
    const a = resultOf<Fattr4>(r, OP.OP_GETATTR);
    if (a.type !== nfs_ftype4.NF4REG || a.size !== META_DATA.length) throw new Error(`${dir}/${name(i)}: type ${a.type}, ${a.size} bytes; wrote a file of ${META_DATA.length}`);
  }
  const stat = lap().seconds;

  lap = stopwatch();
  for (let i = 0; i < files; i++) await c.call([putfh(d), { argop: OP.OP_REMOVE, args: name(i) }]);
  const unlink = lap().seconds;
  const { cpu } = all();

  await remove(m, dir);
  return { command: 'meta', files, create, stat, unlink, cpu };
}

export async function remove(m: Nfs4Mount, name: string): Promise<void> {
  await m.client.call([putfh(m.root), { argop: OP.OP_REMOVE, args: name }]);
}

/** Mount, run one command, unmount. */
export async function runNfs4Load(a: Nfs4LoadArgs): Promise<Nfs4LoadResult> {
  const m = await mountNfs4(a.host, a.port, a.exportPath, a.depth);
  try {
    const r = a.run;
    if (r.command === 'upload') return await upload(m, r.source, r.name);
    if (r.command === 'download') return await download(m, r.name, r.sha256);
    if (r.command === 'meta') return await metadata(m, r.dir, r.files);
    await remove(m, r.name);
    return { command: 'rm' };
  } finally {
    await m.client.destroy().catch(() => undefined);
  }
}

if (require.main === module) {
  runNfs4Load(parseNfs4LoadArgs(process.argv.slice(2)))
    .then((r) => console.log(JSON.stringify(r)))
    .catch((e: unknown) => {
      console.error(`nfs4-load: ${e instanceof Error ? e.message : String(e)}`);
      process.exitCode = 1;
    });
}
