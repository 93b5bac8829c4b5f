import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiQuery, ApiTags } from '@nestjs/swagger';
import { BackupService } from '../services/backup/backup.service';
import type { Actor } from '../storage/domain';
import { CurrentActor } from './auth.guard';
import { CreateBackupDto, CreateBackupTargetDto, RestoreBackupDto } from './dto/backups.dto';
import { flag } from './query';

/** Where backups go. */
@ApiTags('backups')
@ApiBearerAuth()
@Controller('backup-targets')
export class BackupTargetsController {
  constructor(private readonly backups: BackupService) {}

  @Get() list() {
    return this.backups.listTargets();
  }
  @Get(':target') get(@Param('target') key: string) {
    return this.backups.getTarget(key);
  }
  @Post() create(@CurrentActor() actor: Actor, @Body() body: CreateBackupTargetDto) {
    return this.backups.addTarget(actor, body);
  }
  @Delete(':target')
  @HttpCode(204)
  async remove(@CurrentActor() actor: Actor, @Param('target') key: string): Promise<void> {
    await this.backups.removeTarget(actor, key);
  }
}

/** The backup catalog: create (a job), list, show, remove, restore (a job), verify (a job). */
@ApiTags('backups')
@ApiBearerAuth()
@Controller('backups')
export class BackupsController {
  constructor(private readonly backups: BackupService) {}

  @ApiQuery({ name: 'volume', required: false, description: 'only backups of this volume (id or name; a deleted volume by its name)' })
  @Get()
  list(@Query('volume') volume?: string) {
    return this.backups.list({ volume });
  }
  @Get(':id') get(@Param('id') id: string) {
    return this.backups.get(id);
  }
  /** Starts the backup job; answers with the pending backup and its job. */
  @Post() create(@CurrentActor() actor: Actor, @Body() body: CreateBackupDto) {
    return this.backups.create(actor, body);
  }
  @ApiQuery({ name: 'withDependents', required: false, description: 'also remove the incrementals built on it' })
  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentActor() actor: Actor, @Param('id') id: string, @Query('withDependents') withDependents?: string): Promise<void> {
    await this.backups.remove(actor, id, { withDependents: flag(withDependents, 'withDependents') });
  }
  @Post(':id/restore')
  restore(@CurrentActor() actor: Actor, @Param('id') id: string, @Body() body: RestoreBackupDto) {
    return this.backups.restore(actor, id, body ?? {});
  }
  /** Starts a job that reads the backup's chain and checks every page. */
  @Post(':id/verify')
  verify(@CurrentActor() actor: Actor, @Param('id') id: string) {
    return this.backups.verify(actor, id);
  }
}
