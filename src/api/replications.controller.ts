import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ReplicationService } from '../services/replication.service';
import type { Actor } from '../storage/domain';
import { ReplicaService } from '../storage/replica.service';
import { VolumeService } from '../storage/volume.service';
import { CurrentActor } from './auth.guard';
import { AcceptReplicaDto, CreateReplicationDto, UpdateReplicationDto } from './dto/replications.dto';
import { flag } from './query';

/** Source side: this gateway's volumes copied in cycles to volumes on other gateways (docs/replication.md). */
@ApiTags('replication')
@ApiBearerAuth()
@Controller()
export class ReplicationsController {
  constructor(private readonly replications: ReplicationService) {}

  /** This gateway's replication key, to register on a target with strata host add. */
  @Get('replication/identity') identity() {
    return this.replications.identityInfo();
  }
  @Get('replications') list() {
    return this.replications.list();
  }
  @Post('replications') create(@CurrentActor() actor: Actor, @Body() body: CreateReplicationDto) {
    return this.replications.create(actor, body);
  }
  /** By the replication's id or its volume's name or id; with the running (or last) cycle job. */
  @Get('replications/:key') show(@Param('key') key: string) {
    return this.replications.show(key);
  }
  /** Change the schedule or the bandwidth limit (the next cycle uses them). */
  @Patch('replications/:key') update(@CurrentActor() actor: Actor, @Param('key') key: string, @Body() body: UpdateReplicationDto) {
    return this.replications.update(actor, key, body);
  }
  /** A cycle now: resumes an interrupted one, else starts the next. */
  @Post('replications/:key/run')
  @HttpCode(200)
  run(@CurrentActor() actor: Actor, @Param('key') key: string) {
    return this.replications.run(actor, key);
  }
  @Delete('replications/:key')
  @HttpCode(204)
  remove(@CurrentActor() actor: Actor, @Param('key') key: string) {
    return this.replications.remove(actor, key);
  }
}

/** Target side: a volume received from another gateway. */
@ApiTags('replication')
@ApiBearerAuth()
@Controller('volumes/:volume/replica')
export class ReplicaController {
  constructor(
    private readonly replicas: ReplicaService,
    private readonly volumes: VolumeService,
  ) {}

  /** The volume (or the share's volume, given a share's name), whose `replica` field says which host writes it and its last committed cycle. */
  @Get() get(@Param('volume') volume: string) {
    return this.replicas.status(volume);
  }
  /** Make the volume the replica that host (the source gateway's key) writes. */
  @Post() accept(@CurrentActor() actor: Actor, @Param('volume') volume: string, @Body() body: AcceptReplicaDto) {
    return this.replicas.accept(actor, volume, body);
  }
  @ApiQuery({ name: 'force', required: false, description: 'promote a replica that has no committed cycle yet (its contents may be partial)' })
  @Post('promote')
  @HttpCode(200)
  promote(@CurrentActor() actor: Actor, @Param('volume') volume: string, @Query('force') force?: string) {
    return this.replicas.promote(actor, volume, { force: flag(force, 'force') });
  }
}
