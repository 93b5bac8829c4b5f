import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { NasService } from '../nas/nas.service';
import type { Actor } from '../storage/domain';
import { ShareService } from '../storage/share.service';
import { CurrentActor } from './auth.guard';
import { AddExportRuleDto, CreateShareDto, ReplaceExportRulesDto, UpdateExportRuleDto, UpdateShareDto } from './dto/shares.dto';
import { flag } from './query';

@ApiTags('shares')
@ApiBearerAuth()
@Controller('shares')
export class SharesController {
  constructor(
    private readonly shares: ShareService,
    private readonly nas: NasService,
  ) {}

  @Get() list() {
    return this.shares.list();
  }
  @Get(':share') get(@Param('share') key: string) {
    return this.shares.get(key);
  }
  @Post() create(@CurrentActor() actor: Actor, @Body() body: CreateShareDto) {
    return this.shares.create(actor, body);
  }
  /** Rename and/or grow (`size`: shares only grow). */
  @Patch(':share') update(@CurrentActor() actor: Actor, @Param('share') key: string, @Body() body: UpdateShareDto) {
    return this.shares.update(actor, key, body);
  }
  /** Cross-check the share's filesystem metadata against its block allocation (changes wait meanwhile), or one of its snapshots'. */
  @ApiQuery({ name: 'snapshot', required: false, description: "check this snapshot's metadata copy instead of the live share" })
  @Post(':share/fsck')
  @HttpCode(200)
  fsck(@CurrentActor() actor: Actor, @Param('share') key: string, @Query('snapshot') snapshot?: string) {
    return this.nas.fsck(actor, key, snapshot === undefined ? {} : { snapshot });
  }
  @ApiQuery({ name: 'force', required: false, description: 'delete even if the NAS layer reports clients using it' })
  @Delete(':share')
  @HttpCode(204)
  async remove(@CurrentActor() actor: Actor, @Param('share') key: string, @Query('force') force?: string): Promise<void> {
    await this.shares.remove(actor, key, { force: flag(force, 'force') });
  }
}

/** A share's export rules, in order: the first rule whose clients match a caller decides for it. */
@ApiTags('shares')
@ApiBearerAuth()
@Controller('shares/:share/rules')
export class ShareRulesController {
  constructor(private readonly shares: ShareService) {}

  @Get() list(@Param('share') key: string) {
    return this.shares.listRules(key);
  }
  @ApiParam({ name: 'rule', description: 'rule id, or its 1-based position' })
  @Get(':rule')
  get(@Param('share') key: string, @Param('rule') rule: string) {
    return this.shares.getRule(key, rule);
  }
  @Post() add(@CurrentActor() actor: Actor, @Param('share') key: string, @Body() body: AddExportRuleDto) {
    return this.shares.addRule(actor, key, body);
  }
  /** Replace all rules at once. */
  @Put() replace(@CurrentActor() actor: Actor, @Param('share') key: string, @Body() body: ReplaceExportRulesDto) {
    return this.shares.replaceRules(actor, key, body.rules);
  }
  @ApiParam({ name: 'rule', description: 'rule id, or its 1-based position' })
  @Patch(':rule')
  update(@CurrentActor() actor: Actor, @Param('share') key: string, @Param('rule') rule: string, @Body() body: UpdateExportRuleDto) {
    return this.shares.updateRule(actor, key, rule, body);
  }
  @ApiParam({ name: 'rule', description: 'rule id, or its 1-based position' })
  @Delete(':rule')
  @HttpCode(204)
  async remove(@CurrentActor() actor: Actor, @Param('share') key: string, @Param('rule') rule: string): Promise<void> {
    await this.shares.removeRule(actor, key, rule);
  }
}
