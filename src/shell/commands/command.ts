import type { ListenerRegistry } from '../../common/listeners';
import type { JobService } from '../../jobs/job.service';
import type { BackupService } from '../../services/backup/backup.service';
import type { MirrorSyncService } from '../../services/mirror-sync.service';
import type { ReplicationService } from '../../services/replication.service';
import type { ReplicaService } from '../../storage/replica.service';
import type { NasService } from '../../nas/nas.service';
import type { AssignmentService } from '../../storage/assignment.service';
import type { AuditService } from '../../storage/audit.service';
import type { AuthService } from '../../storage/auth.service';
import type { DeviceService } from '../../storage/device.service';
import type { Actor } from '../../storage/domain';
import type { HostService } from '../../storage/host.service';
import type { PoolService } from '../../storage/pool.service';
import type { ShareService } from '../../storage/share.service';
import type { ConsistencyGroupService } from '../../storage/consistency-group.service';
import type { SnapshotScheduleService } from '../../storage/snapshot-schedule.service';
import type { SnapshotService } from '../../storage/snapshot.service';
import type { StorageRuntime } from '../../storage/runtime';
import type { VolumeService } from '../../storage/volume.service';

/** What shell commands work on: the storage manager's services, as the REST API sees them. */
export interface ShellServices {
  devices: DeviceService;
  pools: PoolService;
  volumes: VolumeService;
  shares: ShareService;
  snapshots: SnapshotService;
  groups: ConsistencyGroupService;
  schedules: SnapshotScheduleService;
  hosts: HostService;
  assignments: AssignmentService;
  audit: AuditService;
  auth: AuthService;
  runtime: StorageRuntime;
  listeners: ListenerRegistry;
  /** The NAS front end (share fsck). */
  nas: NasService;
  jobs: JobService;
  mirrors: MirrorSyncService;
  replications: ReplicationService;
  replicas: ReplicaService;
  backups: BackupService;
}

export const SHELL_SERVICES = Symbol('SHELL_SERVICES');

/** Words tab completion offers for an argument or an option value; `earlier` holds the arguments before it. */
export type Completer = (services: ShellServices, earlier: string[]) => Promise<string[]>;

export interface ArgSpec {
  name: string;
  optional?: boolean;
  complete?: Completer;
}

export interface OptionSpec {
  /** Without the dashes: `pool` for --pool. */
  name: string;
  /** The value's placeholder (`size` shows as --size <size>); a flag has none. */
  value?: string;
  help: string;
  required?: boolean;
  /** May be given several times (--member a --member b). */
  repeat?: boolean;
  complete?: Completer;
}

/** What a command needs from the session it runs in. */
export interface CommandContext {
  services: ShellServices;
  /** The admin logged in, and `ssh:<address>`: every change is audited under it. */
  actor: Actor;
  /** A terminal (pty) is attached: questions can be asked and answered there. */
  terminal: boolean;
  /**
   * Read a line from the admin: on a terminal after showing `question`
   * (echoing nothing when secret), otherwise the next line of stdin.
   * Null when cancelled (Ctrl-C) or the input ended.
   */
  ask(question: string, opts?: { secret?: boolean }): Promise<string | null>;
}

export interface Output {
  /** What --json prints; nothing when absent (a delete has nothing to show). */
  data?: unknown;
  /** What a person reads. */
  text: string;
  /** Exit status when not 0: a command can succeed and still report a problem (pool check). */
  status?: number;
  /** End the session (exit, quit). */
  leave?: boolean;
}

/** A command line matched to a command: its arguments by name, its options, and the global switches. */
export class Parsed {
  constructor(
    private readonly args: Map<string, string>,
    private readonly values: Map<string, string[]>,
    private readonly flags: Set<string>,
    readonly json: boolean,
    readonly yes: boolean,
  ) {}

  /** A required argument (the parser has checked it is there). */
  arg(name: string): string {
    return this.args.get(name)!;
  }

  optionalArg(name: string): string | undefined {
    return this.args.get(name);
  }

  opt(name: string): string | undefined {
    return this.values.get(name)?.[0];
  }

  all(name: string): string[] {
    return this.values.get(name) ?? [];
  }

  flag(name: string): boolean {
    return this.flags.has(name);
  }
}

/**
 * One entry of the command table: `volume create`, `user key add`, `status`.
 * `sub` may be two words. Help, parsing, completion and confirmation all
 * come from these fields; `run` only does the work.
 */
export interface CommandSpec {
  name: string;
  sub?: string;
  summary: string;
  args?: ArgSpec[];
  options?: OptionSpec[];
  /** Destructive: what will be done ("delete volume 'v1' and everything on it"), confirmed unless --yes; '' when this line needs no confirmation. */
  confirm?: (p: Parsed) => string;
  run(ctx: CommandContext, p: Parsed): Promise<Output>;
}

/** The words that name a command: ['user', 'key', 'add']. */
export const wordsOf = (spec: CommandSpec): string[] => [spec.name, ...(spec.sub ? spec.sub.split(' ') : [])];
