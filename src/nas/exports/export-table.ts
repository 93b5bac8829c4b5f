import type { ShareExport, ShareInfo, ShareSnapshotRef } from '../../storage/domain';
import type { StorageEventMap, StorageEvents } from '../../storage/events';
import { CompiledExportRules, type ExportClient, type ExportDecision, type UnixCredential } from './export-rules';

/** One exported share as the NAS data path sees it. */
export interface ExportEntry {
  shareId: string;
  name: string;
  /** The MOUNT path: `/<name>`. */
  path: string;
  /** In every file handle of the share. */
  exportId: number;
  /** The key of the file handles' MAC (32 bytes). */
  secretKey: Buffer;
  /** The share's thin volume: StorageRuntime.disk(volumeId) is its LogicalDisk. */
  volumeId: string;
  size: number;
  share: ShareInfo;
  /** Its snapshots, oldest first: served read-only under `/.snapshots/<name>/`. */
  snapshots: ShareSnapshotRef[];
  rules: CompiledExportRules;
  /** Set when the stored rules could not be compiled: the share then admits nobody, and this says why. */
  ruleError?: string;
}

export type ExportChange =
  | { kind: 'added' | 'updated'; entry: ExportEntry; previous?: ExportEntry }
  /** `kept`: the share is still there but not served (a replica, a restore): its files stay, its filesystem closes. */
  | { kind: 'removed'; entry: ExportEntry; kept?: boolean };

/**
 * The shares and their export rules, in memory, for the NFS and MOUNT
 * handlers: loaded once (ShareService.exports()), then kept current by the
 * storage manager's share events, so no call on the data path queries the
 * catalog. A share being deleted leaves the table before its volume goes.
 */
export class ExportTable {
  private readonly byId = new Map<string, ExportEntry>();
  private readonly byExport = new Map<number, ExportEntry>();
  private readonly byName = new Map<string, ExportEntry>();
  private readonly watchers = new Set<(change: ExportChange) => void>();
  private readonly handlers: { [K in keyof StorageEventMap]?: (...args: StorageEventMap[K]) => void } = {
    'share.created': (e) => this.put(e),
    'share.updated': (e) => this.put(e),
    'share.rules.changed': (e) => this.put(e),
    'share.snapshots.changed': (e) => this.put(e),
    'share.deleting': (s) => this.remove(s.id),
    'share.deleted': (s) => this.remove(s.id),
  };

  constructor(exports: readonly ShareExport[] = []) {
    for (const e of exports) this.put(e);
  }

  /** Follow the storage manager's changes until detach(). */
  attach(events: StorageEvents): void {
    for (const [name, fn] of Object.entries(this.handlers)) events.on(name as keyof StorageEventMap, fn as never);
  }

  detach(events: StorageEvents): void {
    for (const [name, fn] of Object.entries(this.handlers)) events.off(name as keyof StorageEventMap, fn as never);
  }

  /** Be told of every change after it is applied (mount bookkeeping, cached handles); returns the unsubscribe. */
  watch(fn: (change: ExportChange) => void): () => void {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  }

  get size(): number {
    return this.byId.size;
  }

  /** Every export, by name (MOUNT's EXPORT procedure). */
  list(): ExportEntry[] {
    return [...this.byId.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  byExportId(exportId: number): ExportEntry | undefined {
    return this.byExport.get(exportId);
  }

  byShareId(shareId: string): ExportEntry | undefined {
    return this.byId.get(shareId);
  }

  byShareName(name: string): ExportEntry | undefined {
    return this.byName.get(name);
  }

  /**
   * The export a MOUNT dirpath names, and the path below it: `/home` →
   * (home, []), `/home/alice/docs/` → (home, ['alice', 'docs']). Undefined
   * when no share has that name; `.` and `..` components are refused.
   */
  resolve(dirpath: string): { entry: ExportEntry; subpath: string[] } | undefined {
    if (!dirpath.startsWith('/')) return undefined;
    const parts = dirpath.split('/').filter((p) => p !== '');
    if (parts.length === 0 || parts.some((p) => p === '.' || p === '..')) return undefined;
    const entry = this.byName.get(parts[0]);
    return entry ? { entry, subpath: parts.slice(1) } : undefined;
  }

  /**
   * May this caller use this export, how, and as whom. `credential` null is
   * AUTH_NONE. An unknown export id is refused like a client outside the
   * rules (the NFS layer answers STALE for a handle whose export is gone).
   */
  decide(exportId: number, client: ExportClient, credential: UnixCredential | null): ExportDecision {
    const entry = this.byExport.get(exportId);
    if (!entry) return { allowed: false, code: 'NO_MATCH', rule: null, reason: `no share has export id ${exportId}` };
    if (entry.ruleError) return { allowed: false, code: 'NO_RULES', rule: null, reason: entry.ruleError };
    return entry.rules.decide(client, credential);
  }

  private put(e: ShareExport): void {
    const s = e.share;
    if (e.served === false) {
      this.remove(s.id, true);
      return;
    }
    let rules: CompiledExportRules;
    let ruleError: string | undefined;
    try {
      rules = new CompiledExportRules(s.rules);
    } catch (err) {
      // The catalog only holds validated rules; if one is unreadable anyway, refuse everyone rather than guess.
      rules = new CompiledExportRules([]);
      ruleError = `the export rules of share '${s.name}' are unreadable: ${(err as Error).message}`;
    }
    const entry: ExportEntry = {
      shareId: s.id,
      name: s.name,
      path: s.path,
      exportId: s.exportId,
      secretKey: e.secretKey,
      volumeId: s.volumeId,
      size: s.size,
      share: s,
      snapshots: e.snapshots ?? [],
      rules,
      ...(ruleError ? { ruleError } : {}),
    };
    const previous = this.byId.get(s.id);
    if (previous) {
      this.byName.delete(previous.name);
      this.byExport.delete(previous.exportId);
    }
    this.byId.set(s.id, entry);
    this.byName.set(s.name, entry);
    this.byExport.set(s.exportId, entry);
    this.notify(previous ? { kind: 'updated', entry, previous } : { kind: 'added', entry });
  }

  private remove(shareId: string, kept = false): void {
    const entry = this.byId.get(shareId);
    if (!entry) return;
    this.byId.delete(shareId);
    this.byName.delete(entry.name);
    this.byExport.delete(entry.exportId);
    this.notify(kept ? { kind: 'removed', entry, kept } : { kind: 'removed', entry });
  }

  private notify(change: ExportChange): void {
    for (const fn of this.watchers) fn(change);
  }
}
