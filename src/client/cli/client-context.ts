import type { Command } from 'commander';
import { hostname } from 'node:os';
import { CliError, EXIT } from '../../cli/client';
import type { CliIO } from '../../cli/io';
import { Status } from '../../protocols/san/constants';
import { ClientHome, clientHomeDir, datagramSizeFor, type ClientSettings } from '../client-home';
import { SanClient } from '../san-client';
import { SanError } from '../san-error';
import type { SecurityMode } from '../../protocols/san/login';

export interface ClientGlobalOptions {
  configDir?: string;
  json?: boolean;
}

/** What every strata-client command works with: the config directory, the output mode. */
export class ClientContext {
  readonly home: ClientHome;
  readonly json: boolean;

  constructor(
    readonly io: CliIO,
    opts: ClientGlobalOptions,
  ) {
    this.home = new ClientHome(clientHomeDir(io.env, opts.configDir));
    this.json = Boolean(opts.json);
  }

  static of(cmd: Command, io: CliIO): ClientContext {
    return new ClientContext(io, cmd.optsWithGlobals<ClientGlobalOptions>());
  }

  out(line = ''): void {
    this.io.stdout.write(line.endsWith('\n') ? line : `${line}\n`);
  }

  /** Warnings and progress go to stderr, so stdout stays clean for --json and pipes. */
  warn(line: string): void {
    this.io.stderr.write(`${line}\n`);
  }

  emit<T>(data: T, human: (data: T) => string): void {
    this.out(this.json ? JSON.stringify(data, null, 2) : human(data));
  }

  /** The host name to log in as: --host, else the one keygen or login remembered, else this machine's name. */
  hostName(settings: ClientSettings, flag?: string): string {
    return flag ?? settings.host ?? hostname();
  }

  /**
   * Log in to the remembered gateways (or `gateways`) with the host's key. A
   * refused login says how to register the key.
   */
  async connect(
    o: { gateways?: string[]; sessions?: number; datagramSize?: number; security?: SecurityMode; host?: string; connectTimeoutMs?: number; ioTimeoutMs?: number } = {},
  ): Promise<SanClient> {
    const settings = this.home.loadSettings();
    const key = this.home.loadKey();
    const gateways = o.gateways ?? this.home.gateways();
    const host = this.hostName(settings, o.host);
    try {
      return await SanClient.connect({
        gateways,
        host,
        key,
        sessionsPerGateway: o.sessions ?? 1,
        datagramSize: o.datagramSize ?? datagramSizeFor(gateways, settings.datagramSize),
        security: o.security ?? settings.security,
        connectTimeoutMs: o.connectTimeoutMs,
        reconnectTimeoutMs: o.ioTimeoutMs,
      });
    } catch (e) {
      throw this.refusal(e, host);
    }
  }

  /** AUTH_FAILED with the fix spelled out: the exact command that registers this key (a policy refusal says its own fix). */
  refusal(e: unknown, host: string): unknown {
    if (!(e instanceof SanError) || e.status !== Status.AUTH_FAILED) return e;
    if (!e.identity) return new CliError(e.message, { exitCode: EXIT.AUTH, code: 'AUTH_FAILED', showCode: true });
    let pub = '<public key: strata-client keygen>';
    try {
      pub = this.home.publicKey().publicKey;
    } catch {
      /* the key was loaded a moment ago; keep the placeholder */
    }
    return new CliError(`${e.message}. If this host is new, register its key on the gateway: strata host add ${host} --key "${pub} ${host}"`, {
      exitCode: EXIT.AUTH,
      code: 'AUTH_FAILED',
      showCode: true,
    });
  }
}
