import type { ValueTransformer } from 'typeorm';

/**
 * A whole number in a bigint column (epoch ms, micro-dollars). PostgreSQL returns int8 as a string
 * (it may exceed 2^53); the values kept here stay far below that, so a number is exact.
 */
export class SafeBigintTransformer implements ValueTransformer {
  constructor(private readonly what: string) {}

  to(value: number | null | undefined): number | null | undefined {
    if (value === null || value === undefined) return value;
    if (!Number.isSafeInteger(value))
      throw new TypeError(`${this.what} must be a safe integer, got ${String(value)}`);
    return value;
  }

  from(value: string | number | bigint | null): number | null {
    if (value === null || value === undefined) return null;
    const n = Number(value);
    if (!Number.isSafeInteger(n))
      throw new TypeError(`stored ${this.what} "${String(value)}" is not a safe integer`);
    return n;
  }
}

export const epochMs = new SafeBigintTransformer('epoch ms');
export const micros = new SafeBigintTransformer('micro-dollar amount');
