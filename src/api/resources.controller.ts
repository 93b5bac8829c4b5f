import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Actor } from '../storage/domain';
import { AssignmentService } from '../storage/assignment.service';
import { AuditService } from '../storage/audit.service';
import { DeviceService } from '../storage/device.service';
import { HostService } from '../storage/host.service';
import { PoolService } from '../storage/pool.service';
import { VolumeService, type VolumeListRole } from '../storage/volume.service';
import { InvalidArgument } from '../common/errors';
import { CurrentActor } from './auth.guard';
import {
  CreateAssignmentDto,
  CreateDeviceDto,
  CreateHostDto,
  CreatePoolDto,
  CreateVolumeDto,
  RenameDto,
  UpdateAssignmentDto,
  UpdateHostDto,
  UpdateVolumeDto,
} from './dto/resources.dto';
import { flag, optionalInt } from './query';

@ApiTags('devices')
@ApiBearerAuth()
@Controller('devices')
export class DevicesController {
  constructor(private readonly devices: DeviceService) {}

  @Get() list() {
    return this.devices.list();
  }
  @Get(':key') get(@Param('key') key: string) {
    return this.devices.get(key);
  }
  @Post() create(@CurrentActor() actor: Actor, @Body() body: CreateDeviceDto) {
    return this.devices.create(actor, body);
  }
  @Patch(':key') update(@CurrentActor() actor: Actor, @Param('key') key: string, @Body() body: RenameDto) {
    return this.devices.update(actor, key, body);
  }
  @ApiQuery({ name: 'purge', required: false, description: 'also delete the backing file of a file device' })
  @Delete(':key')
  @HttpCode(204)
  async remove(@CurrentActor() actor: Actor, @Param('key') key: string, @Query('purge') purge?: string): Promise<void> {
    await this.devices.remove(actor, key, { purge: flag(purge, 'purge') });
  }
}

@ApiTags('pools')
@ApiBearerAuth()
@Controller('pools')
export class PoolsController {
  constructor(private readonly pools: PoolService) {}

  @Get() list() {
    return this.pools.list();
  }
  @Get(':key') get(@Param('key') key: string) {
    return this.pools.get(key);
  }
  @Get(':key/check') check(@Param('key') key: string) {
    return this.pools.check(key);
  }
  @Post() create(@CurrentActor() actor: Actor, @Body() body: CreatePoolDto) {
    return this.pools.create(actor, body);
  }
  @Patch(':key') update(@CurrentActor() actor: Actor, @Param('key') key: string, @Body() body: RenameDto) {
    return this.pools.update(actor, key, body);
  }
  @Delete(':key')
  @HttpCode(204)
  async remove(@CurrentActor() actor: Actor, @Param('key') key: string): Promise<void> {
    await this.pools.remove(actor, key);
  }
}

@ApiTags('volumes')
@ApiBearerAuth()
@Controller('volumes')
export class VolumesController {
  constructor(private readonly volumes: VolumeService) {}

  @ApiQuery({ name: 'pool', required: false })
  @ApiQuery({ name: 'role', required: false, enum: ['block', 'share', 'snapshot', 'all'], description: "block (default): SAN/NBD volumes; share: the shares' own volumes; snapshot: snapshots (named volume@snapshot); all" })
  @Get()
  list(@Query('pool') pool?: string, @Query('role') role?: string) {
    return this.volumes.list({ pool, role: role as VolumeListRole | undefined });
  }
  @Get(':key') get(@Param('key') key: string) {
    return this.volumes.get(key);
  }
  @Post() create(@CurrentActor() actor: Actor, @Body() body: CreateVolumeDto) {
    return this.volumes.create(actor, body);
  }
  @Patch(':key') update(@CurrentActor() actor: Actor, @Param('key') key: string, @Body() body: UpdateVolumeDto) {
    return this.volumes.update(actor, key, body);
  }
  @ApiQuery({ name: 'force', required: false, description: 'revoke its assignments (and its snapshots\') and delete anyway' })
  @ApiQuery({ name: 'recursive', required: false, description: 'delete its snapshots too (clones stay)' })
  @Delete(':key')
  @HttpCode(204)
  async remove(@CurrentActor() actor: Actor, @Param('key') key: string, @Query('force') force?: string, @Query('recursive') recursive?: string): Promise<void> {
    await this.volumes.remove(actor, key, { force: flag(force, 'force'), recursive: flag(recursive, 'recursive') });
  }
}

@ApiTags('hosts')
@ApiBearerAuth()
@Controller('hosts')
export class HostsController {
  constructor(private readonly hosts: HostService) {}

  @Get() list() {
    return this.hosts.list();
  }
  @Get(':key') get(@Param('key') key: string) {
    return this.hosts.get(key);
  }
  @Post() create(@CurrentActor() actor: Actor, @Body() body: CreateHostDto) {
    return this.hosts.create(actor, body);
  }
  @Patch(':key') update(@CurrentActor() actor: Actor, @Param('key') key: string, @Body() body: UpdateHostDto) {
    return this.hosts.update(actor, key, body);
  }
  @ApiQuery({ name: 'force', required: false, description: 'revoke its assignments and delete anyway' })
  @Delete(':key')
  @HttpCode(204)
  async remove(@CurrentActor() actor: Actor, @Param('key') key: string, @Query('force') force?: string): Promise<void> {
    await this.hosts.remove(actor, key, { force: flag(force, 'force') });
  }
}

@ApiTags('assignments')
@ApiBearerAuth()
@Controller('assignments')
export class AssignmentsController {
  constructor(private readonly assignments: AssignmentService) {}

  @ApiQuery({ name: 'host', required: false })
  @ApiQuery({ name: 'volume', required: false })
  @Get()
  list(@Query('host') host?: string, @Query('volume') volume?: string) {
    return this.assignments.list({ host, volume });
  }
  @Get(':id') get(@Param('id') id: string) {
    return this.assignments.get(id);
  }
  @Post() create(@CurrentActor() actor: Actor, @Body() body: CreateAssignmentDto) {
    return this.assignments.create(actor, body);
  }
  @Patch(':id') update(@CurrentActor() actor: Actor, @Param('id') id: string, @Body() body: UpdateAssignmentDto) {
    return this.assignments.update(actor, id, body);
  }
  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentActor() actor: Actor, @Param('id') id: string): Promise<void> {
    await this.assignments.remove(actor, id);
  }
}

@ApiTags('audit')
@ApiBearerAuth()
@Controller('audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @ApiQuery({ name: 'actor', required: false })
  @ApiQuery({ name: 'action', required: false, description: 'exact, or a prefix ending in * (volume.*)' })
  @ApiQuery({ name: 'objectType', required: false })
  @ApiQuery({ name: 'object', required: false, description: 'object id or name' })
  @ApiQuery({ name: 'outcome', required: false, enum: ['success', 'failure'] })
  @ApiQuery({ name: 'since', required: false, description: 'ISO-8601 time' })
  @ApiQuery({ name: 'until', required: false, description: 'ISO-8601 time' })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'before', required: false, description: 'entries with an id below this (paging)' })
  @Get()
  list(@Query() q: Record<string, string | undefined>) {
    for (const t of ['since', 'until'] as const) {
      if (q[t] !== undefined && Number.isNaN(Date.parse(q[t]!))) throw new InvalidArgument(`${t} must be an ISO-8601 time`, t);
    }
    if (q.outcome !== undefined && q.outcome !== 'success' && q.outcome !== 'failure') {
      throw new InvalidArgument('outcome must be success or failure', 'outcome');
    }
    return this.audit.query({
      actor: q.actor,
      action: q.action,
      objectType: q.objectType,
      object: q.object,
      outcome: q.outcome as 'success' | 'failure' | undefined,
      since: q.since ? new Date(q.since).toISOString() : undefined,
      until: q.until ? new Date(q.until).toISOString() : undefined,
      limit: optionalInt(q.limit, 'limit'),
      beforeId: optionalInt(q.before, 'before'),
    });
  }
}
