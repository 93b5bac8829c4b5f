import { randomUUID } from 'node:crypto';
import type { ObjectLiteral, Repository } from 'typeorm';
import { Conflict, InvalidArgument, NotFound, type EntityKind } from '../common/errors';
import type { ShareEntity, VolumeEntity } from './entities';

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A volume by id or name, or, for a key no volume has, the volume of the
 * online share with that id or name (`home` for `share:home`): every route
 * that takes a volume takes a share the same way. NotFound('volume') else.
 */
export async function findVolumeOrShare(volumes: Repository<VolumeEntity>, shares: Repository<ShareEntity>, key: string): Promise<{ volume: VolumeEntity; share: ShareEntity | null }> {
  const where = UUID_RE.test(key) ? { id: key } : { name: key };
  const volume = await volumes.findOne({ where });
  if (volume) return { volume, share: null };
  const share = await shares.findOne({ where });
  const backing = share && share.state === 'online' ? await volumes.findOne({ where: { id: share.volumeId } }) : null;
  if (!share || !backing) throw new NotFound('volume', key);
  return { volume: backing, share };
}

/** Names appear in URLs, CLI arguments and NBD export names: keep them plain. */
export function validateName(kind: EntityKind, name: unknown): string {
  if (typeof name !== 'string' || !NAME_RE.test(name) || UUID_RE.test(name)) {
    throw new InvalidArgument(
      `${kind} name must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit (and not look like an id)`,
      'name',
    );
  }
  return name;
}

/** Find a row by id or by name; every API path accepts either. */
export async function findByKey<T extends ObjectLiteral & { id: string; name: string }>(
  repo: Repository<T>,
  kind: EntityKind,
  key: string,
): Promise<T> {
  const row = UUID_RE.test(key)
    ? await repo.findOne({ where: { id: key } as never })
    : await repo.findOne({ where: { name: key } as never });
  if (!row) throw new NotFound(kind, key);
  return row;
}

export const newId = (): string => randomUUID();
export const now = (): string => new Date().toISOString();

/** A share's volume is the share's: say so, and where to go instead. */
export function shareVolumeError(volume: string, share: string, what: string): Conflict {
  return new Conflict('SHARE_VOLUME', `volume '${volume}' backs share '${share}' and cannot be ${what}: manage it through the share`, { volume, share });
}

/** A snapshot is managed through its volume's snapshot commands: say so. */
export function snapshotVolumeError(volume: string, what: string): Conflict {
  return new Conflict('SNAPSHOT_VOLUME', `volume '${volume}' is a snapshot and cannot be ${what}: use the snapshot commands (clone it for a writable copy)`, { volume });
}
