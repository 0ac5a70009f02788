import type { ValueTransformer } from 'typeorm';

/**
 * Epoch milliseconds in a bigint column. PostgreSQL returns int8 as a string (it may exceed 2^53);
 * epoch ms stays far below that, so a number is exact.
 */
export class EpochMsTransformer implements ValueTransformer {
  to(value: number | null | undefined): number | null | undefined {
    if (value === null || value === undefined) return value;
    if (!Number.isSafeInteger(value))
      throw new TypeError(`epoch ms must be a safe integer, got ${String(value)}`);
    return value;
  }

  from(value: string | number | bigint | null): number | null {
    if (value === null || value === undefined) return null;
    const n = Number(value);
    if (!Number.isSafeInteger(n))
      throw new TypeError(`stored epoch ms "${String(value)}" is not a safe integer`);
    return n;
  }
}

export const epochMs = new EpochMsTransformer();
