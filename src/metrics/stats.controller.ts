import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { StatsService, type StatsReport } from './stats.service';

/** Live I/O rates for the web console's charts (docs/rest-api.md has the shape). */
@ApiTags('stats')
@ApiBearerAuth()
@Controller('stats')
export class StatsController {
  constructor(private readonly stats: StatsService) {}

  @Get()
  get(): StatsReport {
    return this.stats.report();
  }
}
