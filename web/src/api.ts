/**
 * The console's only way to the gateway: the REST API under /api/v1, same
 * origin, with the bearer token from POST /auth/login kept in sessionStorage
 * (one tab, gone when the tab closes). Every failure becomes an ApiError with
 * the API's stable code and its message for people; a 401 on any call ends
 * the session, which sends the app back to its login page.
 */
import type {
  AssignmentInfo,
  BackupInfo,
  BackupTargetInfo,
  CreateBackupBody,
  CreateBackupTargetBody,
  AuditEntry,
  AuditFilter,
  ConsistencyGroupInfo,
  CreateAssignmentBody,
  CreateDeviceBody,
  CreateHostBody,
  HostSecurity,
  CreatePoolBody,
  CreateReplicationBody,
  CreateScheduleBody,
  CreateShareBody,
  CreateVolumeBody,
  DeviceInfo,
  ExportRuleBody,
  ExportRuleInfo,
  HostInfo,
  JobInfo,
  MirrorStatus,
  PoolInfo,
  ReplicationIdentity,
  ReplicationInfo,
  ReplicationView,
  Session,
  ShareFsckReport,
  ShareInfo,
  SizeValue,
  SnapshotInfo,
  SnapshotScheduleInfo,
  StartedBackup,
  StartedRestore,
  VolumeInfo,
} from './types';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const SESSION_EXPIRED = 'Your session expired, log in again';

const STORAGE_KEY = 'strata.session';

// ---- session store ------------------------------------------------------

export interface SessionState {
  session: Session | null;
  /** Why the login page is showing, when it is not the first visit. */
  notice: string | null;
}

function readStored(): Session | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    return typeof s.token === 'string' && Date.parse(s.expiresAt) > Date.now() ? s : null;
  } catch {
    return null;
  }
}

let state: SessionState = { session: readStored(), notice: null };
const listeners = new Set<() => void>();

function setState(next: SessionState): void {
  state = next;
  if (next.session) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(next.session));
  else sessionStorage.removeItem(STORAGE_KEY);
  listeners.forEach((l) => l());
}

export const sessionStore = {
  get: (): SessionState => state,
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  /** The token stopped working (or ran out): back to the login page with a reason. */
  expire(notice = SESSION_EXPIRED): void {
    if (state.session) setState({ session: null, notice });
  },
};

// ---- transport ----------------------------------------------------------

type Query = Record<string, string | number | boolean | undefined>;

export function apiUrl(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return `/api/v1/${path}${qs ? `?${qs}` : ''}`;
}

/** Path segments are ids or names; names may hold characters a URL gives meaning to. */
const seg = (key: string) => encodeURIComponent(key);

/** The API's error body, or something as close to it as a broken reply allows. */
export function errorFrom(status: number, text: string, statusText = ''): ApiError {
  try {
    const body = JSON.parse(text) as { code?: unknown; message?: unknown; details?: unknown };
    if (typeof body.code === 'string' && typeof body.message === 'string') {
      const details = typeof body.details === 'object' && body.details !== null ? (body.details as Record<string, unknown>) : undefined;
      return new ApiError(status, body.code, body.message, details);
    }
  } catch {
    // Not JSON: a proxy's error page, say; report the status instead.
  }
  return new ApiError(status, `HTTP_${status}`, `the gateway answered ${status}${statusText ? ` ${statusText}` : ''}`);
}

const networkError = (e: unknown) =>
  new ApiError(0, 'NETWORK', `cannot reach the gateway: ${e instanceof Error ? e.message : String(e)}`);

function authHeader(): Record<string, string> {
  const s = state.session;
  return s ? { authorization: `Bearer ${s.token}` } : {};
}

/** A 401 on a call made with a token means the token is no good any more. */
function checkAuth(status: number, hadToken: boolean): void {
  if (status === 401 && hadToken) sessionStore.expire();
}

interface RequestOptions {
  query?: Query;
  json?: unknown;
  signal?: AbortSignal;
}

async function send(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json', ...authHeader() };
  if (opts.json !== undefined) headers['content-type'] = 'application/json';
  const hadToken = 'authorization' in headers;
  let res: Response;
  try {
    res = await fetch(apiUrl(path, opts.query), {
      method,
      headers,
      body: opts.json === undefined ? undefined : JSON.stringify(opts.json),
      signal: opts.signal,
    });
  } catch (e) {
    if (opts.signal?.aborted) throw e;
    throw networkError(e);
  }
  if (!res.ok) {
    checkAuth(res.status, hadToken);
    throw errorFrom(res.status, await res.text(), res.statusText);
  }
  return res;
}

async function request<T>(method: string, path: string, opts?: RequestOptions): Promise<T> {
  const res = await send(method, path, opts);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

const get = <T>(path: string, query?: Query, signal?: AbortSignal) => request<T>('GET', path, { query, signal });

// ---- image transfer -----------------------------------------------------

/**
 * Upload unit, as the CLI's: each chunk is its own PUT that the gateway
 * flushes before answering, so every acknowledged chunk is durable and a
 * failure says exactly how far the upload got.
 */
export const UPLOAD_CHUNK = 64 * 2 ** 20;

function putChunk(volumeId: string, offset: number, body: Blob, onProgress: (sent: number) => void, signal: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const headers = authHeader();
    xhr.open('PUT', apiUrl(`volumes/${seg(volumeId)}/image`, { offset }));
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    const abort = () => xhr.abort();
    signal.addEventListener('abort', abort, { once: true });
    const done = () => signal.removeEventListener('abort', abort);
    xhr.onload = () => {
      done();
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          resolve((JSON.parse(xhr.responseText) as { length: number }).length);
        } catch {
          reject(new ApiError(xhr.status, 'BAD_RESPONSE', 'the gateway did not say how much of the chunk it wrote'));
        }
        return;
      }
      checkAuth(xhr.status, 'authorization' in headers);
      reject(errorFrom(xhr.status, xhr.responseText, xhr.statusText));
    };
    xhr.onerror = () => {
      done();
      reject(networkError(new Error('the connection failed during the upload')));
    };
    xhr.onabort = () => {
      done();
      reject(new ApiError(0, 'CANCELLED', 'cancelled'));
    };
    xhr.send(body);
  });
}

export interface TransferProgress {
  done: number;
  total: number;
}

/** Write a file into a volume from offset 0, chunk by chunk, each one acknowledged before the next. */
async function uploadImage(volume: VolumeInfo, file: Blob, onProgress: (p: TransferProgress) => void, signal: AbortSignal): Promise<void> {
  const total = file.size;
  if (total > volume.size) {
    throw new ApiError(0, 'OUT_OF_RANGE', `the file is ${total} bytes but volume '${volume.name}' is ${volume.size} bytes: nothing was sent`);
  }
  let sent = 0;
  onProgress({ done: 0, total });
  try {
    while (sent < total) {
      const n = Math.min(UPLOAD_CHUNK, total - sent);
      const base = sent;
      // By id: a rename during a long upload must not send later chunks elsewhere.
      const written = await putChunk(volume.id, base, file.slice(base, base + n), (loaded) => onProgress({ done: base + loaded, total }), signal);
      if (written !== n) throw new ApiError(0, 'SHORT_WRITE', `the gateway wrote ${written} of ${n} bytes`);
      sent += n;
      onProgress({ done: sent, total });
    }
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    throw new ApiError(e.status, e.code, `upload stopped at offset ${sent} (${sent} of ${total} bytes written): ${e.message}`, e.details);
  }
}

/** The File System Access API's save dialog (Chromium): lets a download stream to disk. */
interface SaveFilePicker {
  showSaveFilePicker(opts: { suggestedName: string }): Promise<FileSystemFileHandle>;
}

const hasSavePicker = (w: Window): w is Window & SaveFilePicker => typeof (w as Partial<SaveFilePicker>).showSaveFilePicker === 'function';

/**
 * Save a volume's image. Where the browser can stream to a file the admin
 * picks, the image never sits in memory; elsewhere it is collected into a
 * Blob (the browser keeps big ones on disk) and handed over as a download.
 * Returns false when the admin closed the save dialog.
 */
async function downloadImage(volume: VolumeInfo, onProgress: (p: TransferProgress) => void, signal: AbortSignal): Promise<boolean> {
  const filename = `${volume.name}.img`;
  let sink: FileSystemWritableFileStream | null = null;
  if (hasSavePicker(window)) {
    try {
      sink = await (await window.showSaveFilePicker({ suggestedName: filename })).createWritable();
    } catch (e) {
      if (e instanceof DOMException && e.name === 'AbortError') return false;
      throw e;
    }
  }
  try {
    const res = await send('GET', `volumes/${seg(volume.id)}/image`, { signal });
    const total = Number(res.headers.get('content-length'));
    if (!res.body || !Number.isSafeInteger(total)) throw new ApiError(res.status, 'BAD_RESPONSE', 'the gateway sent no image length');
    let done = 0;
    onProgress({ done, total });
    const counted = res.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          done += chunk.byteLength;
          onProgress({ done, total });
          controller.enqueue(chunk);
        },
      }),
    );
    if (sink) {
      await counted.pipeTo(sink, { signal });
      sink = null;
    } else {
      const blob = await new Response(counted).blob();
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = filename;
      a.click();
      // The browser reads the Blob after the click returns; let it go once the save has surely begun (FileSaver.js waits 40 s too).
      setTimeout(() => URL.revokeObjectURL(url), 40_000);
    }
    if (done !== total) throw new ApiError(0, 'SHORT_READ', `the gateway ended the transfer after ${done} of ${total} bytes`);
    return true;
  } catch (e) {
    await sink?.abort().catch(() => undefined);
    if (signal.aborted) throw new ApiError(0, 'CANCELLED', 'cancelled');
    if (e instanceof ApiError) throw e;
    throw networkError(e);
  }
}

// ---- the API ------------------------------------------------------------

export const api = {
  async login(username: string, password: string): Promise<Session> {
    const session = await request<Session>('POST', 'auth/login', { json: { username, password } });
    setState({ session, notice: null });
    return session;
  },

  /** Ends the token on the gateway; the session is forgotten here even if the gateway is unreachable. */
  async logout(): Promise<void> {
    try {
      if (state.session) await request<void>('POST', 'auth/logout');
    } finally {
      setState({ session: null, notice: 'You have logged out.' });
    }
  },

  devices: {
    list: (signal?: AbortSignal) => get<DeviceInfo[]>('devices', undefined, signal),
    get: (key: string, signal?: AbortSignal) => get<DeviceInfo>(`devices/${seg(key)}`, undefined, signal),
    create: (body: CreateDeviceBody) => request<DeviceInfo>('POST', 'devices', { json: body }),
    /** purge also deletes a file device's backing file. */
    remove: (key: string, purge: boolean) => request<void>('DELETE', `devices/${seg(key)}`, { query: { purge: purge || undefined } }),
  },

  pools: {
    list: (signal?: AbortSignal) => get<PoolInfo[]>('pools', undefined, signal),
    get: (key: string, signal?: AbortSignal) => get<PoolInfo>(`pools/${seg(key)}`, undefined, signal),
    create: (body: CreatePoolBody) => request<PoolInfo>('POST', 'pools', { json: body }),
    remove: (key: string) => request<void>('DELETE', `pools/${seg(key)}`),
  },

  volumes: {
    list: (pool?: string, signal?: AbortSignal) => get<VolumeInfo[]>('volumes', { pool }, signal),
    get: (key: string, signal?: AbortSignal) => get<VolumeInfo>(`volumes/${seg(key)}`, undefined, signal),
    create: (body: CreateVolumeBody) => request<VolumeInfo>('POST', 'volumes', { json: body }),
    grow: (key: string, size: SizeValue) => request<VolumeInfo>('PATCH', `volumes/${seg(key)}`, { json: { size } }),
    /** force revokes the volume's assignments, recursive deletes its snapshots: only after the admin has seen them named. */
    remove: (key: string, force: boolean, recursive = false) =>
      request<void>('DELETE', `volumes/${seg(key)}`, { query: { force: force || undefined, recursive: recursive || undefined } }),
    upload: uploadImage,
    download: downloadImage,
    /** Makes the volume read as the snapshot again; force when hosts or the NBD export may be writing to it. */
    rollback: (key: string, snapshot: string, force: boolean) =>
      request<VolumeInfo>('POST', `volumes/${seg(key)}/rollback`, { json: { snapshot, ...(force && { force: true }) } }),
  },

  snapshots: {
    list: (volume: string, signal?: AbortSignal) => get<SnapshotInfo[]>(`volumes/${seg(volume)}/snapshots`, undefined, signal),
    create: (volume: string, name: string) => request<SnapshotInfo>('POST', `volumes/${seg(volume)}/snapshots`, { json: { name } }),
    /** force revokes the snapshot's assignments. */
    remove: (volume: string, snapshot: string, force: boolean) =>
      request<void>('DELETE', `volumes/${seg(volume)}/snapshots/${seg(snapshot)}`, { query: { force: force || undefined } }),
    /** A new writable thin volume that starts as the snapshot. */
    clone: (volume: string, snapshot: string, name: string) =>
      request<VolumeInfo>('POST', `volumes/${seg(volume)}/snapshots/${seg(snapshot)}/clone`, { json: { name } }),
  },

  groups: {
    list: (signal?: AbortSignal) => get<ConsistencyGroupInfo[]>('consistency-groups', undefined, signal),
    create: (name: string, volumes: string[]) => request<ConsistencyGroupInfo>('POST', 'consistency-groups', { json: { name, volumes } }),
    remove: (key: string) => request<void>('DELETE', `consistency-groups/${seg(key)}`),
    /** One snapshot named `name` of every member, all at one instant. */
    snapshot: (key: string, name: string) => request<SnapshotInfo[]>('POST', `consistency-groups/${seg(key)}/snapshots`, { json: { name } }),
  },

  schedules: {
    list: (signal?: AbortSignal) => get<SnapshotScheduleInfo[]>('snapshot-schedules', undefined, signal),
    create: (body: CreateScheduleBody) => request<SnapshotScheduleInfo>('POST', 'snapshot-schedules', { json: body }),
    remove: (key: string) => request<void>('DELETE', `snapshot-schedules/${seg(key)}`),
  },

  mirror: {
    status: (volume: string, signal?: AbortSignal) => get<MirrorStatus>(`volumes/${seg(volume)}/mirror`, undefined, signal),
    /** Adds the mirror and starts its initial sync job. */
    add: (volume: string, pool: string) => request<MirrorStatus>('POST', `volumes/${seg(volume)}/mirror`, { json: { pool } }),
    resync: (volume: string) => request<MirrorStatus>('POST', `volumes/${seg(volume)}/mirror/resync`, { json: {} }),
    /** force promotes a degraded mirror, whose dirty regions hold older bytes: only after the admin has read so. */
    swap: (volume: string, force: boolean) => request<VolumeInfo>('POST', `volumes/${seg(volume)}/mirror/swap`, { query: { force: force || undefined } }),
    remove: (volume: string) => request<VolumeInfo>('DELETE', `volumes/${seg(volume)}/mirror`),
  },

  replications: {
    identity: (signal?: AbortSignal) => get<ReplicationIdentity>('replication/identity', undefined, signal),
    list: (signal?: AbortSignal) => get<ReplicationInfo[]>('replications', undefined, signal),
    get: (key: string, signal?: AbortSignal) => get<ReplicationView>(`replications/${seg(key)}`, undefined, signal),
    create: (body: CreateReplicationBody) => request<ReplicationInfo>('POST', 'replications', { json: body }),
    /** every null stops the schedule, rateLimit 0 lifts the limit; the next cycle uses them. */
    update: (key: string, body: { every: string | null; rateLimit: SizeValue }) => request<ReplicationInfo>('PATCH', `replications/${seg(key)}`, { json: body }),
    /** A cycle now: an interrupted one goes on from its checkpoint. */
    run: (key: string) => request<ReplicationView>('POST', `replications/${seg(key)}/run`),
    /** A running cycle is cancelled and the repl- snapshots deleted; the replica on the target keeps its last cycle. */
    remove: (key: string) => request<void>('DELETE', `replications/${seg(key)}`),
  },

  /** Target side: a volume another gateway writes as its replica. */
  replicas: {
    /** `volume` may name a share; force replaces a share's files (SHARE_NOT_EMPTY otherwise). */
    accept: (volume: string, host: string, force = false) => request<VolumeInfo>('POST', `volumes/${seg(volume)}/replica`, { json: force ? { host, force } : { host } }),
    /** force promotes a replica with no committed cycle (its contents may be partial): only after the admin has read so. */
    promote: (volume: string, force: boolean) => request<VolumeInfo>('POST', `volumes/${seg(volume)}/replica/promote`, { query: { force: force || undefined } }),
  },

  shares: {
    list: (signal?: AbortSignal) => get<ShareInfo[]>('shares', undefined, signal),
    get: (key: string, signal?: AbortSignal) => get<ShareInfo>(`shares/${seg(key)}`, undefined, signal),
    create: (body: CreateShareBody) => request<ShareInfo>('POST', 'shares', { json: body }),
    grow: (key: string, size: SizeValue) => request<ShareInfo>('PATCH', `shares/${seg(key)}`, { json: { size } }),
    remove: (key: string) => request<void>('DELETE', `shares/${seg(key)}`),
    /** Checks the live share's metadata, or with snapshot that snapshot's metadata copy; problems or not, the report. */
    fsck: (key: string, snapshot?: string) => request<ShareFsckReport>('POST', `shares/${seg(key)}/fsck`, { query: { snapshot } }),
    rules: {
      add: (share: string, body: ExportRuleBody) => request<ExportRuleInfo>('POST', `shares/${seg(share)}/rules`, { json: body }),
      update: (share: string, rule: string, body: Partial<ExportRuleBody>) =>
        request<ExportRuleInfo>('PATCH', `shares/${seg(share)}/rules/${seg(rule)}`, { json: body }),
      remove: (share: string, rule: string) => request<void>('DELETE', `shares/${seg(share)}/rules/${seg(rule)}`),
    },
  },

  hosts: {
    list: (signal?: AbortSignal) => get<HostInfo[]>('hosts', undefined, signal),
    get: (key: string, signal?: AbortSignal) => get<HostInfo>(`hosts/${seg(key)}`, undefined, signal),
    create: (body: CreateHostBody) => request<HostInfo>('POST', 'hosts', { json: body }),
    /** A host set back to encrypt loses its integrity-only sessions at their next call (REVOKED: they log in again). */
    setSecurity: (key: string, security: HostSecurity) => request<HostInfo>('PATCH', `hosts/${seg(key)}`, { json: { security } }),
    remove: (key: string, force: boolean) => request<void>('DELETE', `hosts/${seg(key)}`, { query: { force: force || undefined } }),
  },

  assignments: {
    create: (body: CreateAssignmentBody) => request<AssignmentInfo>('POST', 'assignments', { json: body }),
    revoke: (id: string) => request<void>('DELETE', `assignments/${seg(id)}`),
  },

  audit: (filter: AuditFilter, signal?: AbortSignal) => get<AuditEntry[]>('audit', { ...filter }, signal),

  backups: {
    targets: {
      list: (signal?: AbortSignal) => get<BackupTargetInfo[]>('backup-targets', undefined, signal),
      create: (body: CreateBackupTargetBody) => request<BackupTargetInfo>('POST', 'backup-targets', { json: body }),
      remove: (key: string) => request<void>('DELETE', `backup-targets/${seg(key)}`),
    },
    list: (signal?: AbortSignal) => get<BackupInfo[]>('backups', undefined, signal),
    create: (body: CreateBackupBody) => request<StartedBackup>('POST', 'backups', { json: body }),
    /** withDependents also removes the incrementals built on it: only after the admin has seen them named. */
    remove: (id: string, withDependents: boolean) => request<void>('DELETE', `backups/${seg(id)}`, { query: { withDependents: withDependents || undefined } }),
    /** Into a new thin volume `to` (in `pool`, default the backed-up volume's). */
    /** Into a new volume (`to`), or for a share's backup into a new share (`toShare`, served once the job is done, with no export rules). */
    restore: (id: string, into: { to: string } | { toShare: string }, pool?: string) =>
      request<StartedRestore>('POST', `backups/${seg(id)}/restore`, { json: { ...into, ...(pool && { pool }) } }),
    /** A job that reads the backup's chain and checks every page against its digest. */
    verify: (id: string) => request<JobInfo>('POST', `backups/${seg(id)}/verify`),
  },

  jobs: {
    list: (signal?: AbortSignal) => get<JobInfo[]>('jobs', undefined, signal),
    get: (id: string, signal?: AbortSignal) => get<JobInfo>(`jobs/${seg(id)}`, undefined, signal),
    cancel: (id: string) => request<JobInfo>('POST', `jobs/${seg(id)}/cancel`),
    resume: (id: string) => request<JobInfo>('POST', `jobs/${seg(id)}/resume`),
  },

  /** Raw: the statistics endpoint is young, so its shape is checked by stats.ts before anything is drawn. */
  stats: (signal?: AbortSignal) => get<unknown>('stats', undefined, signal),
};
