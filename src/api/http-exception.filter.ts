import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Conflict, DomainError } from '../common/errors';

/** The one place a domain error becomes an HTTP status; `fallback` for codes not listed. */
export function httpStatusOf(code: string, fallback: number = HttpStatus.INTERNAL_SERVER_ERROR): number {
  if (code.endsWith('_NOT_FOUND')) return HttpStatus.NOT_FOUND;
  if (code.endsWith('_IN_USE')) return HttpStatus.CONFLICT;
  switch (code) {
    case 'INVALID_ARGUMENT':
    case 'OUT_OF_RANGE':
      return HttpStatus.BAD_REQUEST;
    case 'UNAUTHENTICATED':
      return HttpStatus.UNAUTHORIZED;
    case 'FORBIDDEN':
      return HttpStatus.FORBIDDEN;
    case 'NAME_TAKEN':
    case 'NO_SPACE':
    case 'ALREADY_ASSIGNED':
    case 'VOLUME_EXCLUSIVE':
    case 'KEY_TAKEN':
    case 'DEVICE_PATH_TAKEN':
    case 'LAST_ADMIN':
    case 'SHARE_VOLUME':
    case 'SNAPSHOT_VOLUME':
    case 'HAS_SNAPSHOTS':
    case 'SNAPSHOT_POOL':
    case 'READ_ONLY':
    case 'MIRRORED':
    case 'NOT_MIRRORED':
    case 'MIRROR_IN_SYNC':
    case 'MIRROR_NOT_IN_SYNC':
    case 'RESYNC_RUNNING':
    case 'JOB_ACTIVE':
    case 'JOB_RUNNING':
    case 'JOB_FINISHED':
    case 'JOB_NOT_RESUMABLE':
    case 'REPLICATED':
    case 'REPLICATION_SNAPSHOT':
    case 'ALREADY_REPLICATED':
    case 'ALREADY_REPLICA':
    case 'VOLUME_HAS_WRITERS':
    case 'NO_CONSISTENT_POINT':
    case 'NOT_REPLICA':
    case 'SNAPSHOT_NEEDED':
    case 'BACKUP_HAS_DEPENDENTS':
    case 'BACKUP_NOT_COMPLETE':
    case 'BACKUP_TARGET_ERROR':
    case 'BACKUP_DAMAGED':
    case 'BACKUP_VOLUME_CHANGED':
    case 'RESTORE_NEEDS_FORCE':
      return HttpStatus.CONFLICT;
    case 'DEVICE_IO_ERROR':
    case 'DEVICE_GONE':
    case 'POOL_FAILED':
    case 'SHARE_NOT_SERVED':
      return HttpStatus.SERVICE_UNAVAILABLE;
    default:
      return fallback;
  }
}

const HTTP_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'TOO_MANY_REQUESTS',
};

export interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * Every error leaves as `{ statusCode, code, message, details? }`. Domain
 * errors keep their code; framework errors (validation, bad JSON, unknown
 * route) get one from their status; anything else is a 500, logged in full.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly log = new Logger('HTTP');

  catch(error: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request>();
    const body = this.toBody(error);
    if (body.statusCode >= 500 && !(error instanceof DomainError)) {
      // The request id ties the stack to the request's log line and to what the client saw.
      this.log.error(`${req.method} ${req.url} (request ${String(res.getHeader('X-Request-Id'))}): ${(error as Error)?.stack ?? String(error)}`);
    }
    if (res.headersSent) {
      // A streamed response failed part way: all we can do is cut it.
      res.destroy(error instanceof Error ? error : undefined);
      return;
    }
    res.status(body.statusCode).json(body);
  }

  private toBody(error: unknown): ErrorBody {
    if (error instanceof DomainError) {
      // A Conflict's own code not listed above is still a conflict with the state, never a server fault.
      const statusCode = httpStatusOf(error.code, error instanceof Conflict ? HttpStatus.CONFLICT : HttpStatus.INTERNAL_SERVER_ERROR);
      return { statusCode, code: error.code, message: error.message, ...(Object.keys(error.details).length ? { details: error.details } : {}) };
    }
    if (error instanceof HttpException) {
      const statusCode = error.getStatus();
      if (error.cause instanceof SyntaxError) {
        return { statusCode, code: 'INVALID_ARGUMENT', message: `the request body is not valid JSON: ${error.cause.message}` };
      }
      const response = error.getResponse();
      let message = error.message;
      if (typeof response === 'object' && response && 'message' in response) {
        const m = (response as { message: unknown }).message;
        message = Array.isArray(m) ? m.join('; ') : String(m);
      }
      return { statusCode, code: statusCode === 400 ? 'INVALID_ARGUMENT' : (HTTP_CODES[statusCode] ?? `HTTP_${statusCode}`), message };
    }
    // body-parser and friends: errors with an HTTP status of their own.
    const status = (error as { status?: unknown; statusCode?: unknown })?.status ?? (error as { statusCode?: unknown })?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const type = (error as { type?: string }).type;
      const message = type === 'entity.parse.failed' ? 'the request body is not valid JSON' : (error as Error).message;
      return { statusCode: status, code: status === 400 ? 'INVALID_ARGUMENT' : (HTTP_CODES[status] ?? `HTTP_${status}`), message };
    }
    return { statusCode: 500, code: 'INTERNAL', message: 'internal error (see the gateway log)' };
  }
}
