import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { copyFileHashed, syncDirectory } from '../common/durable-files';
import { BusyPoll } from '../common/busy-poll';
import { changedRuns } from '../virtualization/page-diff';
import { Conflict, InUse, NotFound } from '../common/errors';
import { ListenerRegistry } from '../common/listeners';
import { STRATA_CONFIG, type StrataConfig } from '../config/config';
import { MOUNT_PROGRAM, MOUNT_V3, MountStat3 } from '../protocols/mount3/constants';
import type { ExportNode, MountRes3 } from '../protocols/mount3/codec';
import { NFS_PROGRAM, NFS_V3 } from '../protocols/nfs3';
import { AuthFlavor } from '../protocols/oncrpc/constants';
import { authSys } from '../protocols/oncrpc/message';
import { AuditService } from '../storage/audit.service';
import type { Actor, ShareSnapshotRef } from '../storage/domain';
import { SnapshotService, type FrozenShare } from '../storage/snapshot.service';
import { StorageRuntime } from '../storage/runtime';
import { StatsService, type NasStatus } from '../metrics/stats.service';
import { ExportTable, type ExportEntry } from './exports/export-table';
import { encodeFileHandle } from './file-handle';
import { FileSystem, FileType, FsError, type FsStats } from './fs';
import { mount3Program, MountList } from './mount3/mount3-program';
import { emptyNfsCounters } from './nfs-counters';
import { nfs3Program } from './nfs3/nfs3-program';
import { Nfs4Server } from './nfs4/nfs4-server';
import { FileRecoveryStore } from './nfs4/recovery-store';
import { PortmapRegistrar, type PortmapMode } from './portmap/portmap-registrar';
import type { RpcContext } from './rpc/rpc-program';
import { RpcServer, type RpcAddress } from './rpc/rpc-server';
import { ShareFileSystems } from './share-filesystems';
import { installLiveMetadata, replaceLiveMetadata, sharesDir } from './share-paths';
import { shareFsckReport, type ShareFsckReport } from './share-fsck';
import { ShareView, timestampOf } from './snapshots/share-view';
import { SnapshotMounts } from './snapshots/snapshot-mounts';

/** `meta.sqlite.rollback-<snapshot volume id>`: a rollback's database, ready to go in place. */
const ROLLBACK_SUFFIX = '.rollback-';

/** A mounted share's durability work since it was mounted: metadata commits, those of them synced to disk, and data flushes, with how long they took. */
export type ShareDurability = { share: string } & Pick<FsStats, 'commits' | 'syncs' | 'flushes' | 'commitLatency' | 'flushLatency'>;

/**
 * The NAS front end: one RPC server carrying NFSv3 and MOUNT v3 on the NFS
 * port and the MOUNT port, the filesystems of the shares, and the
 * portmapper (ours on port 111 when free, else registration with the
 * system's rpcbind). Shares come and go with the ExportTable's changes.
 */
@Injectable()
export class NasService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('NAS');
  readonly filesystems: ShareFileSystems;
  /** Share snapshots being served under `/.snapshots/`, opened read-only on demand. */
  readonly snapshotMounts: SnapshotMounts;
  /** Each share as NFS sees it (live filesystem and snapshots), by export id; rebuilt when the share is remounted. */
  private readonly views = new Map<number, ShareView>();
  private readonly unregisterSnapshots: () => void;
  readonly mounts = new MountList();
  /** READ/WRITE bytes, error statuses and NFSv4.1 operations of the NFS handlers (RPC counts: stats()). */
  readonly nfsCounters = emptyNfsCounters();
  private server: RpcServer | null = null;
  private registrar: PortmapRegistrar | null = null;
  private unwatch: (() => void) | null = null;
  private nfs: RpcAddress | null = null;
  private mount: RpcAddress | null = null;
  private portmapMode: PortmapMode | 'off' = 'off';
  /** NFSv4.1: sessions, clients and open/lock state, beside NFSv3 on the same program and port. */
  nfs4: Nfs4Server | null = null;
  private listenError: string | null = null;

  constructor(
    @Inject(STRATA_CONFIG) private readonly config: StrataConfig,
    private readonly table: ExportTable,
    private readonly runtime: StorageRuntime,
    private readonly listeners: ListenerRegistry,
    private readonly audit: AuditService,
    stats: StatsService,
    snapshots: SnapshotService,
  ) {
    this.filesystems = new ShareFileSystems(sharesDir(config.dataDir), (id) => runtime.disk(id), this.log);
    this.snapshotMounts = new SnapshotMounts(sharesDir(config.dataDir), (id) => runtime.disk(id));
    stats.setNasStatus(() => this.status());
    this.unregisterSnapshots = snapshots.registerShareHook({
      freeze: (share) => this.freeze(share),
      rollback: (share, snapshotId, opts, swapVolume) => this.rollback(share, snapshotId, opts, swapVolume),
      cloneMetadata: (from, snapshotId, to) => installLiveMetadata(sharesDir(config.dataDir), to, this.snapshotMounts.metaPath(from, snapshotId)),
      dropped: (share, snapshotId) => this.snapshotMounts.drop(share.id, snapshotId),
    });
  }

  /**
   * A share snapshot's half on the NAS side: hold the share's filesystem
   * still (changes in flight finish, new ones wait; data and metadata
   * committed, the volume flushed) while the storage manager copies the
   * volume's map, and copy the metadata database at that same instant.
   */
  private async freeze(share: { id: string; name: string }): Promise<FrozenShare> {
    const entry = this.table.byShareId(share.id);
    if (entry) await this.filesystems.settled(entry.exportId);
    const fs = entry ? this.filesystems.get(entry.exportId) : undefined;
    if (!entry || !fs) {
      const why = entry ? this.filesystems.failures().find((f) => f.exportId === entry.exportId)?.reason : undefined;
      const reason = !this.config.nas.enabled ? 'the NAS front end is disabled (nas.enabled is false)' : (why ?? 'its filesystem is not mounted');
      throw new Conflict('SHARE_NOT_SERVED', `share '${share.name}' cannot be snapshotted: ${reason}`, { share: share.name });
    }
    const q = await fs.quiesce();
    return {
      copyMetadata: async (snapshotId) => {
        this.snapshotMounts.prepare(share.id);
        fs.copyMetadata(this.snapshotMounts.metaPath(share.id, snapshotId));
      },
      discard: (snapshotId) => this.snapshotMounts.drop(share.id, snapshotId),
      release: () => q.release(),
    };
  }

  /**
   * Rollback's half on the NAS side: with the filesystem closed (calls are
   * told to retry meanwhile), the volume takes the snapshot's map and the
   * snapshot's metadata copy becomes the live database; then it opens again.
   */
  private async rollback(share: { id: string; name: string }, snapshotId: string, opts: { force: boolean }, swapVolume: () => Promise<void>): Promise<void> {
    const entry = this.table.byShareId(share.id);
    if (!entry) throw new Conflict('SHARE_NOT_SERVED', `share '${share.name}' cannot be rolled back: it is not served`, { share: share.name });
    const clients = this.mounts.list().filter((m) => m.ml_directory === entry.path || m.ml_directory.startsWith(`${entry.path}/`));
    if (clients.length > 0 && !opts.force) {
      throw new InUse('share', share.name, `client(s) ${[...new Set(clients.map((c) => c.ml_hostname))].join(', ')} (unmount it there first, or roll back with force: their file handles become stale)`);
    }
    const copy = this.snapshotMounts.metaPath(share.id, snapshotId);
    this.snapshotMounts.closeShare(entry.snapshots.map((x) => x.volumeId));
    this.views.delete(entry.exportId);
    await this.filesystems.swap(entry, async () => {
      // The snapshot's database, made ready beside the live one under a name that says which snapshot it is:
      // a crash from here on is settled at the next boot (finishRollbacks) by whether the volume was swapped.
      const live = this.filesystems.metaPath(share.id);
      const next = `${live}${ROLLBACK_SUFFIX}${snapshotId}`;
      await copyFileHashed(copy, next);
      FileSystem.carryGenerations(live, next);
      await syncDirectory(dirname(live));
      try {
        await swapVolume();
      } catch (e) {
        await rm(next, { force: true });
        throw e;
      }
      await replaceLiveMetadata(next, live);
    });
  }

  /**
   * A rollback cut off by a crash left `meta.sqlite.rollback-<snapshot>`:
   * if the volume already reads as that snapshot, its database goes in
   * place (the rollback happened); otherwise it goes away (it did not).
   */
  private async finishRollbacks(e: ExportEntry): Promise<void> {
    const live = this.filesystems.metaPath(e.shareId);
    let names: string[];
    try {
      names = readdirSync(dirname(live));
    } catch {
      return;
    }
    for (const name of names) {
      if (!name.startsWith(`meta.sqlite${ROLLBACK_SUFFIX}`)) continue;
      const next = join(dirname(live), name);
      const snapshotId = name.slice(`meta.sqlite${ROLLBACK_SUFFIX}`.length);
      const disk = this.runtime.disks.get(e.volumeId);
      const snap = this.runtime.disks.get(snapshotId);
      if (disk && snap && changedRuns(snap, disk).length === 0) {
        this.log.warn(`share '${e.name}': finishing its rollback to snapshot ${snapshotId}, cut off by a restart`);
        await replaceLiveMetadata(next, live);
      } else {
        this.log.warn(`share '${e.name}': a rollback to snapshot ${snapshotId} was cut off before its volume was rolled back; the share stays as it was`);
        await rm(next, { force: true });
      }
    }
  }

  /** The share as NFS serves it: its live filesystem with `/.snapshots`; undefined while the filesystem is not mounted. */
  view(exportId: number): ShareView | undefined {
    const live = this.filesystems.get(exportId);
    if (!live) return undefined;
    const known = this.views.get(exportId);
    if (known && known.live === live) return known;
    const entry = this.table.byExportId(exportId);
    if (!entry) return undefined;
    const shareId = entry.shareId;
    const view = new ShareView(
      live,
      {
        list: () => this.table.byExportId(exportId)?.snapshots ?? [],
        open: (ref: ShareSnapshotRef) => this.snapshotMounts.open(shareId, ref),
      },
      timestampOf(entry.share.createdAt),
    );
    this.views.set(exportId, view);
    return view;
  }

  /** For GET /api/v1/stats: where NFS and MOUNT listen and how clients find them, or why not. */
  status(): NasStatus {
    const c = this.config.nas;
    if (!c.enabled) return { available: false, reason: 'the NAS front end is disabled (nas.enabled is false)' };
    if (!this.nfs) return { available: false, reason: this.listenError ? `NFS cannot listen: ${this.listenError}` : 'the NFS server is not listening (yet)' };
    const at = (a: RpcAddress) => `tcp ${a.host}:${a.port}`;
    const mode = this.portmapMode;
    return {
      available: true,
      address: at(this.nfs),
      nfs: at(this.nfs),
      mount: this.mount ? at(this.mount) : null,
      portmap: mode === 'own' || mode === 'system' ? { mode, port: c.portmapPort } : { mode },
    };
  }

  /** Where NFS and MOUNT listen, once they do (tests bind port 0). */
  addresses(): { nfs: RpcAddress | null; mount: RpcAddress | null; portmap: PortmapMode | 'off' } {
    return { nfs: this.nfs, mount: this.mount, portmap: this.portmapMode };
  }

  stats(): RpcServer['stats'] | null {
    return this.server?.stats ?? null;
  }

  /** Durability work of each mounted share's filesystem since it was mounted. */
  filesystemStats(): ShareDurability[] {
    const out: ShareDurability[] = [];
    for (const entry of this.table.list()) {
      const s = this.filesystems.get(entry.exportId)?.stats();
      if (!s) continue;
      const { commits, syncs, flushes, commitLatency, flushLatency } = s;
      out.push({ share: entry.name, commits, syncs, flushes, commitLatency, flushLatency });
    }
    return out;
  }

  /**
   * `strata share fsck`: check a share's mounted filesystem (changes wait
   * while it runs; reads go on), audited as share.fsck with the outcome.
   * `key` is the share's id or name.
   */
  async fsck(actor: Actor, key: string, opts: { snapshot?: string } = {}): Promise<ShareFsckReport> {
    const entry = this.table.byShareId(key) ?? this.table.byShareName(key);
    const object = { type: 'share', id: entry?.shareId ?? null, name: entry?.name ?? key };
    try {
      if (!entry) throw new NotFound('share', key);
      if (opts.snapshot !== undefined) {
        // A snapshot's metadata copy is never written: checked as an unmounted filesystem, whatever serves it meanwhile.
        const ref = entry.snapshots.find((s) => s.name === opts.snapshot || s.volumeId === opts.snapshot);
        if (!ref) throw new NotFound('snapshot', `${entry.name}@${opts.snapshot}`);
        const report = { ...shareFsckReport(entry, FileSystem.fsck(this.snapshotMounts.metaPath(entry.shareId, ref.volumeId))), snapshot: ref.name };
        await this.audit.record(actor, 'share.fsck', object, 'success', { detail: { snapshot: ref.name, clean: report.clean, problems: report.problems.length, byKind: report.byKind } });
        return report;
      }
      const fs = this.filesystems.get(entry.exportId);
      if (!fs) {
        const why = this.filesystems.failures().find((f) => f.exportId === entry.exportId)?.reason ?? (this.config.nas.enabled ? 'its filesystem is not mounted yet' : 'the NAS front end is disabled (nas.enabled is false)');
        throw new Conflict('SHARE_NOT_SERVED', `share '${entry.name}' cannot be checked: ${why}`, { share: entry.name });
      }
      const report = shareFsckReport(entry, await fs.fsck());
      await this.audit.record(actor, 'share.fsck', object, 'success', { detail: { clean: report.clean, problems: report.problems.length, byKind: report.byKind } });
      if (!report.clean) this.log.warn(`fsck of share '${entry.name}' found ${report.problems.length} problem(s): ${JSON.stringify(report.byKind)}`);
      return report;
    } catch (e) {
      await this.audit
        .record(actor, 'share.fsck', object, 'failure', { errorCode: (e as { code?: string }).code ?? 'INTERNAL', detail: { message: (e as Error).message } })
        .catch(() => undefined);
      throw e;
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    const c = this.config.nas;
    if (!c.enabled) {
      this.log.log('NAS front end disabled (nas.enabled is false)');
      return;
    }
    this.removeLeftovers();
    for (const e of this.table.list()) {
      for (const name of this.snapshotMounts.removeLeftovers(e.shareId, e.snapshots)) this.log.warn(`share '${e.name}': removed ${name}, the metadata copy of a snapshot that does not exist`);
    }
    for (const e of this.table.list()) await this.finishRollbacks(e);
    await Promise.all(this.table.list().map((e) => this.filesystems.mount(e)));
    const shares = this.nfsShares();
    this.nfs4 = new Nfs4Server({
      shares: { ...shares, list: () => this.table.list(), byShareName: (name) => this.table.byShareName(name) },
      store: new FileRecoveryStore(join(this.config.dataDir, 'nfs4', 'clients.json')),
      counters: this.nfsCounters,
    });
    this.unwatch = this.table.watch((change) => {
      this.nfs4?.exportChanged(change);
      if (change.kind === 'removed') {
        this.views.delete(change.entry.exportId);
        this.snapshotMounts.closeShare(change.entry.snapshots.map((x) => x.volumeId));
        if (change.kept) void this.filesystems.unmount(change.entry);
        else void this.filesystems.remove(change.entry);
      }
      // The engine sizes its allocator when it opens: a grown share is opened again to use the new space.
      else if (change.kind === 'updated' && change.previous && change.previous.size !== change.entry.size) void this.filesystems.remount(change.entry);
      else if (change.kind === 'updated' && change.previous && change.previous.share.sync !== change.entry.share.sync) {
        this.filesystems.applySync(change.entry).catch((e: Error) => this.log.error(`share '${change.entry.name}': switching sync/async failed: ${e.message}`));
      } else void this.filesystems.mount(change.entry);
    });

    const nfs = nfs3Program(shares, this.nfsCounters);
    this.server = new RpcServer([{ ...nfs, versions: { ...nfs.versions, 4: this.nfs4.version() } }, mount3Program(this.mountExports(), this.mounts)], { log: this.rpcLog(), busyPoll: new BusyPoll(c.busyPollMicros) });
    try {
      this.nfs = await this.server.listen(c.nfsPort, c.host);
      this.listeners.listening('nfs', `tcp ${this.nfs.host}:${this.nfs.port}`, 'NFSv3, NFSv4.1 and MOUNT v3');
    } catch (e) {
      this.listenError = `tcp ${c.host}:${c.nfsPort}: ${(e as Error).message}`;
      this.listeners.failed('nfs', `cannot listen on tcp ${c.host}:${c.nfsPort}: ${(e as Error).message}`);
      this.log.error(`NFS cannot listen on tcp ${c.host}:${c.nfsPort}: ${(e as Error).message}`);
      return;
    }
    try {
      this.mount = await this.server.listen(c.mountPort, c.host);
      this.listeners.listening('mount', `tcp ${this.mount.host}:${this.mount.port}`, 'MOUNT v3');
    } catch (e) {
      this.listeners.failed('mount', `cannot listen on tcp ${c.host}:${c.mountPort}: ${(e as Error).message}`);
      this.log.error(`MOUNT cannot listen on tcp ${c.host}:${c.mountPort}: ${(e as Error).message}`);
    }
    await this.startPortmap();
    this.log.log(`NFSv3 and NFSv4.1 listening on tcp ${c.host}:${this.nfs.port}, MOUNT v3 on ${this.mount ? this.mount.port : '(none)'}, portmapper: ${this.portmapMode}; ${this.table.size} share(s)`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.unwatch?.();
    this.unregisterSnapshots();
    await this.registrar?.close().catch(() => undefined);
    await this.server?.close();
    this.nfs4?.close();
    this.snapshotMounts.closeAll();
    this.views.clear();
    await this.filesystems.closeAll();
    for (const name of ['nfs', 'mount', 'portmap']) this.listeners.closed(name);
    this.server = null;
    this.nfs = null;
    this.mount = null;
  }

  private async startPortmap(): Promise<void> {
    const c = this.config.nas;
    if (c.portmap === 'off' || !this.nfs) return;
    const services = [
      { prog: NFS_PROGRAM, vers: NFS_V3, protocol: 'tcp' as const, port: this.nfs.port },
      { prog: NFS_PROGRAM, vers: 4, protocol: 'tcp' as const, port: this.nfs.port },
      ...(this.mount ? [{ prog: MOUNT_PROGRAM, vers: MOUNT_V3, protocol: 'tcp' as const, port: this.mount.port }] : []),
    ];
    this.registrar = new PortmapRegistrar({ port: c.portmapPort, host: c.host, log: this.rpcLog() });
    try {
      this.portmapMode = await this.registrar.start(services);
    } catch (e) {
      this.portmapMode = 'none';
      this.log.warn(`portmapper: ${(e as Error).message}`);
    }
    if (c.portmap === 'own' && this.portmapMode !== 'own') this.listeners.failed('portmap', `port ${c.portmapPort} is taken (nas.portmap is own)`);
    else if (this.portmapMode === 'own') this.listeners.listening('portmap', `tcp ${c.host}:${c.portmapPort}`, 'portmapper v2, rpcbind v3/v4');
    else if (this.portmapMode === 'system') this.listeners.listening('portmap', `system rpcbind on port ${c.portmapPort}`, 'registered NFS and MOUNT');
    else if (c.portmap === 'own') this.listeners.failed('portmap', `no portmapper on port ${c.portmapPort} (mode ${c.portmap})`);
    else this.log.warn(`no portmapper: clients must name the ports (nfsport=${this.nfs.port}, mountport=${this.mount?.port ?? '?'})`);
  }

  /** Metadata of shares deleted while the gateway was down. */
  private removeLeftovers(): void {
    const dir = join(this.config.dataDir, 'shares');
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (this.table.byShareId(name)) continue;
      this.log.warn(`removing the metadata of share ${name}, which no longer exists`);
      this.filesystems.removeMetadata(name);
    }
  }

  private rpcLog() {
    return { debug: (m: string) => this.log.debug(m), warn: (m: string) => this.log.warn(m), error: (m: string, e?: unknown) => this.log.error(e instanceof Error ? `${m}: ${e.stack}` : m) };
  }

  private credentialOf(ctx: RpcContext): { uid: number; gid: number; gids: readonly number[] } | null {
    const sys = authSys(ctx.cred);
    return sys ? { uid: sys.uid, gid: sys.gid, gids: sys.gids } : null;
  }

  private nfsShares() {
    return {
      byExportId: (id: number) => this.table.byExportId(id),
      decide: (id: number, client: { address: string; port: number }, cred: { uid: number; gid: number; gids: readonly number[] } | null) => this.table.decide(id, client, cred),
      filesystem: (id: number) => this.view(id),
      opening: (id: number) => this.filesystems.opening(id),
      fault: (err: unknown, what: string) => this.log.error(`${what}: ${(err as Error)?.stack ?? String(err)}`),
    };
  }

  private mountExports() {
    return {
      resolveExport: (path: string, ctx: RpcContext): MountRes3 => {
        const found = this.table.resolve(path);
        if (!found) return { fhs_status: MountStat3.MNT3ERR_NOENT };
        const { entry, subpath } = found;
        const decision = this.table.decide(entry.exportId, { address: ctx.remoteAddress, port: ctx.remotePort }, this.credentialOf(ctx));
        if (!decision.allowed) {
          this.log.warn(`MOUNT of ${path} refused for ${ctx.remoteAddress}:${ctx.remotePort}: ${decision.reason}`);
          return { fhs_status: MountStat3.MNT3ERR_ACCES };
        }
        // Through the view, so a snapshot (`/<share>/.snapshots/<name>`) can be mounted as well.
        const fs = this.view(entry.exportId);
        if (!fs) return { fhs_status: MountStat3.MNT3ERR_IO };
        let node = fs.root;
        try {
          for (const name of subpath) {
            const r = fs.lookup(decision.credential, node, name);
            if (r.attr.type !== FileType.DIR) return { fhs_status: MountStat3.MNT3ERR_NOTDIR };
            node = r.node;
          }
        } catch (e) {
          if (e instanceof FsError) return { fhs_status: e.code === 'NOENT' ? MountStat3.MNT3ERR_NOENT : e.code === 'ACCES' ? MountStat3.MNT3ERR_ACCES : MountStat3.MNT3ERR_IO };
          throw e;
        }
        return { fhs_status: MountStat3.MNT3_OK, fhandle: encodeFileHandle({ exportId: entry.exportId, snapshotId: node.snap ?? 0, ino: node.ino, generation: node.gen }, entry.secretKey), auth_flavors: [AuthFlavor.AUTH_SYS] };
      },
      exports: (): ExportNode[] => this.table.list().map((e: ExportEntry) => ({ ex_dir: e.path, ex_groups: e.share.rules.flatMap((r) => r.clients) })),
    };
  }
}
