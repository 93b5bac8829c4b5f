import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RamDevice } from '../../src/devices/ram-device';
import { NbdServer, type NbdExport } from '../../src/nbd/nbd-server';
import { has } from '../utils/tools';

const run = promisify(execFile);
const MiB = 2 ** 20;

const tools = ['nbdinfo', 'nbdcopy', 'fio', 'qemu-img'];
const missing = tools.filter((t) => !has(t));
if (missing.length) console.warn(`NBD client tests skipped: ${missing.join(', ')} not installed (apt-get install libnbd-bin fio qemu-utils)`);

/** A RAM device as an export: the server is tested on its own, the gateway's volume exports elsewhere. */
function ramExport(name: string, size: number, readOnly = false): NbdExport {
  const dev = new RamDevice(name, size);
  return {
    name,
    size,
    readOnly,
    readInto: (o, b) => dev.read(o, b),
    write: (o, d) => dev.write(o, d),
    flush: () => dev.flush(),
    discard: (o, l) => dev.discard(o, l),
    writeZeroes: (o, l) => dev.discard(o, l),
  };
}

describe.skipIf(missing.length > 0)('NBD server against real NBD clients', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-nbd-'));
  const exports = new Map<string, NbdExport>([
    ['disk', ramExport('disk', 64 * MiB)],
    ['ro', ramExport('ro', 8 * MiB, true)],
  ]);
  const server = new NbdServer({ list: () => [...exports.keys()], get: (n) => exports.get(n === '' ? 'disk' : n) });
  let uri = '';
  beforeAll(async () => {
    const { port } = await server.listen(0, '127.0.0.1');
    uri = `nbd://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('nbdinfo reports the size, the flags and the export list', async () => {
    const { stdout } = await run('nbdinfo', ['--json', `${uri}/disk`]);
    const info = JSON.parse(stdout);
    const exp = info.exports[0];
    expect(exp['export-size']).toBe(64 * MiB);
    expect(exp['is_read_only']).toBe(false);
    expect(exp['can_flush']).toBe(true);
    expect(exp['can_fua']).toBe(true);
    expect(exp['can_trim']).toBe(true);
    expect(exp['can_zero']).toBe(true);
    expect(exp['can_multi_conn']).toBe(true);
    expect(exp['block_size_maximum']).toBe(32 * MiB);
    const ro = JSON.parse((await run('nbdinfo', ['--json', `${uri}/ro`])).stdout).exports[0];
    expect(ro['is_read_only']).toBe(true);
    const list = (await run('nbdinfo', ['--list', '--json', uri])).stdout;
    expect(JSON.parse(list).exports.map((e: { 'export-name': string }) => e['export-name']).sort()).toEqual(['disk', 'ro']);
    await expect(run('nbdinfo', [`${uri}/nope`])).rejects.toThrow();
  });

  it('nbdcopy writes a random image in and reads it back byte-identical', async () => {
    const image = join(dir, 'in.img');
    const back = join(dir, 'out.img');
    const data = randomBytes(64 * MiB);
    writeFileSync(image, data);
    await run('nbdcopy', [image, `${uri}/disk`]);
    await run('nbdcopy', [`${uri}/disk`, back]);
    expect(createHash('sha256').update(readFileSync(back)).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
  });

  it("fio's nbd engine verifies a random-write workload with crc32c", async () => {
    const { stdout } = await run(
      'fio',
      ['--name=verify', '--ioengine=nbd', `--uri=${uri}/disk`, '--rw=randwrite', '--bs=4k', '--iodepth=16', '--numjobs=1', '--size=32M', '--verify=crc32c', '--do_verify=1', '--verify_state_save=0', '--output-format=json'],
      { maxBuffer: 16 * MiB },
    );
    const job = JSON.parse(stdout.slice(stdout.indexOf('{'))).jobs[0];
    expect(job.error).toBe(0);
    expect(job.write.io_bytes).toBe(32 * MiB);
    expect(job.read.io_bytes).toBe(32 * MiB);
  });

  it('qemu-img reads the export and converts it', async () => {
    const { stdout } = await run('qemu-img', ['info', '--output=json', `${uri}/disk`]);
    expect(JSON.parse(stdout)['virtual-size']).toBe(64 * MiB);
    const copy = join(dir, 'copy.qcow2');
    await run('qemu-img', ['convert', '-O', 'qcow2', `${uri}/ro`, copy]);
    expect(JSON.parse((await run('qemu-img', ['info', '--output=json', copy])).stdout)['virtual-size']).toBe(8 * MiB);
  });

  it('refuses writes to a read-only export with EPERM, and keeps serving', async () => {
    const image = join(dir, 'small.img');
    writeFileSync(image, randomBytes(MiB));
    await expect(run('nbdcopy', [image, `${uri}/ro`])).rejects.toThrow();
    expect(JSON.parse((await run('nbdinfo', ['--json', `${uri}/disk`])).stdout).exports[0]['export-size']).toBe(64 * MiB);
  });
});

describe.skipIf(missing.length > 0)("the gateway's NBD export of volumes", () => {
  let gw: Awaited<ReturnType<typeof import('../utils/gateway').startTestGateway>>;
  let base = '';
  beforeAll(async () => {
    const { startTestGateway } = await import('../utils/gateway');
    gw = await startTestGateway();
    const { NbdExportService } = await import('../../src/nbd/nbd-export.service');
    const addr = gw.app.get(NbdExportService).boundAddress()!;
    base = `nbd://127.0.0.1:${addr.port}`;
  });
  afterAll(async () => gw?.close());

  it('serves only volumes marked for export, under their names, and withdraws them', async () => {
    const create = await gw.api('volumes', { method: 'POST', json: { name: 'vm1', pool: 'default', size: '16M', nbdExport: true } });
    expect(create.status).toBe(201);
    expect((await create.json()).nbdExport).toBe(true);
    await gw.api('volumes', { method: 'POST', json: { name: 'private', pool: 'default', size: '4M' } });

    const list = JSON.parse((await run('nbdinfo', ['--list', '--json', base])).stdout);
    expect(list.exports.map((e: { 'export-name': string }) => e['export-name'])).toEqual(['vm1']);
    await expect(run('nbdinfo', [`${base}/private`])).rejects.toThrow();

    const dir = mkdtempSync(join(tmpdir(), 'strata-nbd-gw-'));
    const data = randomBytes(16 * MiB);
    writeFileSync(join(dir, 'in.img'), data);
    await run('nbdcopy', [join(dir, 'in.img'), `${base}/vm1`]);
    // What NBD wrote is the volume: the REST image says so too.
    const image = Buffer.from(await (await gw.api('volumes/vm1/image')).arrayBuffer());
    expect(image.equals(data)).toBe(true);
    const { stdout } = await run(
      'fio',
      ['--name=v', '--ioengine=nbd', `--uri=${base}/vm1`, '--rw=randrw', '--bs=4k', '--iodepth=32', '--size=16M', '--verify=crc32c', '--do_verify=1', '--verify_state_save=0', '--output-format=json'],
      { maxBuffer: 16 * MiB },
    );
    expect(JSON.parse(stdout.slice(stdout.indexOf('{'))).jobs[0].error).toBe(0);

    expect((await gw.api('volumes/vm1', { method: 'PATCH', json: { nbdExport: false } })).status).toBe(200);
    await expect(run('nbdinfo', [`${base}/vm1`])).rejects.toThrow();
    rmSync(dir, { recursive: true, force: true });
  });
});
