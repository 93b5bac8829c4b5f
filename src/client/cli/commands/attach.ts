import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { MAX_BUSY_POLL_MICROS, SAN_BUSY_POLL_MICROS } from '../../../common/busy-poll';
import { countArg } from '../../../cli/args';
import { CliError, EXIT, usageError } from '../../../cli/client';
import type { CliIO } from '../../../cli/io';
import { Attachment, type AttachStatus } from '../../attachment';
import { datagramSizeFor, isLoopback } from '../../client-home';
import { controlRequest, probe } from '../../control-socket';
import { ClientContext } from '../client-context';
import { explain } from '../errors';
import { attachedVolumes } from './status';

interface AttachCliOptions {
  sessions?: number;
  socket?: string;
  listen?: string;
  readOnly?: boolean;
  background?: boolean;
  datagramSize?: number;
  ioTimeout?: number;
  timeout?: number;
  busyPoll?: number;
}

/** Set in the environment of the process `--background` starts: it reports readiness over IPC. */
const DAEMON_ENV = 'STRATA_CLIENT_DAEMON';

/** What the background attach process tells the command that started it. */
type DaemonMessage = { ready: AttachStatus } | { error: { message: string; code: string; exitCode: number } };

/** `127.0.0.1:PORT`, `[::1]:PORT` or `localhost:PORT`: NBD has no authentication, so loopback only. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m || Number(m[2]) > 65535) throw usageError(`--listen '${text}' is not host:port (example: 127.0.0.1:10809)`);
  if (!isLoopback(m[1])) throw usageError(`--listen '${text}': NBD has no authentication, so the export listens on loopback only (127.0.0.1, ::1)`);
  return { host: m[1], port: Number(m[2]) };
}

const attachedLine = (s: AttachStatus) =>
  `Attached volume '${s.volume}' (${s.readOnly ? 'read-only' : 'read-write'}, ${s.size} bytes) at ${s.uri} (pid ${s.pid}, ${s.paths.map((p) => `${p.gateway} ${p.up}/${p.sessions} up`).join(', ')}).`;

export function registerAttach(program: Command, io: CliIO): void {
  program
    .command('attach')
    .description('serve an assigned volume as an NBD export on this host (foreground unless --background)')
    .argument('<volume>', 'volume name, as discover lists it')
    .option('--sessions <n>', 'SAN sessions per gateway address (default: as login set, else 2)', countArg)
    .option('--socket <path>', 'serve NBD on this unix socket (default: <config-dir>/run/<volume>.nbd)')
    .option('--listen <host:port>', 'serve NBD on this loopback TCP address instead (port 0: any free one)')
    .option('--read-only', 'serve read-only (required for a volume assigned read-only)')
    .option('--background', 'run as a background process; return once the export is ready')
    .option('--datagram-size <bytes>', 'datagram size to ask for (default: as login set, else 65000 on loopback, 1452 otherwise)', countArg)
    .option('--io-timeout <seconds>', 'how long I/O waits for a path when every path is down before it fails (default 120)', countArg)
    .option('--timeout <seconds>', 'how long each gateway address may take to answer the login (default 5)', countArg)
    .option('--busy-poll <microseconds>', `after each datagram sent, poll this long for the answer instead of sleeping: lower latency, more CPU (default ${SAN_BUSY_POLL_MICROS}; 0: off)`, countArg)
    .action(async (volume: string, opts: AttachCliOptions, cmd: Command) => {
      const ctx = ClientContext.of(cmd, io);
      if (opts.socket !== undefined && opts.listen !== undefined) throw usageError('give --socket or --listen, not both');
      const listen = opts.listen !== undefined ? parseListen(opts.listen) : undefined;
      if (opts.sessions !== undefined && (opts.sessions < 1 || opts.sessions > 64)) throw usageError('--sessions must be from 1 to 64');
      if (opts.busyPoll !== undefined && opts.busyPoll > MAX_BUSY_POLL_MICROS) throw usageError(`--busy-poll must be from 0 to ${MAX_BUSY_POLL_MICROS} microseconds`);
      if (opts.background && !io.env[DAEMON_ENV]) return background(ctx, volume);
      const daemon = Boolean(io.env[DAEMON_ENV]) && typeof process.send === 'function';
      let attachment: Attachment;
      try {
        const settings = ctx.home.loadSettings();
        const key = ctx.home.loadKey();
        const gateways = ctx.home.gateways();
        const host = ctx.hostName(settings);
        try {
          attachment = await Attachment.start({
            home: ctx.home,
            volume,
            gateways,
            host,
            key,
            sessions: opts.sessions ?? settings.sessions ?? 2,
            datagramSize: opts.datagramSize ?? datagramSizeFor(gateways, settings.datagramSize),
            security: settings.security,
            socket: opts.socket,
            listen,
            readOnly: opts.readOnly,
            connectTimeoutMs: (opts.timeout ?? 5) * 1000,
            ioTimeoutMs: (opts.ioTimeout ?? 120) * 1000,
            busyPollMicros: opts.busyPoll,
            log: (line) => ctx.warn(`${new Date().toISOString()} ${line}`),
          });
        } catch (e) {
          throw ctx.refusal(e, host);
        }
      } catch (e) {
        if (daemon) {
          const err = e instanceof CliError ? e : explain(e);
          const message: DaemonMessage = { error: { message: err?.message ?? String(e), code: err?.code ?? 'INTERNAL', exitCode: err?.exitCode ?? EXIT.API } };
          process.send!(message, () => process.disconnect?.());
        }
        throw e;
      }
      const status = attachment.status();
      if (daemon) {
        process.send!({ ready: status } satisfies DaemonMessage, () => process.disconnect?.());
      } else {
        ctx.emit(status, (s) => `${attachedLine(s)}\nDetach with Ctrl-C or: strata-client detach ${s.volume}`);
      }
      const stop = () => void attachment.stop();
      const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
      for (const s of signals) process.once(s, stop);
      try {
        await attachment.done;
      } finally {
        for (const s of signals) process.off(s, stop);
      }
      ctx.warn(`${new Date().toISOString()} detached volume '${volume}'`);
    });

  program
    .command('detach')
    .description('flush and stop serving an attached volume')
    .argument('[volume]', 'volume name')
    .option('--all', 'every attached volume')
    .option('--force', 'also when NBD clients are still connected (they get cut off)')
    .action(async (volume: string | undefined, opts: { all?: boolean; force?: boolean }, cmd: Command) => {
      const ctx = ClientContext.of(cmd, io);
      if ((volume === undefined) === !opts.all) throw usageError('give a volume, or --all');
      const names = opts.all ? (await attachedVolumes(ctx)).map((s) => s.volume) : [volume!];
      for (const name of names) {
        const path = ctx.home.controlSocket(name);
        let answer;
        try {
          answer = await controlRequest(path, { op: 'detach', force: opts.force }, 180_000);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'ENOENT' || code === 'ECONNREFUSED') throw new CliError(`volume '${name}' is not attached (nothing answers on ${path})`, { exitCode: EXIT.API, code: 'NOT_ATTACHED', showCode: false });
          throw e;
        }
        if (!answer.ok) throw new CliError(answer.error.message, { exitCode: EXIT.API, code: answer.error.code, showCode: true });
        // The process closes its control socket right after answering: wait, so an attach that follows finds the name free.
        for (let i = 0; i < 100 && (await probe(path)); i++) await new Promise((r) => setTimeout(r, 50));
        if (!ctx.json) ctx.out(`Detached volume '${name}'.`);
      }
      if (ctx.json) ctx.out(JSON.stringify({ detached: names }));
      else if (names.length === 0) ctx.out('No volumes attached.');
    });
}

/** Start this same command line again as a detached process with its output in run/<volume>.log; wait until it is ready. */
async function background(ctx: ClientContext, volume: string): Promise<void> {
  ctx.home.ensureRunDir();
  const log = ctx.home.logFile(volume);
  const fd = openSync(log, 'a', 0o600);
  const args = process.argv.slice(1).filter((a) => a !== '--background');
  const child = spawn(process.execPath, [...process.execArgv, ...args], {
    detached: true,
    stdio: ['ignore', fd, fd, 'ipc'],
    env: { ...ctx.io.env, [DAEMON_ENV]: '1' },
  });
  closeSync(fd);
  const outcome = await new Promise<DaemonMessage | { exited: string }>((resolve) => {
    child.once('message', (m) => resolve(m as DaemonMessage));
    child.once('exit', (code, signal) => resolve({ exited: signal ?? String(code) }));
    child.once('error', (e) => resolve({ exited: e.message }));
  });
  if ('ready' in outcome) {
    child.disconnect();
    child.unref();
    ctx.emit(outcome.ready, (s) => `${attachedLine(s)}\nRunning in the background; log: ${log}. Detach with: strata-client detach ${s.volume}`);
    return;
  }
  if ('error' in outcome) throw new CliError(outcome.error.message, { exitCode: outcome.error.exitCode, code: outcome.error.code, showCode: outcome.error.exitCode === EXIT.API });
  const tail = readFileSync(log, 'utf8').trim().split('\n').slice(-5).join('\n');
  throw new CliError(`the attach process ended (${outcome.exited}) before volume '${volume}' was ready; last lines of ${log}:\n${tail}`, { exitCode: EXIT.API, code: 'ATTACH_FAILED', showCode: false });
}
