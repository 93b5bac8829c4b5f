import type { AuthStat } from '../../protocols/oncrpc/constants';
import type { Credential } from '../../protocols/oncrpc/message';
import type { XdrReader, XdrWriter } from '../../protocols/xdr/xdr';

/** What a procedure handler knows about the call it serves. */
export interface RpcContext {
  xid: number;
  prog: number;
  vers: number;
  proc: number;
  /** The procedure's name in the table (e.g. "READ"). */
  procName: string;
  /** AUTH_NONE / AUTH_SYS parsed; other flavors opaque (only when the program accepts them). */
  cred: Credential;
  transport: 'tcp' | 'udp' | 'local';
  remoteAddress: string;
  remotePort: number;
  /** The address the client reached us on (a portmapper answers with it). */
  localAddress: string;
  localPort: number;
  /** Distinguishes connections (and UDP sockets) of this server. */
  connectionId: number;
}

/**
 * One procedure of a program version: how to read its arguments, run it,
 * and write its results. `idempotent: false` puts its replies in the
 * duplicate request cache so a retransmission is answered, not re-executed.
 */
export interface RpcProcedure<A = unknown, R = unknown> {
  name: string;
  decode(r: XdrReader): A;
  handle(args: A, ctx: RpcContext): Promise<R> | R;
  encode(w: XdrWriter, res: R): void;
  idempotent: boolean;
  /** Changes state (for metrics and read-only policies). */
  mutates?: boolean;
  /**
   * Called once the reply carrying `res` has been written to the transport
   * (or dropped), so buffers it referenced can be reused. Only for
   * idempotent procedures: a cached reply must stay valid.
   */
  sent?(res: R): void;
}

/** Procedures of one version, by procedure number. */
export type RpcVersionTable = Readonly<Record<number, RpcProcedure<any, any>>>;

export interface RpcProgram {
  prog: number;
  name: string;
  /** Versions served, by version number; the range low..high answers PROG_MISMATCH. */
  versions: Readonly<Record<number, RpcVersionTable>>;
  /**
   * Credential flavors accepted for procedures other than NULL (procedure 0,
   * which by convention needs none); others get AUTH_ERROR AUTH_TOOWEAK.
   * Default: AUTH_NONE and AUTH_SYS.
   */
  authFlavors?: readonly number[];
}

/** A procedure taking and returning nothing: procedure 0 of every program. */
export const NULL_PROCEDURE: RpcProcedure<void, void> = Object.freeze({
  name: 'NULL',
  decode: () => undefined,
  handle: () => undefined,
  encode: () => undefined,
  idempotent: true,
});

/** Typed helper for table entries (infers A and R from decode and handle). */
export function procedure<A, R>(p: RpcProcedure<A, R>): RpcProcedure<A, R> {
  return p;
}

/** Thrown by a handler: the call is denied with AUTH_ERROR and this auth_stat (e.g. AUTH_TOOWEAK for an export's flavor). */
export class RpcAuthError extends Error {
  override name = 'RpcAuthError';
  constructor(
    readonly authStat: AuthStat,
    message = 'authentication refused',
  ) {
    super(message);
  }
}

/** Thrown by a handler: no reply at all (the client retransmits later, e.g. while a resource recovers). */
export class RpcDropReply extends Error {
  override name = 'RpcDropReply';
}

/** Thrown by a handler that finds its arguments invalid beyond XDR: GARBAGE_ARGS. */
export class RpcGarbageArgs extends Error {
  override name = 'RpcGarbageArgs';
}
