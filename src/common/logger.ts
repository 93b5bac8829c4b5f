import type { LoggerService, LogLevel } from '@nestjs/common';
import pino, { type Logger } from 'pino';

/** Nest's start-up chatter: useful when debugging, noise otherwise. */
const CHATTY = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory']);

/** Nest's logger calls, written as pino's structured JSON lines. */
export class PinoLogger implements LoggerService {
  constructor(readonly pino: Logger) {}

  private ctx(params: unknown[]): { context?: string; rest: unknown[] } {
    const last = params[params.length - 1];
    return typeof last === 'string' ? { context: last, rest: params.slice(0, -1) } : { rest: params };
  }

  log(message: unknown, ...params: unknown[]): void {
    const { context } = this.ctx(params);
    if (context && CHATTY.has(context)) this.pino.debug({ context }, String(message));
    else this.pino.info({ context }, String(message));
  }
  error(message: unknown, ...params: unknown[]): void {
    const { context, rest } = this.ctx(params);
    this.pino.error({ context, stack: rest[0] }, message instanceof Error ? message.message : String(message));
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.pino.warn({ context: this.ctx(params).context }, String(message));
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.pino.debug({ context: this.ctx(params).context }, String(message));
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.pino.trace({ context: this.ctx(params).context }, String(message));
  }
  setLogLevels(levels: LogLevel[]): void {
    this.pino.level = levels.includes('debug') ? 'debug' : levels.includes('log') ? 'info' : 'warn';
  }
}

/**
 * Injection token for the gateway's pino instance, for structured lines of
 * its own (the request log); null when the gateway runs without logs (tests).
 */
export const PINO = Symbol('PINO');

export function createLogger(level: string): PinoLogger {
  return new PinoLogger(pino({ level, base: { service: 'strata' } }));
}
