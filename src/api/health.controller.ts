import { Controller, Get, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { StorageRuntime } from '../storage/runtime';
import { Public } from './auth.guard';

/** Liveness and readiness, unauthenticated, for load balancers and orchestrators. */
@ApiTags('health')
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly ds: DataSource,
    private readonly runtime: StorageRuntime,
  ) {}

  @Get('healthz')
  health() {
    return { status: 'ok', uptimeSeconds: Math.round(process.uptime()) };
  }

  @Get('readyz')
  ready(@Res({ passthrough: true }) res: Response) {
    const reasons: string[] = [];
    if (!this.ds.isInitialized) reasons.push('catalog is not open');
    for (const [, d] of this.runtime.devices) if (d.missingReason) reasons.push(`device ${d.device.label} is missing: ${d.missingReason}`);
    for (const pool of this.runtime.pools.values()) {
      const state = pool.health().state;
      if (state === 'failed') reasons.push(`pool ${pool.name} has failed`);
    }
    const degraded = [...this.runtime.pools.values()].filter((p) => p.health().state === 'degraded').map((p) => p.name);
    res.status(reasons.length ? 503 : 200);
    return { ready: reasons.length === 0, reasons, degradedPools: degraded };
  }
}
