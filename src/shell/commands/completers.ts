import type { Completer } from './command';

/** Names of the objects a command argument refers to, read fresh from the services at each Tab. */
export const names = {
  device: async (s) => (await s.devices.list()).map((d) => d.name),
  pool: async (s) => (await s.pools.list()).map((p) => p.name),
  volume: async (s) => (await s.volumes.list()).map((v) => v.name),
  share: async (s) => (await s.shares.list()).map((sh) => sh.name),
  /** The snapshots of the volume named by the argument before. */
  snapshot: async (s, [volume]) => (volume ? (await s.snapshots.list(volume)).map((x) => x.name) : []),
  /** The rule positions of the share named by the argument before. */
  rule: async (s, [share]) => (share ? (await s.shares.listRules(share)).map((r) => String(r.position)) : []),
  host: async (s) => (await s.hosts.list()).map((h) => h.name),
  job: async (s) => (await s.jobs.list()).map((j) => j.id),
  backup: async (s) => (await s.backups.list()).map((b) => b.id),
  backupTarget: async (s) => (await s.backups.listTargets()).map((t) => t.name),
  assignment: async (s) => (await s.assignments.list()).map((a) => a.id),
  user: async (s) => (await s.auth.listUsers()).map((u) => u.username),
  /** The key ids of the admin named by the argument before. */
  key: async (s, [user]) => (user ? (await s.auth.listKeys(user)).map((k) => k.id) : []),
} satisfies Record<string, Completer>;

export const oneOf =
  (...values: string[]): Completer =>
  async () =>
    values;
