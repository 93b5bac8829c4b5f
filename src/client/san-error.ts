import { Status, STATUS_NAMES } from '../protocols/san/constants';

/**
 * A SAN call or login that failed. `status` is the protocol's (READ_ONLY,
 * NOT_ASSIGNED, AUTH_FAILED…); `code` its name; `gateway` the address that
 * said so, or that did not answer.
 */
export class SanError extends Error {
  readonly code: string;

  constructor(
    readonly status: Status,
    message: string,
    readonly gateway?: string,
    /** AUTH_FAILED because the gateway does not know this host or its key (not a policy such as its security mode). */
    readonly identity = false,
  ) {
    super(message);
    this.name = 'SanError';
    this.code = STATUS_NAMES[status] ?? `STATUS_${status}`;
  }
}

/** No answer from one or more gateway addresses: not running, firewalled, or the wrong port. */
export class GatewayUnreachable extends Error {
  readonly code = 'GATEWAY_UNREACHABLE';
  /** The addresses that did not answer, `host:port`. */
  readonly gateways: string[];

  constructor(
    gateway: string | string[],
    waitedMs: number,
    what: string,
    /** Datagrams sent without an answer, when known ("what was tried"). */
    attempts?: number,
  ) {
    const list = Array.isArray(gateway) ? [...new Set(gateway)] : [gateway];
    const tried = attempts ? `, sent ${attempts} time${attempts === 1 ? '' : 's'}` : '';
    super(
      list.length === 1
        ? `SAN gateway ${list[0]} did not answer ${what} within ${(waitedMs / 1000).toFixed(1)} s${tried}: is it running, and is this its SAN address (udp)?`
        : `SAN gateways ${list.join(', ')} did not answer ${what} within ${(waitedMs / 1000).toFixed(1)} s: are they running, and are these their SAN addresses (udp)?`,
    );
    this.name = 'GatewayUnreachable';
    this.gateways = list;
  }

  /** The first address that did not answer (the only one, with a single gateway). */
  get gateway(): string {
    return this.gateways[0];
  }
}

/**
 * A session lost its path to the gateway (no answer, or the gateway lost or
 * restarted the session) while a call was outstanding. The call may or may
 * not have executed; the volume layer sends it again on another path, or on
 * this one once it is back.
 */
export class PathDown extends Error {
  readonly code = 'PATH_DOWN';

  constructor(
    readonly gateway: string,
    readonly reason: string,
  ) {
    super(`path to SAN gateway ${gateway} is down: ${reason}`);
    this.name = 'PathDown';
  }
}

/** No session could carry a call for as long as the client waits (every path down). */
export class NoPath extends Error {
  readonly code = 'NO_PATH';

  constructor(volume: string, waitedMs: number, paths: Array<{ gateway: string; reason: string }>) {
    const why = paths.map((p) => `${p.gateway}: ${p.reason}`).join('; ') || 'no session';
    super(`no path to the gateway could carry I/O for volume '${volume}' within ${(waitedMs / 1000).toFixed(1)} s (${why})`);
    this.name = 'NoPath';
  }
}
