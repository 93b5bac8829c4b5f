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
  ) {
    super(message);
    this.name = 'SanError';
    this.code = STATUS_NAMES[status] ?? `STATUS_${status}`;
  }
}

/** No answer from a gateway address: not running, firewalled, or the wrong port. */
export class GatewayUnreachable extends Error {
  readonly code = 'GATEWAY_UNREACHABLE';

  constructor(
    readonly gateway: string,
    waitedMs: number,
    what: string,
  ) {
    super(`SAN gateway ${gateway} did not answer ${what} within ${(waitedMs / 1000).toFixed(1)} s: is it running, and is this its SAN address (udp)?`);
    this.name = 'GatewayUnreachable';
  }
}
