import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError, EXIT } from './client';

/** What `strata login` remembers between runs. */
export interface SavedLogin {
  url?: string;
  token?: string;
  username?: string;
}

/** $STRATA_CLI_CONFIG, else the XDG config directory, else ~/.config. */
export function configPath(env: NodeJS.ProcessEnv): string {
  if (env.STRATA_CLI_CONFIG) return env.STRATA_CLI_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'strata', 'cli.json');
}

export function loadLogin(path: string): SavedLogin {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError(`cannot read ${path}: ${(e as Error).message}`, { exitCode: EXIT.USAGE, code: 'CONFIG' });
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
    const { url, token, username } = parsed as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    return { url: str(url), token: str(token), username: str(username) };
  } catch (e) {
    throw new CliError(`${path} is not valid JSON (${(e as Error).message}): fix or delete it`, { exitCode: EXIT.USAGE, code: 'CONFIG' });
  }
}

/**
 * The file holds a bearer token: it is written owner-only, through a temporary
 * file and a rename so a crash never leaves half a file (or a readable one).
 */
export function saveLogin(path: string, login: SavedLogin): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(login, null, 2) + '\n', { mode: 0o600 });
  // mode applies only when the file is created; make sure of it anyway.
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}
