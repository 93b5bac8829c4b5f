/**
 * Domain errors: typed, carrying their meaning. Every protocol maps them to its
 * wire status in one place (REST: src/api/http-exception.filter.ts).
 * `code` is stable and part of the public API; `message` is for humans.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
  readonly details: Record<string, unknown>;

  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}

export type EntityKind =
  | 'device'
  | 'extent'
  | 'pool'
  | 'volume'
  | 'host'
  | 'assignment'
  | 'share'
  | 'rule'
  | 'user'
  | 'token'
  | 'key'
  | 'snapshot'
  | 'schedule'
  | 'group'
  | 'job'
  | 'mirror'
  | 'replication'
  | 'replica'
  | 'backup'
  | 'target';

const upper = (k: EntityKind) => k.toUpperCase();

export class NotFound extends DomainError {
  readonly code: string;
  constructor(readonly entity: EntityKind, readonly key: string) {
    super(`${entity} '${key}' does not exist`, { entity, key });
    this.code = `${upper(entity)}_NOT_FOUND`;
  }
}

export class NameTaken extends DomainError {
  readonly code = 'NAME_TAKEN';
  constructor(readonly entity: EntityKind, readonly nameTaken: string) {
    super(`a ${entity} named '${nameTaken}' already exists`, { entity, name: nameTaken });
  }
}

export class InUse extends DomainError {
  readonly code: string;
  constructor(readonly entity: EntityKind, readonly key: string, readonly by: string) {
    super(`${entity} '${key}' is in use by ${by}`, { entity, key, by });
    this.code = `${upper(entity)}_IN_USE`;
  }
}

export class NoSpace extends DomainError {
  readonly code = 'NO_SPACE';
  constructor(
    readonly where: string,
    readonly freeBytes: number,
    readonly askedBytes: number,
  ) {
    super(`not enough space in ${where}: ${askedBytes} bytes asked, ${freeBytes} bytes free`, {
      where,
      freeBytes,
      askedBytes,
    });
  }
}

export class InvalidArgument extends DomainError {
  readonly code = 'INVALID_ARGUMENT';
  constructor(message: string, readonly field?: string) {
    super(message, field ? { field } : {});
  }
}

export class Conflict extends DomainError {
  readonly code: string;
  constructor(code: string, message: string, details: Record<string, unknown> = {}) {
    super(message, details);
    this.code = code;
  }
}

export class Unauthenticated extends DomainError {
  readonly code = 'UNAUTHENTICATED';
  constructor(message = 'authentication required') {
    super(message);
  }
}

export class Forbidden extends DomainError {
  readonly code = 'FORBIDDEN';
}

/** A write to a volume that only reads: a snapshot. */
export class ReadOnlyVolume extends DomainError {
  readonly code = 'READ_ONLY';
  constructor(readonly volume: string) {
    super(`volume '${volume}' is read-only (a snapshot): clone it to get a writable copy`, { volume });
  }
}

/** An access outside [0, size) of a device, pool or volume. */
export class OutOfRange extends DomainError {
  readonly code = 'OUT_OF_RANGE';
  constructor(readonly what: string, readonly offset: number, readonly length: number, readonly size: number) {
    super(`${what}: range [${offset}, ${offset + length}) is outside [0, ${size})`, {
      what,
      offset,
      length,
      size,
    });
  }
}

/** A device reported an I/O error (EIO, ENOSPC on the backing store, ...). */
export class DeviceIOError extends DomainError {
  readonly code = 'DEVICE_IO_ERROR';
  constructor(
    readonly device: string,
    readonly op: string,
    readonly offset: number,
    readonly errno?: string,
    cause?: unknown,
  ) {
    super(`device '${device}': ${op} at ${offset} failed${errno ? ` (${errno})` : ''}`, {
      device,
      op,
      offset,
      errno,
    });
    if (cause !== undefined) (this as { cause?: unknown }).cause = cause;
  }
}

/** The device is closed, detached or its backing store vanished. */
export class DeviceGone extends DomainError {
  readonly code = 'DEVICE_GONE';
  constructor(readonly device: string, reason: string) {
    super(`device '${device}' is not available: ${reason}`, { device, reason });
  }
}

/** A pool lost more members than its layout tolerates. */
export class PoolFailed extends DomainError {
  readonly code = 'POOL_FAILED';
  constructor(readonly pool: string, reason: string) {
    super(`pool '${pool}' cannot serve I/O: ${reason}`, { pool, reason });
  }
}
