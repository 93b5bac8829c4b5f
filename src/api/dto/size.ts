import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, Min } from 'class-validator';
import { parseSize } from '../../common/size';

/** A size field: bytes, or text like `10G` / `512M` (binary units). */
export function IsSize(field: string, opts: { required?: boolean; description?: string } = {}) {
  return applyDecorators(
    ApiProperty({
      oneOf: [{ type: 'integer' }, { type: 'string', example: '10G' }],
      required: opts.required ?? true,
      description: opts.description ?? 'bytes, or a size with a binary unit: 512M, 10G, 2T',
    }),
    Transform(({ value }) => (value === undefined || value === null ? value : parseSize(value, field))),
    IsInt(),
    Min(0),
  );
}
