import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Actor } from '../storage/domain';
import { ConsistencyGroupService } from '../storage/consistency-group.service';
import { SnapshotScheduleService } from '../storage/snapshot-schedule.service';
import { SnapshotService } from '../storage/snapshot.service';
import { CurrentActor } from './auth.guard';
import { CloneSnapshotDto, CreateGroupDto, CreateScheduleDto, CreateSnapshotDto, RollbackDto, UpdateGroupDto } from './dto/snapshots.dto';
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

/** Volumes snapshotted together, at one instant. */
@ApiTags('snapshots')
@ApiBearerAuth()
@Controller('consistency-groups')
export class ConsistencyGroupsController {
  constructor(private readonly groups: ConsistencyGroupService) {}

  @Get() list() {
    return this.groups.list();
  }
  @Get(':group') get(@Param('group') key: string) {
    return this.groups.get(key);
  }
  @Post() create(@CurrentActor() actor: Actor, @Body() body: CreateGroupDto) {
    return this.groups.create(actor, body);
  }
  @Patch(':group') update(@CurrentActor() actor: Actor, @Param('group') key: string, @Body() body: UpdateGroupDto) {
    return this.groups.update(actor, key, body);
  }
  @Delete(':group')
  @HttpCode(204)
  async remove(@CurrentActor() actor: Actor, @Param('group') key: string): Promise<void> {
    await this.groups.remove(actor, key);
  }
  /** A snapshot named `name` of every member, all at one instant. */
  @Post(':group/snapshots') snapshot(@CurrentActor() actor: Actor, @Param('group') key: string, @Body() body: CreateSnapshotDto) {
    return this.groups.snapshot(actor, key, body);
  }
}

@ApiTags('snapshots')
@ApiBearerAuth()
@Controller('snapshot-schedules')
export class SnapshotSchedulesController {
  constructor(private readonly schedules: SnapshotScheduleService) {}

  @Get() list() {
    return this.schedules.list();
  }
  @Get(':schedule') get(@Param('schedule') key: string) {
    return this.schedules.get(key);
  }
  @Post() create(@CurrentActor() actor: Actor, @Body() body: CreateScheduleDto) {
    return this.schedules.create(actor, body);
  }
  @Delete(':schedule')
  @HttpCode(204)
  async remove(@CurrentActor() actor: Actor, @Param('schedule') key: string): Promise<void> {
    await this.schedules.remove(actor, key);
  }
}
