import type { Command } from 'commander';
import { ApiClient, usageError } from './client';
import { configPath, loadLogin, saveLogin, type SavedLogin } from './config';
import type { CliIO } from './io';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

export interface GlobalOptions {
  url?: string;
  token?: string;
  json?: boolean;
  yes?: boolean;
}

/** What every command works with: the resolved gateway, the output mode, the saved login. */
export class Context {
  readonly url: string;
  readonly api: ApiClient;
  readonly json: boolean;
  readonly yes: boolean;
  readonly configFile: string;
  /** Whether the remembered login is for the gateway this run talks to. */
  readonly savedHere: boolean;

  constructor(
    readonly io: CliIO,
    opts: GlobalOptions,
    readonly saved: SavedLogin,
  ) {
    this.configFile = configPath(io.env);
    // Flag, then environment, then what login remembered, then the local default.
    this.url = normalizeUrl(opts.url ?? io.env.STRATA_URL ?? saved.url ?? DEFAULT_URL);
    // A remembered token belongs to the remembered gateway (saved normalized): never send it elsewhere.
    this.savedHere = saved.url === this.url;
    const token = opts.token ?? io.env.STRATA_TOKEN ?? (this.savedHere ? saved.token : undefined);
    this.api = new ApiClient(this.url, token || undefined);
    this.json = Boolean(opts.json);
    this.yes = Boolean(opts.yes);
  }

  static of(cmd: Command, io: CliIO): Context {
    return new Context(io, cmd.optsWithGlobals<GlobalOptions>(), loadLogin(configPath(io.env)));
  }

  saveLogin(login: SavedLogin): void {
    saveLogin(this.configFile, login);
  }

  /** Drop the remembered token of this gateway, keeping URL and username for the next login. */
  forgetToken(): void {
    if (this.savedHere && this.saved.token !== undefined) saveLogin(this.configFile, { url: this.saved.url, username: this.saved.username });
  }

  out(line = ''): void {
    this.io.stdout.write(line.endsWith('\n') ? line : `${line}\n`);
  }

  /** --json prints the API's answer as is; otherwise the human rendering. */
  emit<T>(data: T, human: (data: T) => string): void {
    if (this.json) {
      if (data !== undefined) this.out(JSON.stringify(data, null, 2));
    } else {
      this.out(human(data));
    }
  }
}

function normalizeUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usageError(`--url '${raw}' is not a URL (example: http://127.0.0.1:8080)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError(`--url '${raw}' must be http:// or https://`);
  // The API lives at <url>/api/v1: accept the gateway URL with or without a trailing slash.
  return url.toString().replace(/\/+$/, '');
}
