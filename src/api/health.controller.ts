import { Controller, Get, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { StorageRuntime } from '../storage/runtime';
import { Public } from './auth.guard';

/** Liveness and readiness, unauthenticated, for load balancers and orchestrators. */
@ApiTags('health')
@Public()
@Controller()
export class HealthController {
  constructor(private readonly runtime: StorageRuntime) {}

  @Get('healthz')
  health() {
    return { status: 'ok', uptimeSeconds: Math.round(process.uptime()) };
  }

  @Get('readyz')
  ready(@Res({ passthrough: true }) res: Response) {
    const { reasons, degradedPools } = this.runtime.readiness();
    res.status(reasons.length ? 503 : 200);
    return { ready: reasons.length === 0, reasons, degradedPools };
  }
}
