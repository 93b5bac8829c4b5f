import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Server, type AuthContext, type ClientInfo, type Connection, type PseudoTtyInfo, type ServerChannel, type Session } from 'ssh2';
import { Unauthenticated } from '../common/errors';
import { ListenerRegistry } from '../common/listeners';
import { STRATA_CONFIG, type StrataConfig } from '../config/config';
import type { Actor } from '../storage/domain';
import { CommandRunner } from './command-runner';
import { SHELL_SERVICES, type ShellServices } from './commands/command';
import { loadOrCreateHostKey, type ShellHostKey } from './host-key-file';
import { LoginThrottle } from './login-throttle';
import { ShellSession, type Terminal } from './session';

export const HOST_KEY_FILE = 'ssh_host_ed25519_key';
const LISTENER = 'ssh';
/** The methods we offer; a client is told them after every refusal. */
const METHODS: Array<'publickey' | 'password'> = ['publickey', 'password'];
/** Each refused login waits this long before the answer, to slow down guessing. */
const FAILURE_DELAY_MS = 1000;
/** A connection that has not logged in by then is dropped, as OpenSSH's LoginGraceTime. */
const LOGIN_GRACE_MS = 60_000;
/** How long shutdown waits for running commands before closing their sessions. */
const DRAIN_MS = 10_000;
/** How long clients get to hang up by themselves once their sessions ended, so they print what we sent last. */
const HANGUP_MS = 2000;

/**
 * The SSH admin shell's listener (ssh2): host key, password and public-key
 * login against the admin accounts, per-address throttling of failed logins,
 * and a ShellSession per shell or exec channel. Started and stopped by Nest's
 * lifecycle hooks; a failure to bind is reported to readiness, not fatal.
 */
@Injectable()
export class ShellServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('Shell');
  private readonly runner = new CommandRunner();
  private readonly throttle = new LoginThrottle();
  /** Each open connection, and when it closes. */
  private readonly connections = new Map<Connection, Promise<void>>();
  private readonly sessions = new Set<ShellSession>();
  private server: Server | null = null;
  private key: ShellHostKey | null = null;

  constructor(
    @Inject(STRATA_CONFIG) private readonly config: StrataConfig,
    @Inject(SHELL_SERVICES) private readonly services: ShellServices,
    private readonly listeners: ListenerRegistry,
  ) {}

  /** Where the shell listens, once it does (tests start it on port 0). */
  address(): AddressInfo | null {
    return (this.server?.address() as AddressInfo | null) ?? null;
  }

  /** `SHA256:…` of the host key, as clients are shown it on first connection. */
  get hostKeyFingerprint(): string | null {
    return this.key?.fingerprint ?? null;
  }

  async onApplicationBootstrap(): Promise<void> {
    const { enabled, host, port } = this.config.shell;
    if (!enabled) {
      this.log.log('SSH admin shell disabled (shell.enabled is false)');
      return;
    }
    try {
      const key = await loadOrCreateHostKey(join(this.config.dataDir, HOST_KEY_FILE));
      if (key.created) this.log.log(`generated the SSH host key ${join(this.config.dataDir, HOST_KEY_FILE)}`);
      const server = new Server({ hostKeys: [key.privateKey], ident: 'Strata' }, (conn, info) => this.accept(conn, info));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.removeListener('error', reject);
          resolve();
        });
      });
      server.on('error', (e: Error) => this.log.error(`SSH listener: ${e.message}`));
      this.key = key;
      this.server = server;
      const addr = server.address() as AddressInfo;
      const where = addr.family === 'IPv6' ? `[${addr.address}]:${addr.port}` : `${addr.address}:${addr.port}`;
      this.listeners.listening(LISTENER, where, `host key ${key.fingerprint}`);
      this.log.log(`SSH admin shell listening on ${where}, host key ${key.fingerprint} (ED25519)`);
    } catch (e) {
      const reason = `cannot listen on ${host}:${port}: ${(e as Error).message}`;
      this.listeners.failed(LISTENER, reason);
      this.log.error(`SSH admin shell ${reason}`);
    }
  }

  /** Close the listener, let running commands finish (for a while), then end every session and connection. */
  async beforeApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const stops = Promise.all([...this.sessions].map((s) => s.stop()));
    await Promise.race([stops, delay(DRAIN_MS, undefined, { ref: false })]);
    // Ending the connection at once could make a client drop the goodbye it has not printed yet.
    await Promise.race([Promise.all(this.connections.values()), delay(HANGUP_MS, undefined, { ref: false })]);
    for (const conn of this.connections.keys()) conn.end();
    await closed;
    this.listeners.closed(LISTENER);
  }

  private accept(conn: Connection, info: ClientInfo): void {
    const source = `ssh:${info.ip}`;
    this.connections.set(conn, new Promise((resolve) => conn.once('close', () => resolve())));
    const grace = setTimeout(() => conn.end(), LOGIN_GRACE_MS);
    let actor: Actor | null = null;
    conn.on('authentication', (ctx: AuthContext) => {
      this.allows(ctx, info.ip, source)
        .then((allowed) => {
          // Accepting a key the client only asked about is not a login yet.
          if (allowed && !(ctx.method === 'publickey' && !ctx.signature)) actor = { name: ctx.username, source };
          if (allowed) ctx.accept();
          else ctx.reject(METHODS);
          // A source over its limit gets no more tries on this connection either.
          if (!allowed && this.throttle.blockedFor(info.ip) > 0) conn.end();
        })
        // The client may have gone while we decided: there is nobody left to answer.
        .catch((e: Error) => this.log.debug(`SSH login from ${info.ip}: ${e.message}`));
    });
    conn.on('ready', () => {
      clearTimeout(grace);
      const who = actor!;
      conn.on('session', (acceptSession) => this.session(acceptSession(), who));
    });
    // A client that vanishes mid-handshake is routine, not an error worth more than debug.
    conn.on('error', (e: Error) => this.log.debug(`SSH connection from ${info.ip}: ${e.message}`));
    conn.on('close', () => {
      clearTimeout(grace);
      this.connections.delete(conn);
    });
  }

  /** Whether to accept one authentication request; failures are counted, delayed and audited here. */
  private async allows(ctx: AuthContext, ip: string, source: string): Promise<boolean> {
    if (this.throttle.blockedFor(ip) > 0) {
      await delay(FAILURE_DELAY_MS);
      return false;
    }
    const { auth } = this.services;
    try {
      if (ctx.method === 'password') {
        await auth.verifyCredentials(ctx.username, ctx.password, source);
      } else if (ctx.method === 'publickey' && ctx.signature && ctx.blob) {
        await auth.verifyKeyLogin(ctx.username, ctx.key.data, { data: ctx.blob, signature: ctx.signature, hashAlgo: ctx.hashAlgo }, source);
      } else if (ctx.method === 'publickey') {
        // The client asks whether a key would do before it signs with it.
        return await auth.hasKey(ctx.username, ctx.key.data);
      } else {
        return false;
      }
      this.throttle.success(ip);
      return true;
    } catch (e) {
      if (e instanceof Unauthenticated) await this.failed(ctx.username, ip, source);
      else this.log.error(`SSH login from ${ip} failed unexpectedly: ${(e as Error).stack ?? String(e)}`);
      return false;
    }
  }

  /** Count a failed login against its address (the audit entry is AuthService's), then make the client wait. */
  private async failed(username: string, ip: string, source: string): Promise<void> {
    const block = this.throttle.failure(ip);
    if (block > 0) {
      this.log.warn(`SSH logins from ${ip} refused for ${block / 1000} s after repeated failures`);
      await this.services.audit
        .record({ name: username, source }, 'shell.login', { type: 'user', name: username }, 'failure', {
          errorCode: 'RATE_LIMITED',
          detail: { blockedForSeconds: block / 1000 },
        })
        .catch((e: Error) => this.log.error(`cannot audit the block of ${ip}: ${e.message}`));
    }
    await delay(FAILURE_DELAY_MS);
  }

  private session(session: Session, actor: Actor): void {
    let terminal: Terminal | null = null;
    session.on('pty', (accept, _reject, info: PseudoTtyInfo) => {
      terminal = { cols: info.cols || 80 };
      accept?.();
    });
    session.on('window-change', (accept, _reject, info) => {
      if (terminal) terminal.cols = info.cols || terminal.cols;
      accept?.();
    });
    const start = (channel: ServerChannel, run: (s: ShellSession) => Promise<void>) => {
      const shell = new ShellSession(channel, terminal, this.runner, this.services, actor);
      this.sessions.add(shell);
      channel.on('close', () => this.sessions.delete(shell));
      run(shell).catch((e: Error) => {
        this.log.error(`SSH session of ${actor.name} failed: ${e.stack ?? e.message}`);
        channel.close();
      });
    };
    session.once('shell', (accept) => start(accept(), (s) => s.shell()));
    session.once('exec', (accept, _reject, info) => start(accept(), (s) => s.exec(info.command)));
  }
}
