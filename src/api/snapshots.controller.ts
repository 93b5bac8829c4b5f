import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Actor } from '../storage/domain';
import { SnapshotService } from '../storage/snapshot.service';
import { CurrentActor } from './auth.guard';
import { CloneSnapshotDto, CreateSnapshotDto, RollbackDto } from './dto/snapshots.dto';
import { flag } from './query';

/** A volume's snapshots, its rollback and clones of its snapshots. */
@ApiTags('snapshots')
@ApiBearerAuth()
@Controller('volumes/:volume')
export class SnapshotsController {
  constructor(private readonly snapshots: SnapshotService) {}

  @Get('snapshots') list(@Param('volume') volume: string) {
    return this.snapshots.list(volume);
  }
  @Get('snapshots/:snapshot') get(@Param('volume') volume: string, @Param('snapshot') snapshot: string) {
    return this.snapshots.get(volume, snapshot);
  }
  @Post('snapshots') create(@CurrentActor() actor: Actor, @Param('volume') volume: string, @Body() body: CreateSnapshotDto) {
    return this.snapshots.create(actor, volume, body);
  }
  @ApiQuery({ name: 'force', required: false, description: 'revoke its assignments and delete anyway' })
  @Delete('snapshots/:snapshot')
  @HttpCode(204)
  async remove(@CurrentActor() actor: Actor, @Param('volume') volume: string, @Param('snapshot') snapshot: string, @Query('force') force?: string): Promise<void> {
    await this.snapshots.remove(actor, volume, snapshot, { force: flag(force, 'force') });
  }
  @Post('snapshots/:snapshot/clone')
  clone(@CurrentActor() actor: Actor, @Param('volume') volume: string, @Param('snapshot') snapshot: string, @Body() body: CloneSnapshotDto) {
    return this.snapshots.clone(actor, volume, snapshot, body);
  }
  @Post('rollback')
  @HttpCode(200)
  rollback(@CurrentActor() actor: Actor, @Param('volume') volume: string, @Body() body: RollbackDto) {
    return this.snapshots.rollback(actor, volume, body);
  }
}
