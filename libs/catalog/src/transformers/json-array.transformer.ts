import type { ValueTransformer } from 'typeorm';

/** A JSON array in a text column, so the same schema works on SQLite and PostgreSQL. */
export class JsonArrayTransformer<T extends string | number> implements ValueTransformer {
  constructor(private readonly itemType: 'string' | 'number') {}

  to(value: readonly T[] | null | undefined): string | null | undefined {
    if (value === null || value === undefined) return value;
    if (!Array.isArray(value))
      throw new TypeError(`expected an array of ${this.itemType}s, got ${typeof value}`);
    for (const item of value) this.check(item);
    return JSON.stringify(value);
  }

  from(value: string | null): T[] | null {
    if (value === null || value === undefined) return null;
    const parsed: unknown = JSON.parse(value);
    if (!Array.isArray(parsed))
      throw new TypeError(`stored value is not a JSON array: ${value.slice(0, 80)}`);
    for (const item of parsed) this.check(item);
    return parsed as T[];
  }

  private check(item: unknown): void {
    const ok =
      this.itemType === 'number'
        ? typeof item === 'number' && Number.isFinite(item)
        : typeof item === 'string';
    if (!ok) throw new TypeError(`array item ${JSON.stringify(item)} is not a ${this.itemType}`);
  }
}

export const jsonStrings = new JsonArrayTransformer<string>('string');
export const jsonNumbers = new JsonArrayTransformer<number>('number');
