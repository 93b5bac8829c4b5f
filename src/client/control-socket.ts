import { connect, createServer, type Server, type Socket } from 'node:net';
import { unlink } from 'node:fs/promises';

/*
 * The attach process's control socket (run/<volume>.ctl, owner-only like the
 * config directory): one JSON request per line, one JSON answer per line.
 *   {"op":"status"}                 → {"ok":true,"status":{…}}
 *   {"op":"detach","force":false}   → {"ok":true} once flushed and closed, or {"ok":false,"error":{code,message}}
 */

export type ControlRequest = { op: 'status' } | { op: 'detach'; force?: boolean };
export type ControlAnswer = { ok: true; status?: unknown } | { ok: false; error: { code: string; message: string } };

export interface ControlHandlers {
  status(): unknown;
  /** Flush and let go of the volume; the answer goes out before `detached()`. */
  detach(force: boolean): Promise<void>;
  /** The detach answer is written: the process may close the control socket and end. */
  detached(): void;
}

/** Requests larger than this are not ours: cut the connection. */
const MAX_LINE = 4096;

export class ControlServer {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(
    readonly path: string,
    private readonly handlers: ControlHandlers,
  ) {}

  /** Listen; EADDRINUSE when something answers there already, a stale socket file is replaced. */
  async listen(): Promise<void> {
    if (await probe(this.path)) throw Object.assign(new Error(`${this.path} is in use by another process`), { code: 'EADDRINUSE' });
    await unlink(this.path).catch(() => undefined);
    const server = createServer((s) => this.serve(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      if (buffered.length > MAX_LINE) return void socket.destroy();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        void this.answer(line).then(({ answer, detached }) => {
          const after = () => detached && this.handlers.detached();
          if (socket.destroyed) return after();
          socket.write(`${JSON.stringify(answer)}\n`, after);
        });
      }
    });
  }

  private async answer(line: string): Promise<{ answer: ControlAnswer; detached?: boolean }> {
    let req: Partial<ControlRequest>;
    try {
      req = JSON.parse(line) as Partial<ControlRequest>;
      if (typeof req !== 'object' || req === null) throw new Error('not an object');
    } catch {
      return { answer: { ok: false, error: { code: 'BAD_REQUEST', message: 'not a JSON object' } } };
    }
    try {
      if (req.op === 'status') return { answer: { ok: true, status: this.handlers.status() } };
      if (req.op === 'detach') {
        await this.handlers.detach(Boolean(req.force));
        return { answer: { ok: true }, detached: true };
      }
      return { answer: { ok: false, error: { code: 'BAD_REQUEST', message: `unknown op '${String(req?.op)}'` } } };
    } catch (e) {
      const code = typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : 'FAILED';
      return { answer: { ok: false, error: { code, message: (e as Error).message } } };
    }
  }
}

/** Whether a process answers on a unix socket path (false: no file, or a stale one nobody listens on). */
export function probe(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** One request to an attach process; rejects when nobody answers within `timeoutMs`. */
export function controlRequest(path: string, req: ControlRequest, timeoutMs = 10_000): Promise<ControlAnswer> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    let buffered = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(Object.assign(new Error(`no answer on ${path} within ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const nl = buffered.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      s.destroy();
      try {
        resolve(JSON.parse(buffered.slice(0, nl)) as ControlAnswer);
      } catch (e) {
        reject(e);
      }
    });
    s.once('connect', () => s.write(`${JSON.stringify(req)}\n`));
    s.once('close', () => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`${path} closed without an answer`), { code: 'ECONNRESET' }));
    });
  });
}
