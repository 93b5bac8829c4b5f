import { AuthStat } from '../../src/protocols/oncrpc/constants';
import type { RpcLog } from '../../src/nas/rpc/rpc-dispatcher';
import { NULL_PROCEDURE, procedure, RpcAuthError, RpcDropReply, type RpcProgram } from '../../src/nas/rpc/rpc-program';

/** A log that keeps its lines, so tests can check what the server reported. */
export class MemoryLog implements RpcLog {
  readonly lines: string[] = [];
  debug(m: string): void {
    this.lines.push(`debug ${m}`);
  }
  warn(m: string): void {
    this.lines.push(`warn ${m}`);
  }
  error(m: string): void {
    this.lines.push(`error ${m}`);
  }
}

/** A promise with its resolver, for handlers the test releases. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

export const TEST_PROG = 0x20000099;

export const enum TestProc {
  NULL = 0,
  ECHO = 1,
  COUNT = 2,
  WAIT = 3,
  FAIL = 4,
  DENY = 5,
  DROP = 6,
  BLOB = 7,
  WAITCOUNT = 8,
}

/**
 * A program to exercise the server, versions 1 and 2:
 *   ECHO(string<64>) -> string, idempotent
 *   COUNT(unsigned n) -> unsigned total, not idempotent (adds n)
 *   WAIT(unsigned id) -> id once the test releases `id`
 *   FAIL -> throws (SYSTEM_ERR); DENY -> AUTH_TOOWEAK; DROP -> no reply
 *   BLOB(unsigned n) -> opaque<> of n bytes (kept by reference)
 *   WAITCOUNT(unsigned n) -> like COUNT but waits for release of 0
 */
export class TestService {
  total = 0;
  runs: Record<string, number> = {};
  running = 0;
  maxRunning = 0;
  /** The last BLOB payload handed to the encoder (to check it is written by reference). */
  lastBlob: Buffer | null = null;
  private readonly gates = new Map<number, ReturnType<typeof deferred<void>>>();

  private gate(id: number): Promise<void> {
    let g = this.gates.get(id);
    if (!g) this.gates.set(id, (g = deferred()));
    return g.promise;
  }

  release(id: number): void {
    this.gate(id);
    this.gates.get(id)!.resolve();
  }

  private ran(name: string): void {
    this.runs[name] = (this.runs[name] ?? 0) + 1;
  }

  private async tracked<T>(fn: () => Promise<T>): Promise<T> {
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      return await fn();
    } finally {
      this.running--;
    }
  }

  program(): RpcProgram {
    const u32 = { decode: (r: import('../../src/protocols/xdr/xdr').XdrReader) => r.uint32('n') };
    const v1 = {
      [TestProc.NULL]: NULL_PROCEDURE,
      [TestProc.ECHO]: procedure({
        name: 'ECHO',
        decode: (r) => r.string(64, 'text'),
        handle: (s: string) => (this.ran('ECHO'), s),
        encode: (w, s: string) => void w.string(s),
        idempotent: true,
      }),
      [TestProc.COUNT]: procedure({
        name: 'COUNT',
        ...u32,
        handle: (n: number) => (this.ran('COUNT'), (this.total += n)),
        encode: (w, t: number) => void w.uint32(t),
        idempotent: false,
        mutates: true,
      }),
      [TestProc.WAIT]: procedure({
        name: 'WAIT',
        ...u32,
        handle: (id: number) => this.tracked(async () => (this.ran('WAIT'), await this.gate(id), id)),
        encode: (w, id: number) => void w.uint32(id),
        idempotent: true,
      }),
      [TestProc.FAIL]: procedure({
        name: 'FAIL',
        decode: () => undefined,
        handle: () => {
          throw new Error('the disk caught fire');
        },
        encode: () => undefined,
        idempotent: true,
      }),
      [TestProc.DENY]: procedure({
        name: 'DENY',
        decode: () => undefined,
        handle: () => {
          throw new RpcAuthError(AuthStat.AUTH_TOOWEAK);
        },
        encode: () => undefined,
        idempotent: true,
      }),
      [TestProc.DROP]: procedure({
        name: 'DROP',
        decode: () => undefined,
        handle: () => {
          throw new RpcDropReply();
        },
        encode: () => undefined,
        idempotent: false,
      }),
      [TestProc.BLOB]: procedure({
        name: 'BLOB',
        ...u32,
        handle: (n: number) => (this.ran('BLOB'), (this.lastBlob = Buffer.alloc(n, 0x5a))),
        encode: (w, b: Buffer) => void w.varOpaque(b),
        idempotent: true,
      }),
      [TestProc.WAITCOUNT]: procedure({
        name: 'WAITCOUNT',
        ...u32,
        handle: (n: number) => this.tracked(async () => (this.ran('WAITCOUNT'), await this.gate(0), (this.total += n))),
        encode: (w, t: number) => void w.uint32(t),
        idempotent: false,
        mutates: true,
      }),
    };
    return { prog: TEST_PROG, name: 'TEST', versions: { 1: v1, 2: { [TestProc.NULL]: NULL_PROCEDURE } } };
  }
}
