import { createHash } from 'node:crypto';
import { NasService } from '../../src/nas/nas.service';
import type { TestGateway } from './gateway';
import type { Nfs3Client } from './nfs3-client';
import { admin } from './san-fixture';

/** The NFS and MOUNT ports of an in-process test gateway (it binds port 0 and runs no portmapper). */
export function nasPorts(gw: TestGateway): { nfs: number; mount: number } {
  const a = gw.app.get(NasService).addresses();
  if (!a.nfs || !a.mount) throw new Error('the NAS front end is not listening');
  return { nfs: a.nfs.port, mount: a.mount.port };
}

export interface RuleSpec {
  clients?: string[];
  access?: 'rw' | 'ro';
  squash?: 'root_squash' | 'all_squash' | 'no_root_squash';
  anonUid?: number;
  anonGid?: number;
  requirePrivilegedPort?: boolean;
}

/** Loopback, read-write, no squashing, any source port: what libnfs tools run as any user need. */
export const OPEN_RULE: Required<Pick<RuleSpec, 'clients' | 'access' | 'squash' | 'requirePrivilegedPort'>> = {
  clients: ['127.0.0.0/8', '::1/128'],
  access: 'rw',
  squash: 'no_root_squash',
  requirePrivilegedPort: false,
};

/** Create a share with one rule (OPEN_RULE, changed by `rule`) in the default pool. */
export async function createShare(gw: TestGateway, name: string, rule: RuleSpec = {}, size = '64M'): Promise<Record<string, unknown>> {
  return admin(gw, 'POST', 'shares', { name, pool: 'default', size, rules: [{ ...OPEN_RULE, ...rule }] });
}

/** Change the share's first rule; the NAS layer applies it to the next call. */
export async function setRule(gw: TestGateway, share: string, rule: RuleSpec): Promise<void> {
  await admin(gw, 'PATCH', `shares/${share}/rules/1`, rule);
}

/** Every regular file under `dir` (directories walked, `.snapshots` left out), path → SHA-256 of its contents. */
export async function fileHashes(c: Nfs3Client, dir: Buffer, prefix = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of await c.readdirNames(dir)) {
    if (name === '.' || name === '..' || name === '.snapshots') continue;
    const { fh, attr } = await c.lookup(dir, name);
    if (attr.type === 2) Object.assign(out, await fileHashes(c, fh, `${prefix}${name}/`));
    else out[`${prefix}${name}`] = createHash('sha256').update(await c.readAll(fh)).digest('hex');
  }
  return out;
}
