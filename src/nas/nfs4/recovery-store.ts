import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RecoveryStore } from './client-table';

/**
 * The client owners that hold state, in a small JSON file rewritten atomically on each change (RFC 8881
 * section 8.4.3: what lets a restarted server tell a reclaim it must honour from one it must refuse).
 */
export class FileRecoveryStore implements RecoveryStore {
  constructor(private readonly path: string) {}

  load(): string[] {
    try {
      const v = JSON.parse(readFileSync(this.path, 'utf8')) as unknown;
      return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && /^[0-9a-f]*$/.test(x)) : [];
    } catch {
      return [];
    }
  }

  save(owners: string[]): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify(owners));
    renameSync(tmp, this.path);
  }
}
