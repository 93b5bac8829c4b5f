import type { Request, Response } from 'express';
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parseExposition, sampleValue } from '../../test/utils/prometheus-text';
import { MetricsRegistry } from '../metrics/metrics-registry';
import { RequestLogMiddleware } from './request-log.middleware';

function setup(withLog = true) {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  const metrics = new MetricsRegistry();
  const mw = new RequestLogMiddleware(withLog ? pino({ level: 'info' }, sink) : null, metrics);
  /** Run one request through the middleware; `finish` plays the router and the handler. */
  const run = (req: Partial<Request> & { actor?: { name: string } }, finish: { route?: string; status: number; aborted?: boolean }) => {
    const res = Object.assign(new EventEmitter(), {
      headers: {} as Record<string, string>,
      statusCode: 200,
      writableFinished: false,
      setHeader(name: string, value: string) {
        this.headers[name.toLowerCase()] = value;
      },
    });
    const request = { method: 'GET', headers: {}, ...req } as Request & { route?: { path: string } };
    let nextCalled = false;
    mw.use(request, res as unknown as Response, () => (nextCalled = true));
    expect(nextCalled).toBe(true);
    if (finish.route) request.route = { path: finish.route };
    res.statusCode = finish.status;
    res.writableFinished = !finish.aborted;
    res.emit('close');
    return res.headers['x-request-id'];
  };
  return { lines, metrics, run };
}

describe('RequestLogMiddleware', () => {
  it('keeps a sane X-Request-Id and replaces anything else with a UUID', () => {
    const { run } = setup();
    expect(run({ headers: { 'x-request-id': 'abc-123_x.y:z/+=' } }, { status: 200 })).toBe('abc-123_x.y:z/+=');
    for (const bad of ['', 'has space', 'a'.repeat(129), 'line\nbreak', 'quote"']) {
      expect(run({ headers: { 'x-request-id': bad } }, { status: 200 })).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  });

  it('logs one line per request with the route template and actor, never headers or bodies', () => {
    const { lines, run } = setup();
    const id = run(
      {
        method: 'PUT',
        url: '/api/v1/volumes/secret-name/image',
        headers: { authorization: 'Bearer s3cr3t', 'x-request-id': 'req-1' },
        body: { password: 'hunter2' },
        actor: { name: 'admin' },
      },
      { route: '/api/v1/volumes/:key/image', status: 200 },
    );
    expect(id).toBe('req-1');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 30,
      context: 'HTTP',
      requestId: 'req-1',
      method: 'PUT',
      route: '/api/v1/volumes/:key/image',
      status: 200,
      actor: 'admin',
      msg: 'PUT /api/v1/volumes/:key/image 200',
    });
    expect(typeof lines[0].durationMs).toBe('number');
    expect(lines[0]).not.toHaveProperty('aborted');
    expect(JSON.stringify(lines[0])).not.toMatch(/s3cr3t|hunter2|secret-name|authorization/i);
  });

  it('marks a request the client left, and has no actor for an anonymous one', () => {
    const { lines, run } = setup();
    run({}, { route: '/api/v1/volumes', status: 200, aborted: true });
    expect(lines[0]).toMatchObject({ aborted: true });
    expect(lines[0]).not.toHaveProperty('actor');
  });

  it('logs probes and scrapes at debug unless they fail', () => {
    const { lines, run } = setup();
    run({}, { route: '/healthz', status: 200 });
    run({}, { route: '/metrics', status: 200 });
    run({}, { route: '/readyz', status: 503 });
    expect(lines.map((l) => l.route)).toEqual(['/readyz']);
  });

  it('counts requests by route template and status class; unknown routes under one label', async () => {
    const { metrics, run } = setup(false);
    run({ method: 'GET' }, { route: '/api/v1/pools/:key', status: 200 });
    run({ method: 'GET' }, { route: '/api/v1/pools/:key', status: 404 });
    run({ method: 'GET' }, { route: '*path', status: 404 });
    run({ method: 'GET' }, { status: 404 });
    const m = parseExposition(await metrics.scrape());
    expect(sampleValue(m, 'strata_http_requests_total', { method: 'GET', route: '/api/v1/pools/:key', status_class: '2xx' })).toBe(1);
    expect(sampleValue(m, 'strata_http_requests_total', { method: 'GET', route: '/api/v1/pools/:key', status_class: '4xx' })).toBe(1);
    expect(sampleValue(m, 'strata_http_requests_total', { method: 'GET', route: '(unmatched)', status_class: '4xx' })).toBe(2);
    expect(sampleValue(m, 'strata_http_request_duration_seconds_count', { method: 'GET', route: '/api/v1/pools/:key' })).toBe(2);
  });
});
