import { AdfunnelError } from '@adfunnel/contracts';
import { Injectable, type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { formatZodError } from './format-zod-error.js';

@Injectable()
export class ZodValidationPipe<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown): z.infer<S> {
    const result = this.schema.safeParse(value);
    if (result.success) return result.data;
    throw new AdfunnelError('invalid_request', formatZodError(result.error));
  }
}
