import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD as PASSWORD, startTestGateway } from '../utils/gateway';
import { createShare } from '../utils/nas-fixture';
import { MAIN } from '../utils/process-gateway';
import { has } from '../utils/tools';

const CAN_UNSHARE = process.getuid?.() === 0 && has('unshare') && has('nsenter') && has('ip') && spawnSync('unshare', ['--net', 'true']).status === 0;
const TOOLS = ['nfs-ls', 'nfs-cp', 'nfs-cat'].every(has);
const why = !TOOLS ? 'the libnfs tools are missing (Debian libnfs-utils)' : !CAN_UNSHARE ? 'it needs root, unshare, nsenter and ip (util-linux, iproute2) for a private network namespace' : !existsSync(MAIN) ? `${MAIN} is missing (npm test builds it)` : null;
if (why) console.warn(`NFS through the portmapper: skipped, ${why}`);

/** A command in the namespace's network; never blocks the event loop. */
function inNs(pid: number, cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('nsenter', ['-t', String(pid), '-n', cmd, ...args], { timeout: 60_000, maxBuffer: 16 * 2 ** 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

/**
 * The gateway as installed: NFS on 2049, MOUNT on 20048 and its own
 * portmapper on 111 (nas.portmap auto finds the port free), in a private
 * network namespace because those ports are machine-wide. libnfs URLs then
 * need no ports: nfs-ls, nfs-cp and nfs-cat ask GETPORT, as docs/nas.md says.
 */
describe.skipIf(why !== null)('libnfs tools through our portmapper on port 111', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-portmap-'));
  let child: ChildProcess | undefined;
  let pid = 0;
  let output = '';

  beforeAll(async () => {
    // The share is made by a gateway outside the namespace; the one inside finds it in the catalog.
    const setup = await startTestGateway({}, dir);
    await createShare(setup, 'public');
    await setup.close();

    const env = { ...process.env, STRATA_DATA_DIR: dir, STRATA_ADMIN_PASSWORD: PASSWORD, STRATA_HTTP_PORT: '18080', STRATA_SHELL: 'false', STRATA_SAN: 'false', STRATA_NBD: 'false', STRATA_PORTMAP: 'auto', STRATA_LOG_LEVEL: 'info' };
    child = spawn('unshare', ['--net', 'sh', '-c', `ip link set lo up && exec ${JSON.stringify(process.execPath)} ${JSON.stringify(MAIN)}`], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    pid = child.pid!;
    for (let i = 0; !/portmapper: (own|system|none)/.test(output); i++) {
      if (child.exitCode !== null || i > 300) throw new Error(`the gateway did not start in its namespace:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child?.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the portmapper itself and reports it in GET /api/v1/stats', async () => {
    expect(output).toMatch(/NFSv3 and NFSv4\.1 listening on tcp 127\.0\.0\.1:2049, MOUNT v3 on 20048, portmapper: own/);
    const script = `
      const base = 'http://127.0.0.1:18080/api/v1';
      (async () => {
        const { token } = await (await fetch(base + '/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ${JSON.stringify(PASSWORD)} }) })).json();
        console.log(JSON.stringify((await (await fetch(base + '/stats', { headers: { authorization: 'Bearer ' + token } })).json()).nas));
      })();`;
    const r = await inNs(pid, process.execPath, ['-e', script]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ available: true, address: 'tcp 127.0.0.1:2049', nfs: 'tcp 127.0.0.1:2049', mount: 'tcp 127.0.0.1:20048', portmap: { mode: 'own', port: 111 } });
  });

  it('nfs-cp, nfs-ls and nfs-cat find NFS and MOUNT through GETPORT', async () => {
    const local = join(dir, 'hello.txt');
    writeFileSync(local, 'found through the portmapper\n');
    expect(await inNs(pid, 'nfs-cp', [local, 'nfs://127.0.0.1/public/hello.txt?version=3'])).toMatchObject({ code: 0 });
    const ls = await inNs(pid, 'nfs-ls', ['nfs://127.0.0.1/public/?version=3']);
    expect(ls.code).toBe(0);
    expect(ls.out).toMatch(/-rw-rw----\s+1\s+0\s+0\s+29 hello\.txt/);
    expect(await inNs(pid, 'nfs-cat', ['nfs://127.0.0.1/public/hello.txt?version=3'])).toEqual({ code: 0, out: 'found through the portmapper\n' });
    const back = join(dir, 'back.txt');
    expect((await inNs(pid, 'nfs-cp', ['nfs://127.0.0.1/public/hello.txt?version=3', back])).code).toBe(0);
    expect(readFileSync(back, 'utf8')).toBe('found through the portmapper\n');
  });
});
