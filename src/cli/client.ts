/**
 * The gateway's REST API as the CLI sees it: one base URL, one bearer token,
 * JSON in and out, and every failure turned into a CliError that knows its
 * exit code.
 */

/** Exit codes are part of the CLI's contract with scripts. */
export const EXIT = {
  OK: 0,
  /** The API (or a local check standing in for it) refused the operation. */
  API: 1,
  USAGE: 2,
  UNREACHABLE: 3,
  /** Not logged in, token rejected, or wrong credentials. */
  AUTH: 4,
} as const;

/** The error body every API failure carries. */
export interface ApiErrorBody {
  statusCode: number;
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export class CliError extends Error {
  readonly exitCode: number;
  readonly code: string;
  /** The API's own error body, printed as is under --json. */
  readonly body?: ApiErrorBody;
  /** Whether the human line ends in `(CODE)`: yes for the API's own messages. */
  readonly showCode: boolean;

  constructor(message: string, opts: { exitCode: number; code: string; body?: ApiErrorBody; showCode?: boolean }) {
    super(message);
    this.name = 'CliError';
    this.exitCode = opts.exitCode;
    this.code = opts.code;
    this.body = opts.body;
    this.showCode = opts.showCode ?? opts.exitCode === EXIT.API;
  }

  /** The same failure, said with where it happened (e.g. how far an upload got). */
  prefixed(prefix: string): CliError {
    const body = this.body && { ...this.body, message: `${prefix}${this.body.message}` };
    return new CliError(`${prefix}${this.message}`, { exitCode: this.exitCode, code: this.code, body, showCode: this.showCode });
  }

  toJSON(): ApiErrorBody | { code: string; message: string } {
    return this.body ?? { code: this.code, message: this.message };
  }
}

export const usageError = (message: string) => new CliError(message, { exitCode: EXIT.USAGE, code: 'USAGE' });

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  /** Sent as a JSON body. */
  json?: unknown;
  /** A raw body (a file chunk): streamed, so fetch needs duplex 'half'. */
  body?: AsyncIterable<Uint8Array>;
  headers?: Record<string, string>;
  /** Health and login: no token needed. */
  public?: boolean;
  /**
   * A 401 here means the password given was wrong (login, passwd), not that
   * the session is gone: report the API's message instead of "log in again".
   */
  checksCredentials?: boolean;
  /** Statuses that are answers, not failures (readyz says 503 when not ready). */
  accept?: number[];
}

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string | undefined,
  ) {}

  get loggedIn(): boolean {
    return this.token !== undefined;
  }

  /** Paths starting with '/' are at the root (healthz); others are under /api/v1. */
  url(path: string, query: Query = {}): string {
    // Concatenated, not resolved: a gateway behind a proxy may live under a path prefix.
    const url = new URL(`${this.baseUrl}${path.startsWith('/') ? path : `/api/v1/${path}`}`);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    return url.toString();
  }

  async fetch(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    if (!opts.public && !this.token) throw new CliError('not logged in: run strata login', { exitCode: EXIT.AUTH, code: 'NOT_LOGGED_IN' });
    const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
    if (this.token && !opts.public) headers.authorization = `Bearer ${this.token}`;
    let body: RequestInit['body'];
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    } else if (opts.body) {
      // Node's fetch (undici) streams an async iterable (duplex 'half'). In a program that also loads lib "dom"
      // (the type check of the specs: the console specs need it), the DOM's BodyInit, which has no async
      // iterables, takes the place of Node's in the types; the body is still one Node's fetch takes.
      body = opts.body as RequestInit['body'];
    }
    let res: Response;
    try {
      res = await fetch(this.url(path, opts.query), { method, headers, body, ...(opts.body ? { duplex: 'half' } : {}) });
    } catch (e) {
      throw unreachable(this.baseUrl, e);
    }
    if (!res.ok && !opts.accept?.includes(res.status)) throw await this.failure(res, opts);
    return res;
  }

  /** A JSON request; 204 gives undefined. */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.fetch(method, path, opts);
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, { query });
  }
  post<T>(path: string, json?: unknown, opts: RequestOptions = {}): Promise<T> {
    return this.request<T>('POST', path, { ...opts, json });
  }
  patch<T>(path: string, json: unknown): Promise<T> {
    return this.request<T>('PATCH', path, { json });
  }
  delete(path: string, query?: Query): Promise<void> {
    return this.request<void>('DELETE', path, { query });
  }

  private async failure(res: Response, opts: RequestOptions): Promise<CliError> {
    const text = await res.text().catch(() => '');
    let body: ApiErrorBody;
    try {
      const parsed = JSON.parse(text) as Partial<ApiErrorBody>;
      if (typeof parsed.code !== 'string' || typeof parsed.message !== 'string') throw new Error('not an API error');
      body = parsed as ApiErrorBody;
    } catch {
      // Not the gateway talking (a proxy, or the wrong URL): keep what we got.
      const message = `${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''} from ${this.baseUrl}`;
      body = { statusCode: res.status, code: `HTTP_${res.status}`, message };
    }
    if (res.status === 401 && !opts.checksCredentials) {
      return new CliError('session expired: run strata login again', { exitCode: EXIT.AUTH, code: body.code, body });
    }
    if (res.status === 401) return new CliError(body.message, { exitCode: EXIT.AUTH, code: body.code, body, showCode: true });
    return new CliError(body.message, { exitCode: EXIT.API, code: body.code, body });
  }
}

/** fetch hides the socket error in `cause`, an AggregateError when every address of a name failed. */
function causeText(e: unknown): string {
  const cause = (e as { cause?: unknown })?.cause ?? e;
  if (cause instanceof AggregateError && cause.errors.length > 0) return causeText(cause.errors[0]);
  const err = cause as { message?: string; code?: string };
  return err?.message || err?.code || String(cause);
}

export function unreachable(url: string, e: unknown): CliError {
  return new CliError(`cannot reach the gateway at ${url}: ${causeText(e)}`, { exitCode: EXIT.UNREACHABLE, code: 'UNREACHABLE' });
}

/** Keys go into paths: a name with a slash or space must not change the route. */
export const seg = (key: string) => encodeURIComponent(key);
