import { Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { MetricsRegistry } from '../metrics/metrics-registry';
import type { SanStats } from './san-stats';
import { SanService } from './san.service';

/** Datagrams the target did not act on, by why: one bounded label. */
const DROPPED: ReadonlyArray<[keyof SanStats, string]> = [
  ['malformed', 'malformed'],
  ['badVersionOrKind', 'bad_version_or_kind'],
  ['forged', 'forged'],
  ['replayed', 'replayed'],
  ['noSession', 'no_session'],
  ['unexpected', 'unexpected'],
];

/**
 * SAN series, read from the target's plain counters at every scrape: sessions,
 * datagrams and bytes, datagrams dropped or rejected by reason, logins,
 * calls, calls answered from the reply cache (retransmissions) and errors.
 */
@Injectable()
export class SanCollector {
  constructor(metrics: MetricsRegistry, san: SanService) {
    const registers = [metrics.registry];
    const counter = (name: string, help: string, read: (s: NonNullable<ReturnType<SanService['stats']>>) => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          const s = san.stats();
          this.reset();
          if (s) this.inc(read(s));
        },
      });
    new Gauge({
      name: 'strata_san_sessions',
      help: 'Open SAN sessions.',
      registers,
      collect() {
        this.set(san.stats()?.sessions ?? 0);
      },
    });
    counter('strata_san_datagrams_received_total', 'SAN datagrams received.', (s) => s.datagramsIn);
    counter('strata_san_datagrams_sent_total', 'SAN datagrams sent.', (s) => s.datagramsOut);
    counter('strata_san_received_bytes_total', 'SAN bytes received (UDP payload).', (s) => s.bytesIn);
    counter('strata_san_sent_bytes_total', 'SAN bytes sent (UDP payload).', (s) => s.bytesOut);
    counter('strata_san_calls_total', 'SAN calls executed.', (s) => s.calls);
    counter('strata_san_call_errors_total', 'SAN calls answered with a status other than OK.', (s) => s.callErrors);
    counter('strata_san_retransmitted_calls_total', 'Retransmitted SAN calls answered from the reply cache, not executed again.', (s) => s.callsReplayed);
    counter('strata_san_misordered_calls_total', 'SAN calls refused for a stale or skipped slot sequence.', (s) => s.callsMisordered);
    counter('strata_san_send_errors_total', 'SAN datagrams the socket failed to send.', (s) => s.sendErrors);
    counter('strata_san_reply_buffers_reused_total', 'Large SAN READ replies sent from a buffer an earlier reply had used.', (s) => s.replyBuffersReused);
    counter('strata_san_reply_buffers_discarded_total', 'Pooled SAN reply buffers left to the garbage collector (a send still queued, or the pool full).', (s) => s.replyBuffersDiscarded);
    new Counter<'reason'>({
      name: 'strata_san_dropped_datagrams_total',
      help: 'SAN datagrams dropped or rejected, by reason.',
      labelNames: ['reason'],
      registers,
      collect() {
        const s = san.stats();
        this.reset();
        if (s) for (const [field, reason] of DROPPED) this.inc({ reason }, s[field] as number);
      },
    });
    new Counter<'outcome'>({
      name: 'strata_san_logins_total',
      help: 'SAN logins, by outcome.',
      labelNames: ['outcome'],
      registers,
      collect() {
        const s = san.stats();
        this.reset();
        if (s) {
          this.inc({ outcome: 'accepted' }, s.loginsAccepted);
          this.inc({ outcome: 'refused' }, s.loginsRefused);
        }
      },
    });
  }
}
