import { AdfunnelError } from '@adfunnel/contracts';
import { type ArgumentMetadata, Injectable, type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { MISSING_JSON_BODY_MESSAGE } from '../http/json-body.parser.js';
import { SchemaRejectionError } from './schema-rejection.error.js';

@Injectable()
export class ZodValidationPipe<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown, metadata?: ArgumentMetadata): z.infer<S> {
    // A POST without a body and without a content type reaches the handler with no body at all.
    if (value === undefined && metadata?.type === 'body') {
      throw new AdfunnelError('invalid_request', MISSING_JSON_BODY_MESSAGE);
    }
    const result = this.schema.safeParse(value);
    if (result.success) return result.data;
    throw new SchemaRejectionError(result.error);
  }
}
