import type { ValueTransformer } from 'typeorm';

/**
 * A Float32Array as JSON text. A float32 widened to a double prints and parses back to the same
 * double, so the round trip is exact, and the column stays readable in psql and sqlite3.
 */
export class Float32JsonTransformer implements ValueTransformer {
  constructor(private readonly dim?: number) {}

  to(value: Float32Array | readonly number[] | null | undefined): string | null | undefined {
    if (value === null || value === undefined) return value;
    this.checkLength(value.length);
    const out = new Array<number>(value.length);
    for (let i = 0; i < value.length; i++) {
      const x = Math.fround(value[i]);
      if (!Number.isFinite(x)) throw new TypeError(`vector item ${i} is not finite (${String(value[i])})`);
      out[i] = x;
    }
    return JSON.stringify(out);
  }

  from(value: string | null): Float32Array | null {
    if (value === null || value === undefined) return null;
    return Float32JsonTransformer.parse(value, this.dim);
  }

  static parse(text: string, dim?: number): Float32Array {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed))
      throw new TypeError(`stored vector is not a JSON array: ${text.slice(0, 80)}`);
    if (dim !== undefined && parsed.length !== dim) {
      throw new TypeError(`stored vector has ${parsed.length} items, expected ${dim}`);
    }
    const out = new Float32Array(parsed.length);
    for (let i = 0; i < parsed.length; i++) {
      const x: unknown = parsed[i];
      if (typeof x !== 'number') throw new TypeError(`stored vector item ${i} is not a number`);
      out[i] = x;
    }
    return out;
  }

  private checkLength(length: number): void {
    if (this.dim !== undefined && length !== this.dim) {
      throw new TypeError(`vector has ${length} items, expected ${this.dim}`);
    }
  }
}
