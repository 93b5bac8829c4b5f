import { ApiProperty } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { IsSize } from './size';

export class AddMirrorDto {
  @ApiProperty({ description: 'the pool for the mirror (not the volume\'s own)', example: 'pool2' })
  @IsString()
  @MaxLength(64)
  pool: string;
  @IsOptional() @IsSize('rateLimit', { required: false, description: 'initial sync bandwidth limit, bytes per second (or 100M)' }) rateLimit?: number;
}

export class ResyncMirrorDto {
  @IsOptional() @IsSize('rateLimit', { required: false, description: 'bandwidth limit, bytes per second (or 100M)' }) rateLimit?: number;
}
