import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ControlServer, controlRequest, probe } from './control-socket';

const path = () => join(mkdtempSync(join(tmpdir(), 'sc-ctl-')), 'v.ctl');

/** Send raw bytes, collect what comes back until the server closes or `ms` pass. */
function raw(p: string, bytes: string, ms = 300): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(p);
    let got = '';
    s.on('data', (d) => (got += d.toString()));
    s.on('error', () => undefined);
    s.on('close', () => resolve(got));
    s.write(bytes);
    setTimeout(() => s.destroy(), ms);
  });
}

describe('the attach process control socket', () => {
  const servers: ControlServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('answers status, and detach only after the work is done, then tells the owner', async () => {
    const p = path();
    const events: string[] = [];
    let detaching: (() => void) | undefined;
    const server = new ControlServer(p, {
      status: () => ({ volume: 'v', pid: 1 }),
      detach: (force) => {
        events.push(`detach force=${force}`);
        return new Promise<void>((r) => (detaching = r));
      },
      detached: () => events.push('detached'),
    });
    servers.push(server);
    await server.listen();
    expect(await controlRequest(p, { op: 'status' })).toEqual({ ok: true, status: { volume: 'v', pid: 1 } });
    const answer = controlRequest(p, { op: 'detach', force: true });
    await new Promise((r) => setTimeout(r, 50));
    expect(events).toEqual(['detach force=true']);
    detaching!();
    expect(await answer).toEqual({ ok: true });
    await new Promise((r) => setTimeout(r, 20));
    expect(events).toEqual(['detach force=true', 'detached']);
  });

  it('a refused detach comes back with its code, and the process stays', async () => {
    const p = path();
    let detached = false;
    const server = new ControlServer(p, {
      status: () => ({}),
      detach: async () => {
        throw Object.assign(new Error('1 NBD client is still connected'), { code: 'CONNECTIONS_OPEN' });
      },
      detached: () => (detached = true),
    });
    servers.push(server);
    await server.listen();
    expect(await controlRequest(p, { op: 'detach' })).toEqual({ ok: false, error: { code: 'CONNECTIONS_OPEN', message: '1 NBD client is still connected' } });
    expect(detached).toBe(false);
  });

  it('answers garbage with BAD_REQUEST and cuts an endless line, and keeps serving', async () => {
    const p = path();
    const server = new ControlServer(p, { status: () => 'fine', detach: async () => undefined, detached: () => undefined });
    servers.push(server);
    await server.listen();
    expect(JSON.parse(await raw(p, 'nonsense\n'))).toEqual({ ok: false, error: { code: 'BAD_REQUEST', message: 'not a JSON object' } });
    expect(JSON.parse(await raw(p, 'null\n'))).toEqual({ ok: false, error: { code: 'BAD_REQUEST', message: 'not a JSON object' } });
    expect(JSON.parse(await raw(p, '{"op":"format"}\n'))).toEqual({ ok: false, error: { code: 'BAD_REQUEST', message: "unknown op 'format'" } });
    expect(await raw(p, 'x'.repeat(10_000), 1000)).toBe('');
    expect(await controlRequest(p, { op: 'status' })).toEqual({ ok: true, status: 'fine' });
  });

  it('takes over a stale socket file, and refuses a live one', async () => {
    const p = path();
    // A socket file nobody listens on: its process was killed before it could remove it.
    spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(p)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    expect(statSync(p).isSocket()).toBe(true);
    expect(await probe(p)).toBe(false);
    const first = new ControlServer(p, { status: () => 1, detach: async () => undefined, detached: () => undefined });
    servers.push(first);
    await first.listen();
    expect(await probe(p)).toBe(true);
    const second = new ControlServer(p, { status: () => 2, detach: async () => undefined, detached: () => undefined });
    await expect(second.listen()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(await controlRequest(p, { op: 'status' })).toEqual({ ok: true, status: 1 });
  });

  it('a request to nobody fails with the socket error', async () => {
    await expect(controlRequest(path(), { op: 'status' }, 500)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await probe(path())).toBe(false);
  });
});
