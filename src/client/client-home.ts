import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_DATAGRAM_SIZE } from '../protocols/san/constants';
import { parseHostKey } from '../storage/host-key';
import { parseGateway } from './san-client';
import { SECURITY_MODES, type SecurityMode } from '../protocols/san/login';

/** The SAN port a gateway address means when it names none. */
export const DEFAULT_SAN_PORT = 7700;
/** Datagram size on loopback, where 64 KiB datagrams never fragment (docs/san-protocol.md, section 1). */
export const LOOPBACK_DATAGRAM_SIZE = 65_000;
/** Sockaddr_un holds 108 bytes with the terminating NUL. */
const UNIX_PATH_MAX = 107;

/** What `strata-client` remembers between runs (client.json). */
export interface ClientSettings {
  /** The host name registered on the gateway (strata host add <name>). */
  host?: string;
  /** Gateway SAN addresses, `host:port`: one path each. */
  gateways: string[];
  /** Sessions per gateway address for attach. */
  sessions?: number;
  /** Datagram size to ask for; by default 65000 on loopback, else 1452. */
  datagramSize?: number;
  /** integrity: ask for sessions that send data in clear, authenticated (the gateway must allow it for this host); by default encrypt. */
  security?: SecurityMode;
}

/** A problem with the client's own files: `code` says which, for the CLI's exit code. */
export class ClientConfigError extends Error {
  constructor(
    readonly code: 'NO_KEY' | 'KEY_EXISTS' | 'KEY_UNSAFE' | 'KEY_INVALID' | 'CONFIG' | 'NOT_LOGGED_IN' | 'BAD_ADDRESS' | 'PATH_TOO_LONG',
    message: string,
  ) {
    super(message);
    this.name = 'ClientConfigError';
  }
}

/**
 * The config directory: `--config-dir`, else $STRATA_CLIENT_HOME, else
 * $XDG_CONFIG_HOME/strata-client, else ~/.config/strata-client.
 */
export function clientHomeDir(env: NodeJS.ProcessEnv, flag?: string): string {
  if (flag) return flag;
  if (env.STRATA_CLIENT_HOME) return env.STRATA_CLIENT_HOME;
  return join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'strata-client');
}

/** `host`, `host:port`, `[v6]` or `[v6]:port` → `host:port` (the SAN port 7700 when none is given). */
export function normalizeGateway(text: string): string {
  const t = text.trim();
  const withPort = /^\[[^\]]+\]$/.test(t) || (!t.includes(':') && t !== '') ? `${t}:${DEFAULT_SAN_PORT}` : t;
  try {
    parseGateway(withPort);
  } catch {
    throw new ClientConfigError('BAD_ADDRESS', `gateway address '${text}' is not host, host:port or [ipv6]:port`);
  }
  return withPort;
}

export const isLoopback = (host: string) => host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);

/**
 * The host's key pair, its settings and the run/ folder where each attach
 * process keeps its control socket, NBD socket and (in the background) log.
 * The private key is written owner-only and refused when others can read it.
 */
export class ClientHome {
  constructor(readonly dir: string) {}

  get keyFile(): string {
    return join(this.dir, 'host.key');
  }

  get publicKeyFile(): string {
    return join(this.dir, 'host.pub');
  }

  get settingsFile(): string {
    return join(this.dir, 'client.json');
  }

  get runDir(): string {
    return join(this.dir, 'run');
  }

  /** Where the attach process of a volume answers status and detach. */
  controlSocket(volume: string): string {
    return this.checkedPath(join(this.runDir, `${volume}.ctl`));
  }

  /** The default NBD socket of an attached volume. */
  nbdSocket(volume: string): string {
    return this.checkedPath(join(this.runDir, `${volume}.nbd`));
  }

  logFile(volume: string): string {
    return join(this.runDir, `${volume}.log`);
  }

  ensureRunDir(): string {
    mkdirSync(this.runDir, { recursive: true, mode: 0o700 });
    return this.runDir;
  }

  loadSettings(): ClientSettings {
    let text: string;
    try {
      text = readFileSync(this.settingsFile, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { gateways: [] };
      throw new ClientConfigError('CONFIG', `cannot read ${this.settingsFile}: ${(e as Error).message}`);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new ClientConfigError('CONFIG', `${this.settingsFile} is not valid JSON (${(e as Error).message}): fix or delete it`);
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ClientConfigError('CONFIG', `${this.settingsFile} must hold a JSON object`);
    const o = raw as Record<string, unknown>;
    const bad = (key: string, want: string) => new ClientConfigError('CONFIG', `${this.settingsFile}: '${key}' must be ${want}`);
    if (o.host !== undefined && (typeof o.host !== 'string' || o.host === '')) throw bad('host', 'a host name');
    if (o.gateways !== undefined && (!Array.isArray(o.gateways) || !o.gateways.every((g) => typeof g === 'string'))) throw bad('gateways', 'a list of host:port');
    const count = (key: 'sessions' | 'datagramSize', min: number, max: number) => {
      const v = o[key];
      if (v === undefined) return undefined;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw bad(key, `a whole number from ${min} to ${max}`);
      return v;
    };
    const settings: ClientSettings = { gateways: ((o.gateways as string[] | undefined) ?? []).map(normalizeGateway) };
    if (o.host !== undefined) settings.host = o.host as string;
    const sessions = count('sessions', 1, 64);
    const datagramSize = count('datagramSize', 576, 65_000);
    if (sessions !== undefined) settings.sessions = sessions;
    if (datagramSize !== undefined) settings.datagramSize = datagramSize;
    if (o.security !== undefined) {
      if (!SECURITY_MODES.includes(o.security as SecurityMode)) throw bad('security', SECURITY_MODES.map((m) => `'${m}'`).join(' or '));
      settings.security = o.security as SecurityMode;
    }
    return settings;
  }

  /** Written through a temporary file and a rename, so a crash never leaves half a file. */
  saveSettings(settings: ClientSettings): void {
    this.writePrivate(this.settingsFile, `${JSON.stringify(settings, null, 2)}\n`);
  }

  /** The gateways remembered by login, or NOT_LOGGED_IN. */
  gateways(): string[] {
    const g = this.loadSettings().gateways;
    if (g.length === 0) throw new ClientConfigError('NOT_LOGGED_IN', `no gateway to talk to: run strata-client login <gateway[:port]>... first (config: ${this.dir})`);
    return g;
  }

  /** A new Ed25519 key pair: private key (PKCS#8 PEM) mode 0600, public key as an OpenSSH line. */
  generateKey(host: string, force = false): { publicKey: string; fingerprint: string } {
    if (!force) {
      let existing: { publicKey: string; fingerprint: string } | undefined;
      try {
        existing = this.publicKey();
      } catch (e) {
        if ((e as ClientConfigError).code !== 'NO_KEY') throw e;
      }
      if (existing) {
        throw new ClientConfigError(
          'KEY_EXISTS',
          `a host key already exists in ${this.keyFile} (${existing.fingerprint}, public key: ${existing.publicKey}); --force replaces it, and the gateway must then be given the new one`,
        );
      }
    }
    const { privateKey } = generateKeyPairSync('ed25519');
    this.writePrivate(this.keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
    const pub = this.describe(privateKey);
    writeFileSync(this.publicKeyFile, `${pub.publicKey} ${host}\n`, { mode: 0o644 });
    return pub;
  }

  /** The host's private key; NO_KEY, KEY_UNSAFE (readable by others) or KEY_INVALID otherwise. */
  loadKey(): KeyObject {
    let pem: string;
    try {
      const st = statSync(this.keyFile);
      if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
        throw new ClientConfigError(
          'KEY_UNSAFE',
          `${this.keyFile} is readable by others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}): chmod 600 it, since anyone who can read it can attach this host's volumes`,
        );
      }
      pem = readFileSync(this.keyFile, 'utf8');
    } catch (e) {
      if (e instanceof ClientConfigError) throw e;
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ClientConfigError('NO_KEY', `no host key in ${this.dir}: run strata-client keygen, then register the public key on the gateway (strata host add)`);
      }
      throw new ClientConfigError('KEY_INVALID', `cannot read ${this.keyFile}: ${(e as Error).message}`);
    }
    let key: KeyObject;
    try {
      key = createPrivateKey(pem);
    } catch (e) {
      throw new ClientConfigError('KEY_INVALID', `${this.keyFile} is not a private key (${(e as Error).message}): move it away and run strata-client keygen`);
    }
    if (key.asymmetricKeyType !== 'ed25519') throw new ClientConfigError('KEY_INVALID', `${this.keyFile} is a ${key.asymmetricKeyType} key; the SAN needs Ed25519 (strata-client keygen)`);
    return key;
  }

  publicKey(): { publicKey: string; fingerprint: string } {
    return this.describe(this.loadKey());
  }

  private describe(privateKey: KeyObject): { publicKey: string; fingerprint: string } {
    const raw = Buffer.from(createPublicKey(privateKey).export({ format: 'jwk' }).x as string, 'base64url');
    // The gateway's own parser gives the OpenSSH line and fingerprint it will show for this key.
    const parsed = parseHostKey(raw.toString('hex'));
    return { publicKey: parsed.openssh, fingerprint: parsed.fingerprint };
  }

  private writePrivate(path: string, text: string): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, text, { mode: 0o600 });
    // mode applies only when the file is created; make sure of it anyway.
    chmodSync(tmp, 0o600);
    renameSync(tmp, path);
  }

  private checkedPath(path: string): string {
    if (Buffer.byteLength(path) > UNIX_PATH_MAX) {
      throw new ClientConfigError('PATH_TOO_LONG', `unix socket path ${path} is longer than ${UNIX_PATH_MAX} bytes: use a shorter --config-dir or STRATA_CLIENT_HOME`);
    }
    return path;
  }
}

/** Datagram size for a set of gateways: the saved one, else 65000 when every address is loopback, else 1452. */
export function datagramSizeFor(gateways: string[], saved?: number): number {
  if (saved) return saved;
  return gateways.every((g) => isLoopback(parseGateway(g).address)) ? LOOPBACK_DATAGRAM_SIZE : DEFAULT_DATAGRAM_SIZE;
}
