import { AdfunnelError } from '@adfunnel/contracts';
import type { z } from 'zod';
import { formatZodError } from './format-zod-error.js';

/**
 * A payload that failed its schema: an invalid_request whose `rejection` names the first problem
 * by field and zod issue code (`adIds: too_small`, array indices as `[]`), a short label to count
 * rejections by, whatever the values were.
 */
export class SchemaRejectionError extends AdfunnelError {
  readonly rejection: string;

  constructor(error: z.ZodError) {
    super('invalid_request', formatZodError(error));
    const first = error.issues[0];
    const where = first === undefined ? '' : labelPath(first.path);
    this.rejection = `${where === '' ? '(payload)' : where}: ${first?.code ?? 'invalid'}`;
  }
}

function labelPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += '[]';
    else out += out ? `.${String(segment)}` : String(segment);
  }
  return out;
}
