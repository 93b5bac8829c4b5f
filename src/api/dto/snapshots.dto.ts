import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, MaxLength } from 'class-validator';

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
