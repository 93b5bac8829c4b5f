import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, MaxLength, ValidateIf } from 'class-validator';
import { IsSize } from './size';

export class CreateReplicationDto {
  @ApiProperty({ example: 'db', description: 'the block volume or share to replicate (name or id)' }) @IsString() @MaxLength(200) volume: string;
  @ApiProperty({ example: '10.0.0.2:7700', description: "the target gateway's SAN address, host[:port] (port 7700 when left out)" })
  @IsString()
  @MaxLength(300)
  target: string;
  @ApiProperty({ example: 'db-replica', description: 'the replica volume on the target, or the replica share when a share is replicated (accepted there with strata replica accept)' })
  @IsString()
  @MaxLength(63)
  targetVolume: string;
  @ApiPropertyOptional({ description: "the host name the target registered this gateway's replication key under (default: this machine's host name)" })
  @IsOptional()
  @IsString()
  @MaxLength(63)
  hostName?: string;
  @ApiPropertyOptional({ oneOf: [{ type: 'string', example: '15m' }, { type: 'integer' }], description: 'a cycle this often (30s, 15m, 1h, 1d, or seconds); absent: on demand only' })
  @IsOptional()
  @ValidateIf((_, v) => typeof v === 'string')
  @MaxLength(20)
  every?: string | number;
  @IsOptional() @IsSize('rateLimit', { required: false, description: 'bandwidth limit, bytes per second (or 50M)' }) rateLimit?: number;
}

export class UpdateReplicationDto {
  @ApiPropertyOptional({ oneOf: [{ type: 'string', example: '1h' }, { type: 'integer' }], nullable: true, description: "a cycle this often (30s, 15m, 1h, 1d, or seconds); null or '' stops the schedule" })
  @IsOptional()
  @ValidateIf((_, v) => typeof v === 'string')
  @MaxLength(20)
  every?: string | number | null;
  @IsOptional() @IsSize('rateLimit', { required: false, description: 'bandwidth limit, bytes per second (or 50M); 0 lifts it' }) rateLimit?: number;
}

export class AcceptReplicaDto {
  @ApiProperty({ example: 'site-a', description: "the host registered with the source gateway's replication key (strata replication identity there)" })
  @IsString()
  @MaxLength(200)
  host: string;

  @ApiPropertyOptional({ description: "a share that holds file data: accept it anyway (the source's copy replaces its files)" })
  @IsOptional()
  @IsBoolean()
  force?: boolean;
}
