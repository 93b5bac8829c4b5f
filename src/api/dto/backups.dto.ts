import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';
import { ExportRuleDto } from './shares.dto';
import { IsSize } from './size';

export class CreateBackupTargetDto {
  @ApiProperty({ example: 'nightly' }) @IsString() @MaxLength(64) name: string;
  @ApiProperty({ enum: ['directory', 'device', 'pool'], description: 'directory: sparse image files and manifests; device: one full raw image on a block device or file; pool: a volume in another pool of this gateway' })
  @IsIn(['directory', 'device', 'pool'])
  kind: 'directory' | 'device' | 'pool';
  @ApiProperty({ required: false, description: 'absolute path (directory or device targets); a directory must exist and be writable', example: '/srv/backups' })
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  path?: string;
  @ApiProperty({ required: false, description: 'the pool (pool targets)' }) @IsOptional() @IsString() @MaxLength(64) pool?: string;
}

export class CreateBackupDto {
  @ApiProperty({ description: 'volume id or name, or a share name (its volume and metadata database are backed up)', example: 'db' }) @IsString() @MaxLength(128) volume: string;
  @ApiProperty({ description: 'backup target id or name', example: 'nightly' }) @IsString() @MaxLength(64) target: string;
  @ApiProperty({ required: false, description: 'only the pages changed since the last complete backup of this volume on this target' })
  @IsOptional()
  @IsBoolean()
  incremental?: boolean;
  @IsOptional() @IsSize('rateLimit', { required: false, description: 'bandwidth limit, bytes per second (or 100M)' }) rateLimit?: number;
}

export class RestoreBackupDto {
  @ApiProperty({ required: false, description: 'a new volume to create and restore into' }) @IsOptional() @IsString() @MaxLength(64) to?: string;
  @ApiProperty({ required: false, description: "the new volume's pool (default: the backed-up volume's)" }) @IsOptional() @IsString() @MaxLength(64) pool?: string;
  @ApiProperty({ required: false, description: 'an existing volume to overwrite (needs force; it must have no assignments)' }) @IsOptional() @IsString() @MaxLength(128) over?: string;
  @ApiProperty({ required: false }) @IsOptional() @IsBoolean() force?: boolean;
  @ApiProperty({ required: false, description: 'a share backup: the new share to create and restore into (served once the job is done)' }) @IsOptional() @IsString() @MaxLength(64) toShare?: string;
  @ApiPropertyOptional({ type: [ExportRuleDto], description: "with toShare: the new share's export rules (default none: no client may mount it until rules are added)" })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(64)
  @ValidateNested({ each: true })
  @Type(() => ExportRuleDto)
  rules?: ExportRuleDto[];
  @IsOptional() @IsSize('rateLimit', { required: false, description: 'bandwidth limit, bytes per second (or 100M)' }) rateLimit?: number;
}
