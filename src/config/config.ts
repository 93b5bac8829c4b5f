import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { DomainError } from '../common/errors';
import { MAX_BUSY_POLL_MICROS, NAS_BUSY_POLL_MICROS, NBD_BUSY_POLL_MICROS, SAN_BUSY_POLL_MICROS } from '../common/busy-poll';
import { parseSize } from '../common/size';
import { SECURITY_MODES } from '../protocols/san/login';

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
    shell: z
      .object({
        /** The SSH admin shell (src/shell), on its own port. */
        enabled: z.boolean().default(true),
        host: z.string().min(1).default('127.0.0.1'),
        /** 0 picks a free port (tests). */
        port: port.default(2222),
      })
      .strict()
      .default({ enabled: true, host: '127.0.0.1', port: 2222 }),
    nbd: z
      .object({
        /** The gateway's own NBD export of volumes marked for it (src/nbd), for VMs on this host. */
        enabled: z.boolean().default(true),
        /** NBD has no authentication: loopback only. */
        host: z.enum(['127.0.0.1', '::1', 'localhost'], { message: 'nbd.host must be a loopback address: NBD has no authentication' }).default('127.0.0.1'),
        /** 0 picks a free port (tests). */
        port: port.default(10809),
        /**
         * Microseconds the event loop keeps polling after each batch of NBD replies instead of sleeping
         * (common/busy-poll; fio 4 KiB random reads at QD1 12.9k → 23.2k IOPS). 0 turns it off.
         */
        busyPollMicros: z.coerce.number().int().min(0).max(MAX_BUSY_POLL_MICROS).default(NBD_BUSY_POLL_MICROS),
      })
      .strict()
      .default({ enabled: true, host: '127.0.0.1', port: 10809, busyPollMicros: NBD_BUSY_POLL_MICROS }),
    nas: z
      .object({
        /** The NAS front end (src/nas): ONC-RPC over TCP with NFSv3 and MOUNT v3. */
        enabled: z.boolean().default(true),
        host: z.string().min(1).default('127.0.0.1'),
        /** 0 picks a free port (tests). */
        nfsPort: port.default(2049),
        mountPort: port.default(20048),
        /**
         * Where clients find the ports: auto = our own portmapper on portmapPort when it is free, else
         * registration with the system's rpcbind there; own = the same, but readiness fails unless the
         * portmapper is ours; off = none (clients give the ports in their URLs).
         */
        portmap: z.enum(['auto', 'own', 'off']).default('auto'),
        portmapPort: port.default(111),
        /**
         * Microseconds the event loop keeps polling after each NFS/MOUNT reply instead of sleeping, so a
         * client's next call is served without a wake-up (common/busy-poll: a libnfs stat 250 → 140 µs with 50 µs);
         * costs at most that much CPU per reply, none when idle. 0 turns it off.
         */
        busyPollMicros: z.coerce.number().int().min(0).max(MAX_BUSY_POLL_MICROS).default(NAS_BUSY_POLL_MICROS),
      })
      .strict()
      .default({ enabled: true, host: '127.0.0.1', nfsPort: 2049, mountPort: 20048, portmap: 'auto', portmapPort: 111, busyPollMicros: NAS_BUSY_POLL_MICROS }),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .strict()
      .default({ level: 'info' }),
    metrics: z
      .object({
        /** GET /metrics without a token, for Prometheus scrapers; false requires the admin bearer token. */
        public: z.boolean().default(true),
        /** How often GET /api/v1/stats takes a sample; it keeps five minutes of them. */
        statsIntervalMs: z.coerce.number().int().min(10).max(60_000).default(1000),
      })
      .strict()
      .default({ public: true, statsIntervalMs: 1000 }),
    snapshots: z
      .object({
        /** How often the gateway looks for snapshot schedules that are due (they run at minute granularity at best). */
        scheduleTickMs: z.coerce.number().int().min(10).max(600_000).default(15_000),
      })
      .strict()
      .default({ scheduleTickMs: 15_000 }),
    san: z
      .object({
        /** The SAN block target (src/san): SBP over UDP, docs/san-protocol.md. */
        enabled: z.boolean().default(true),
        host: z.string().min(1).default('127.0.0.1'),
        /** 0 picks a free port (tests). */
        port: port.default(7700),
        /**
         * More SAN addresses to listen on besides host:port, as `host:port` (`[v6]:port`): each is a path
         * for multipath clients (another network, another NIC). STRATA_SAN_ADDRESSES takes them comma-separated.
         */
        addresses: z
          .preprocess((v) => (typeof v === 'string' ? v.split(',').map((a) => a.trim()).filter(Boolean) : v), z.array(z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s\[\]]+):\d{1,5}$/, 'must be host:port')))
          .default([]),
        /** The largest datagram the gateway agrees to; each client asks for its own, up to this. */
        datagramSize: z.coerce.number().int().min(576).max(65_000).default(65_000),
        /** Slots granted per session: calls in flight at once, each with its reply cached (exactly once). */
        slots: z.coerce.number().int().min(1).max(1024).default(64),
        maxTransfer: size.default(8 * 2 ** 20),
        /**
         * The least protection any host may use. integrity: each host's own setting decides (encrypt unless
         * set to integrity); encrypt: every session is encrypted, whatever the host's setting.
         */
        security: z.enum(SECURITY_MODES).default('integrity'),
        /** A session silent this long is dropped and its reservations released. */
        idleTimeoutSeconds: z.coerce.number().int().min(1).default(120),
        /** A refused login is answered after this delay, the same for every reason. */
        authFailureDelayMs: z.coerce.number().int().min(0).max(10_000).default(500),
        /**
         * Microseconds the event loop keeps polling after each datagram sent instead of sleeping, so the
         * client's next call is picked up without a wake-up (common/busy-poll; 4 KiB reads one at a time
         * 4.0-4.3k → 9.9-10.6k IOPS with the client library doing the same). 0 turns it off.
         */
        busyPollMicros: z.coerce.number().int().min(0).max(MAX_BUSY_POLL_MICROS).default(SAN_BUSY_POLL_MICROS),
      })
      .strict()
      .default({
        enabled: true,
        host: '127.0.0.1',
        port: 7700,
        addresses: [],
        datagramSize: 65_000,
        slots: 64,
        maxTransfer: 8 * 2 ** 20,
        security: 'integrity',
        idleTimeoutSeconds: 120,
        authFailureDelayMs: 500,
        busyPollMicros: SAN_BUSY_POLL_MICROS,
      }),
    mirror: z
      .object({
        /** How often a degraded mirror is probed; when its device answers again a resync job starts. 0: never (resync by hand). */
        probeIntervalMs: z.coerce.number().int().min(0).max(3_600_000).default(5000),
      })
      .strict()
      .default({ probeIntervalMs: 5000 }),
    replication: z
      .object({
        /** How often the gateway looks for replications whose next scheduled cycle is due. */
        tickMs: z.coerce.number().int().min(10).max(600_000).default(15_000),
        /** Datagram size a cycle asks the target for: 1452 fits any Ethernet path; up to 65000 on jumbo frames or loopback. */
        datagramSize: z.coerce.number().int().min(576).max(65_000).default(1452),
        /** SAN sessions (UDP ports) a cycle opens to the target; writes spread over them. */
        sessions: z.coerce.number().int().min(1).max(16).default(1),
        /** How long a cycle waits for a target that stopped answering (a restart) before the cycle fails; it resumes from its checkpoint. */
        reconnectTimeoutMs: z.coerce.number().int().min(1000).max(3_600_000).default(60_000),
      })
      .strict()
      .default({ tickMs: 15_000, datagramSize: 1452, sessions: 1, reconnectTimeoutMs: 60_000 }),
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
  STRATA_SHELL: ['shell', 'enabled'],
  STRATA_SHELL_HOST: ['shell', 'host'],
  STRATA_SHELL_PORT: ['shell', 'port'],
  STRATA_NBD: ['nbd', 'enabled'],
  STRATA_NBD_HOST: ['nbd', 'host'],
  STRATA_NBD_PORT: ['nbd', 'port'],
  STRATA_NBD_BUSY_POLL_US: ['nbd', 'busyPollMicros'],
  STRATA_NAS: ['nas', 'enabled'],
  STRATA_NAS_HOST: ['nas', 'host'],
  STRATA_NFS_PORT: ['nas', 'nfsPort'],
  STRATA_MOUNT_PORT: ['nas', 'mountPort'],
  STRATA_PORTMAP: ['nas', 'portmap'],
  STRATA_PORTMAP_PORT: ['nas', 'portmapPort'],
  STRATA_NAS_BUSY_POLL_US: ['nas', 'busyPollMicros'],
  STRATA_LOG_LEVEL: ['log', 'level'],
  STRATA_METRICS_PUBLIC: ['metrics', 'public'],
  STRATA_STATS_INTERVAL_MS: ['metrics', 'statsIntervalMs'],
  STRATA_SNAPSHOT_TICK_MS: ['snapshots', 'scheduleTickMs'],
  STRATA_SAN: ['san', 'enabled'],
  STRATA_SAN_HOST: ['san', 'host'],
  STRATA_SAN_PORT: ['san', 'port'],
  STRATA_SAN_ADDRESSES: ['san', 'addresses'],
  STRATA_SAN_DATAGRAM_SIZE: ['san', 'datagramSize'],
  STRATA_SAN_SLOTS: ['san', 'slots'],
  STRATA_SAN_MAX_TRANSFER: ['san', 'maxTransfer'],
  STRATA_SAN_SECURITY: ['san', 'security'],
  STRATA_SAN_IDLE_TIMEOUT: ['san', 'idleTimeoutSeconds'],
  STRATA_SAN_AUTH_DELAY_MS: ['san', 'authFailureDelayMs'],
  STRATA_SAN_BUSY_POLL_US: ['san', 'busyPollMicros'],
  STRATA_MIRROR_PROBE_MS: ['mirror', 'probeIntervalMs'],
  STRATA_REPLICATION_TICK_MS: ['replication', 'tickMs'],
  STRATA_REPLICATION_DATAGRAM_SIZE: ['replication', 'datagramSize'],
  STRATA_REPLICATION_SESSIONS: ['replication', 'sessions'],
  STRATA_REPLICATION_RECONNECT_MS: ['replication', 'reconnectTimeoutMs'],
};

/** Variables read as on/off switches: 0, false, no and off mean false, anything else true. */
const BOOLEAN_ENV = new Set(['STRATA_DEFAULT_POOL', 'STRATA_METRICS_PUBLIC', 'STRATA_SHELL', 'STRATA_SAN', 'STRATA_NBD', 'STRATA_NAS']);

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
    setPath(raw, path, BOOLEAN_ENV.has(name) ? !['0', 'false', 'no', 'off'].includes(value.toLowerCase()) : value);
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
