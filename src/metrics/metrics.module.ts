import { Global, Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { MetricsRegistry } from './metrics-registry';
import { StatsController } from './stats.controller';
import { StatsService } from './stats.service';
import { StorageCollector } from './storage.collector';

/**
 * Observability: the Prometheus registry and /metrics, the storage
 * collectors, and the sampled rates behind /api/v1/stats. Global, so the
 * front ends (REST now, SAN and NAS later) can inject MetricsRegistry and add
 * their own collectors.
 */
@Global()
@Module({
  controllers: [MetricsController, StatsController],
  providers: [MetricsRegistry, StorageCollector, StatsService],
  exports: [MetricsRegistry, StatsService],
})
export class MetricsModule {}
