import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiQuery, ApiTags } from '@nestjs/swagger';
import { MirrorSyncService } from '../services/mirror-sync.service';
import type { Actor } from '../storage/domain';
import { CurrentActor } from './auth.guard';
import { AddMirrorDto, ResyncMirrorDto } from './dto/mirrors.dto';
import { flag } from './query';

/** A volume's synchronous mirror on another pool; its state also shows in GET /volumes/:volume. */
@ApiTags('volumes')
@ApiBearerAuth()
@Controller('volumes/:volume/mirror')
export class MirrorsController {
  constructor(private readonly mirrors: MirrorSyncService) {}

  @Get() status(@Param('volume') volume: string) {
    return this.mirrors.status(volume);
  }
  /** Adds the mirror and starts its initial sync job. */
  @Post() add(@CurrentActor() actor: Actor, @Param('volume') volume: string, @Body() body: AddMirrorDto) {
    return this.mirrors.add(actor, volume, body);
  }
  @Post('resync')
  @HttpCode(200)
  resync(@CurrentActor() actor: Actor, @Param('volume') volume: string, @Body() body: ResyncMirrorDto) {
    return this.mirrors.resync(actor, volume, body ?? {});
  }
  @ApiQuery({ name: 'force', required: false, description: 'promote a degraded mirror (its dirty regions hold older bytes)' })
  @Post('swap')
  @HttpCode(200)
  swap(@CurrentActor() actor: Actor, @Param('volume') volume: string, @Query('force') force?: string) {
    return this.mirrors.swap(actor, volume, { force: flag(force, 'force') });
  }
  @Delete() remove(@CurrentActor() actor: Actor, @Param('volume') volume: string) {
    return this.mirrors.remove(actor, volume);
  }
}
