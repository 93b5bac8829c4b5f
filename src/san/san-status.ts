import { DeviceGone, DeviceIOError, NoSpace, OutOfRange, PoolFailed, ReadOnlyVolume } from '../common/errors';
import { Status } from '../protocols/san/constants';

/** A refusal decided by the SAN front end itself (not assigned, read-only, reserved…). */
export class SanStatusError extends Error {
  constructor(
    readonly status: Exclude<Status, Status.OK>,
    message: string,
  ) {
    super(message);
    this.name = 'SanStatusError';
  }
}

/**
 * The one place where an error meets the wire: domain errors from the
 * virtualization layer and the front end's own refusals become a REPLY
 * status and its message. Anything else is a bug: SERVER_FAULT, and the
 * caller logs it.
 */
export function statusOf(err: unknown): { status: Exclude<Status, Status.OK>; message: string; fault: boolean } {
  if (err instanceof SanStatusError) return { status: err.status, message: err.message, fault: false };
  if (err instanceof NoSpace) return { status: Status.NO_SPACE, message: err.message, fault: false };
  if (err instanceof DeviceIOError || err instanceof DeviceGone || err instanceof PoolFailed) {
    return { status: Status.IO_ERROR, message: err.message, fault: false };
  }
  if (err instanceof OutOfRange) return { status: Status.OUT_OF_RANGE, message: err.message, fault: false };
  if (err instanceof ReadOnlyVolume) return { status: Status.READ_ONLY, message: err.message, fault: false };
  return { status: Status.SERVER_FAULT, message: 'internal error: the gateway log has details', fault: true };
}
