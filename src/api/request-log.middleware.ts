import { Inject, Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { Counter, Histogram } from 'prom-client';
import { PINO } from '../common/logger';
import { MetricsRegistry } from '../metrics/metrics-registry';
import type { AuthedRequest } from './auth.guard';

/** An incoming X-Request-Id is kept only if it is a plain token, so it is safe to log and echo. */
const SANE_ID = /^[\w.:+/=-]{1,128}$/;
/** Probes and scrapes come every few seconds; they are logged at debug unless they fail. */
const ROUTINE = new Set(['/healthz', '/readyz', '/metrics']);
/** Requests no route matched: one label value, whatever the path was. */
const UNMATCHED = '(unmatched)';

/**
 * Every REST request gets an id (the caller's X-Request-Id when sane, else a
 * fresh UUID), echoed in the X-Request-Id response header; when it ends, one
 * log line (method, route template, status, duration, id, actor; never
 * headers or bodies) and the request metrics by route template.
 */
@Injectable()
export class RequestLogMiddleware implements NestMiddleware {
  private readonly log: Logger | null;
  private readonly requests: Counter<'method' | 'route' | 'status_class'>;
  private readonly duration: Histogram<'method' | 'route'>;

  constructor(@Inject(PINO) pino: Logger | null, metrics: MetricsRegistry) {
    this.log = pino?.child({ context: 'HTTP' }) ?? null;
    this.requests = new Counter({
      name: 'strata_http_requests_total',
      help: 'REST requests by method, route template and status class (2xx, 4xx, ...).',
      labelNames: ['method', 'route', 'status_class'],
      registers: [metrics.registry],
    });
    this.duration = new Histogram({
      name: 'strata_http_request_duration_seconds',
      help: 'REST request duration by method and route template, until the response ended.',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [metrics.registry],
    });
  }

  use(req: Request, res: Response, next: NextFunction): void {
    const start = performance.now();
    const incoming = req.headers['x-request-id'];
    const id = typeof incoming === 'string' && SANE_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', id);
    // 'close' also fires when the client goes away before the response ends.
    res.once('close', () => this.done(req as Request & Partial<AuthedRequest>, res, id, start));
    next();
  }

  private done(req: Request & Partial<AuthedRequest>, res: Response, requestId: string, start: number): void {
    const seconds = (performance.now() - start) / 1000;
    // The router leaves the matched route on the request: its template, never the raw URL. Nest answers
    // unknown paths from a catch-all '*path' route; a wildcard is no template, so those count as unmatched.
    const path: unknown = req.route?.path;
    const route = typeof path === 'string' && !path.includes('*') ? path : UNMATCHED;
    const status = res.statusCode;
    this.requests.inc({ method: req.method, route, status_class: `${Math.floor(status / 100)}xx` });
    this.duration.observe({ method: req.method, route }, seconds);
    if (!this.log) return;
    const line = {
      requestId,
      method: req.method,
      route,
      status,
      durationMs: Math.round(seconds * 1e6) / 1000,
      ...(req.actor ? { actor: req.actor.name } : {}),
      ...(res.writableFinished ? {} : { aborted: true }),
    };
    const message = `${req.method} ${route} ${status}`;
    if (ROUTINE.has(route) && status < 400) this.log.debug(line, message);
    else this.log.info(line, message);
  }
}
