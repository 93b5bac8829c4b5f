import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { DomainError } from '../common/errors';
import { parseSize } from '../common/size';

/**
 * Configuration: typed defaults, then a JSON file (STRATA_CONFIG, or
 * ./strata.json when present), then STRATA_* environment variables. Verified
 * once at boot; every problem is reported with the key that caused it.
 */
const size = z.union([z.number(), z.string()]).transform((v, ctx) => {
  try {
    return parseSize(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

const port = z.coerce.number().int().min(0).max(65535);

export const configSchema = z
  .object({
    dataDir: z.string().min(1).default('./data'),
    http: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: port.default(8080),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 8080 }),
    defaultPool: z
      .object({
        enabled: z.coerce.boolean().default(true),
        name: z.string().min(1).default('default'),
        deviceSize: size.default(16 * 2 ** 30),
        pageSize: size.default(2 ** 20),
      })
      .strict()
      .default({ enabled: true, name: 'default', deviceSize: 16 * 2 ** 30, pageSize: 2 ** 20 }),
    admin: z
      .object({
        username: z.string().min(1).default('admin'),
        password: z.string().min(8, 'admin.password must be at least 8 characters').optional(),
        tokenTtlSeconds: z.coerce.number().int().min(60).default(12 * 3600),
      })
      .strict()
      .default({ username: 'admin', tokenTtlSeconds: 12 * 3600 }),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .strict()
      .default({ level: 'info' }),
  })
  .strict();

export type StrataConfig = z.infer<typeof configSchema>;

export class ConfigError extends DomainError {
  readonly code = 'CONFIG_INVALID';
}

/** STRATA_* variables and the config key each one sets. */
const ENV_KEYS: Record<string, string[]> = {
  STRATA_DATA_DIR: ['dataDir'],
  STRATA_HTTP_HOST: ['http', 'host'],
  STRATA_HTTP_PORT: ['http', 'port'],
  STRATA_DEFAULT_POOL: ['defaultPool', 'enabled'],
  STRATA_DEFAULT_DEVICE_SIZE: ['defaultPool', 'deviceSize'],
  STRATA_DEFAULT_PAGE_SIZE: ['defaultPool', 'pageSize'],
  STRATA_ADMIN_USER: ['admin', 'username'],
  STRATA_ADMIN_PASSWORD: ['admin', 'password'],
  STRATA_TOKEN_TTL: ['admin', 'tokenTtlSeconds'],
  STRATA_LOG_LEVEL: ['log', 'level'],
};

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}

export interface ConfigSources {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function loadConfig({ env = process.env, cwd = process.cwd() }: ConfigSources = {}): StrataConfig {
  const explicit = env.STRATA_CONFIG;
  const file = explicit ? resolve(cwd, explicit) : resolve(cwd, 'strata.json');
  let raw: Record<string, unknown> = {};
  if (explicit && !existsSync(file)) throw new ConfigError(`config file ${file} (STRATA_CONFIG) does not exist`);
  if (existsSync(file)) {
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new ConfigError(`config file ${file} is not valid JSON: ${(e as Error).message}`);
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new ConfigError(`config file ${file} must hold a JSON object`);
    }
  }
  for (const [name, path] of Object.entries(ENV_KEYS)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    setPath(raw, path, name === 'STRATA_DEFAULT_POOL' ? !['0', 'false', 'no', 'off'].includes(value.toLowerCase()) : value);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration${existsSync(file) ? ` (${file} and STRATA_* env)` : ''}:\n${lines.join('\n')}`);
  }
  const config = parsed.data;
  config.dataDir = isAbsolute(config.dataDir) ? config.dataDir : resolve(cwd, config.dataDir);
  return config;
}

export const STRATA_CONFIG = Symbol('STRATA_CONFIG');
