import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { IsSize } from './size';

const SQUASH = ['root_squash', 'all_squash', 'no_root_squash'] as const;
type SquashMode = (typeof SQUASH)[number];
const MAX_ID = 4294967295;

const CLIENTS_DOC =
  "who the rule admits: '*', IPv4 or IPv6 addresses and CIDR networks (10.0.0.0/8, 2001:db8::/32); a v4-mapped address (::ffff:10.1.2.3) is treated as the IPv4 address";

/** The fields of an export rule, all optional: the base of the create and update bodies. */
class ExportRuleFieldsDto {
  @ApiPropertyOptional({ enum: ['ro', 'rw'], default: 'ro' }) @IsOptional() @IsIn(['ro', 'rw']) access?: 'ro' | 'rw';
  @ApiPropertyOptional({ enum: SQUASH, default: 'root_squash', description: 'root_squash: uid/gid 0 act as the anonymous ids; all_squash: everyone does' })
  @IsOptional()
  @IsIn(SQUASH)
  squash?: SquashMode;
  @ApiPropertyOptional({ default: 65534, description: 'uid of squashed callers' }) @IsOptional() @IsInt() @Min(0) @Max(MAX_ID) anonUid?: number;
  @ApiPropertyOptional({ default: 65534, description: 'gid of squashed callers' }) @IsOptional() @IsInt() @Min(0) @Max(MAX_ID) anonGid?: number;
  @ApiPropertyOptional({
    default: true,
    description: "only callers from a source port below 1024 (Linux's `secure`); false for clients that cannot bind one, like libnfs tools run as a normal user",
  })
  @IsOptional()
  @IsBoolean()
  requirePrivilegedPort?: boolean;
  @ApiPropertyOptional({ nullable: true, maxLength: 200 }) @IsOptional() @IsString() @MaxLength(200) comment?: string | null;
}

export class ExportRuleDto extends ExportRuleFieldsDto {
  @ApiProperty({ type: [String], example: ['10.0.0.0/8', '2001:db8::/32'], description: CLIENTS_DOC })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(64)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  clients: string[];
}

export class AddExportRuleDto extends ExportRuleDto {
  @ApiPropertyOptional({ description: 'where the rule goes, 1 = first (default: last)' }) @IsOptional() @IsInt() @Min(1) position?: number;
}

export class UpdateExportRuleDto extends ExportRuleFieldsDto {
  @ApiPropertyOptional({ type: [String], description: CLIENTS_DOC })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(64)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  clients?: string[];
  @ApiPropertyOptional({ description: 'move the rule here, 1 = first' }) @IsOptional() @IsInt() @Min(1) position?: number;
}

export class ReplaceExportRulesDto {
  @ApiProperty({ type: [ExportRuleDto], description: 'the new rules, first match wins; [] closes the share to everyone' })
  @IsArray()
  @ArrayMaxSize(64)
  @ValidateNested({ each: true })
  @Type(() => ExportRuleDto)
  rules: ExportRuleDto[];
}

export class CreateShareDto {
  @ApiProperty({ description: 'also the NFS mount path: /<name>' }) @IsString() name: string;
  @ApiProperty({ description: 'pool id or name; the share gets a thin volume there' }) @IsString() pool: string;
  @IsSize('size') size: number;
  @ApiPropertyOptional({ description: 'like exports(5) sync (default true): namespace and attribute changes are durable before the reply; false commits them before the reply without waiting for the disk and syncs within a second (a gateway crash loses none, a host crash may lose the last second)' }) @IsOptional() @IsBoolean() sync?: boolean;
  @ApiPropertyOptional({ type: [ExportRuleDto], description: 'initial export rules; without any, no client may mount the share' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(64)
  @ValidateNested({ each: true })
  @Type(() => ExportRuleDto)
  rules?: ExportRuleDto[];
}

export class UpdateShareDto {
  @ApiPropertyOptional({ description: 'new name (and mount path); file handles stay valid' }) @IsOptional() @IsString() name?: string;
  @IsOptional() @IsSize('size', { required: false, description: 'new size (shares only grow)' }) size?: number;
  @ApiPropertyOptional({ description: 'like exports(5) sync (default true): namespace and attribute changes are durable before the reply; false commits them before the reply without waiting for the disk and syncs within a second (a gateway crash loses none, a host crash may lose the last second)' }) @IsOptional() @IsBoolean() sync?: boolean;
}
