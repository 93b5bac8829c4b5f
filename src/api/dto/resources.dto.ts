import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMinSize, IsArray, IsBoolean, IsIn, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';
import { IsSize } from './size';
import { HOST_SECURITIES, type HostSecurity } from '../../storage/domain';

export class LoginDto {
  @ApiProperty() @IsString() @MaxLength(64) username: string;
  @ApiProperty() @IsString() @MaxLength(1024) password: string;
}

export class ChangePasswordDto {
  @ApiPropertyOptional({ description: 'required when changing your own password' })
  @IsOptional()
  @IsString()
  currentPassword?: string;
  @ApiProperty() @IsString() @MaxLength(1024) newPassword: string;
}

export class CreateUserDto {
  @ApiProperty() @IsString() username: string;
  @ApiProperty() @IsString() @MaxLength(1024) password: string;
}

export class AddSshKeyDto {
  @ApiProperty({
    description: 'OpenSSH public key line (a .pub file): ssh-ed25519, ssh-rsa (2048+ bits) or ecdsa-sha2-nistp256/384/521',
    example: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI... alice@laptop',
  })
  @IsString()
  @MaxLength(16384)
  publicKey: string;
  @ApiPropertyOptional({ description: 'a label; default: the comment on the key line' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  name?: string;
}

export class CreateDeviceDto {
  @ApiProperty({ example: 'disk1' }) @IsString() name: string;
  @ApiProperty({ enum: ['file', 'block', 'ram'] }) @IsIn(['file', 'block', 'ram']) kind: 'file' | 'block' | 'ram';
  @ApiPropertyOptional({ description: 'file: defaults to <dataDir>/devices/<name>.img; block: required, e.g. /dev/sdb' })
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  path?: string;
  @IsOptional() @IsSize('size', { required: false, description: 'file (to create it) and ram devices' }) size?: number;
}

export class RenameDto {
  @ApiPropertyOptional() @IsOptional() @IsString() name?: string;
}

export class PoolMemberDto {
  @ApiProperty({ description: 'device id or name' }) @IsString() device: string;
  @IsOptional() @IsSize('offset', { required: false, description: 'default: start of the largest free region' }) offset?: number;
  @IsOptional() @IsSize('length', { required: false, description: 'default: the rest of that free region' }) length?: number;
}

export class CreatePoolDto {
  @ApiProperty() @IsString() name: string;
  @ApiProperty({ enum: ['concat', 'raid0', 'raid1', 'raid10'] })
  @IsIn(['concat', 'raid0', 'raid1', 'raid10'])
  layout: 'concat' | 'raid0' | 'raid1' | 'raid10';
  @IsOptional() @IsSize('pageSize', { required: false, description: 'power of two, 64K to 16M; default 1M' }) pageSize?: number;
  @IsOptional() @IsSize('stripeUnit', { required: false, description: 'raid0/raid10 stripe unit; default 64K' }) stripeUnit?: number;
  @ApiProperty({ type: [PoolMemberDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ValidateNested({ each: true })
  @Type(() => PoolMemberDto)
  members: PoolMemberDto[];
}

export class CreateVolumeDto {
  @ApiProperty() @IsString() name: string;
  @ApiProperty({ description: 'pool id or name' }) @IsString() pool: string;
  @IsSize('size') size: number;
  @ApiPropertyOptional({ enum: ['thin', 'thick'], default: 'thin' })
  @IsOptional()
  @IsIn(['thin', 'thick'])
  provisioning?: 'thin' | 'thick';
  @ApiPropertyOptional({ description: "export it over the gateway's NBD server on loopback", default: false })
  @IsOptional()
  @IsBoolean()
  nbdExport?: boolean;
}

export class UpdateVolumeDto {
  @ApiPropertyOptional() @IsOptional() @IsString() name?: string;
  @ApiPropertyOptional({ description: "export it over the gateway's NBD server on loopback" }) @IsOptional() @IsBoolean() nbdExport?: boolean;
  @IsOptional() @IsSize('size', { required: false, description: 'new size (volumes only grow)' }) size?: number;
}

export class CreateHostDto {
  @ApiProperty() @IsString() name: string;
  @ApiProperty({ description: 'Ed25519 public key: the output of strata-client keygen (ssh-ed25519 AAAA...)' })
  @IsString()
  @MaxLength(8192)
  publicKey: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(1024) description?: string;
  @ApiPropertyOptional({ enum: HOST_SECURITIES, default: 'encrypt', description: "integrity: the host may send its SAN data in clear, authenticated (it must ask for it at login)" })
  @IsOptional()
  @IsIn(HOST_SECURITIES)
  security?: HostSecurity;
}

export class UpdateHostDto {
  @ApiPropertyOptional() @IsOptional() @IsString() name?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(8192) publicKey?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(1024) description?: string;
  @ApiPropertyOptional({ enum: HOST_SECURITIES }) @IsOptional() @IsIn(HOST_SECURITIES) security?: HostSecurity;
}

export class CreateAssignmentDto {
  @ApiProperty({ description: 'host id or name' }) @IsString() host: string;
  @ApiProperty({ description: 'volume id or name' }) @IsString() volume: string;
  @ApiPropertyOptional({ enum: ['rw', 'ro'], default: 'rw' }) @IsOptional() @IsIn(['rw', 'ro']) access?: 'rw' | 'ro';
  @ApiPropertyOptional({ enum: ['exclusive', 'shared'], default: 'exclusive' })
  @IsOptional()
  @IsIn(['exclusive', 'shared'])
  sharing?: 'exclusive' | 'shared';
}

export class UpdateAssignmentDto {
  @ApiPropertyOptional({ enum: ['rw', 'ro'] }) @IsOptional() @IsIn(['rw', 'ro']) access?: 'rw' | 'ro';
  @ApiPropertyOptional({ enum: ['exclusive', 'shared'] }) @IsOptional() @IsIn(['exclusive', 'shared']) sharing?: 'exclusive' | 'shared';
}
