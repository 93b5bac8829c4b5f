import { Injectable } from '@nestjs/common';
import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The gateway's Prometheus registry, served at GET /metrics. Its own
 * instance, not prom-client's global one, so several gateways can run in one
 * process (the tests do).
 *
 * Modules add their collectors here: a prom-client metric created with
 * `registers: [metrics.registry]` and a `collect()` that reads live state at
 * scrape time, or a LiveHistogram over counts the data path keeps. Label
 * values must come from a bounded set: names of objects an admin created,
 * route templates, fixed enums; never raw paths, ids or other client input.
 */
@Injectable()
export class MetricsRegistry {
  readonly registry = new Registry();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'strata_' });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text; every collector reads its live state now. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }
}
