import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMinSize, IsArray, IsBoolean, IsIn, IsInt, IsISO8601, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export class CreateSnapshotDto {
  @ApiProperty({ example: 'before-upgrade', description: "unique among the volume's snapshots; the snapshot is also the read-only volume '<volume>@<name>'" })
  @IsString()
  @MaxLength(63)
  name: string;
}

export class RollbackDto {
  @ApiProperty({ description: 'snapshot name (or id) of this volume' }) @IsString() @MaxLength(200) snapshot: string;
  @ApiPropertyOptional({ description: 'roll back even though hosts have it assigned read-write or it is exported over NBD' })
  @IsOptional()
  @IsBoolean()
  force?: boolean;
}

export class CloneSnapshotDto {
  @ApiProperty({ example: 'test-copy', description: 'name of the new writable volume' }) @IsString() @MaxLength(63) name: string;
}

export class CreateGroupDto {
  @ApiProperty({ example: 'erp' }) @IsString() @MaxLength(63) name: string;
  @ApiProperty({ type: [String], description: 'volume names or ids (block volumes)' })
  @IsArray()
  @ArrayMinSize(1)
  @IsString({ each: true })
  volumes: string[];
}

export class UpdateGroupDto {
  @ApiProperty({ type: [String], description: 'the new member list' })
  @IsArray()
  @ArrayMinSize(1)
  @IsString({ each: true })
  volumes: string[];
}

export class CreateScheduleDto {
  @ApiProperty({ example: 'hourly', description: 'snapshots it takes are named <name>-YYYYMMDD-HHMMSS (UTC)' }) @IsString() @MaxLength(47) name: string;
  @ApiPropertyOptional({ description: 'the volume to snapshot (or give group)' }) @IsOptional() @IsString() volume?: string;
  @ApiPropertyOptional({ description: 'the consistency group to snapshot (or give volume)' }) @IsOptional() @IsString() group?: string;
  @ApiProperty({ example: 1 }) @IsInt() @Min(1) @Max(10_000) every: number;
  @ApiProperty({ enum: ['minutes', 'hours', 'days'] }) @IsIn(['minutes', 'hours', 'days']) unit: 'minutes' | 'hours' | 'days';
  @ApiProperty({ example: 24, description: 'how many of its snapshots to keep (per volume); older ones are deleted' }) @IsInt() @Min(1) @Max(1000) keep: number;
  @ApiPropertyOptional({ description: 'first run, ISO-8601 (default: one interval from now)' }) @IsOptional() @IsISO8601({ strict: true }) startAt?: string;
}
