import { describe, expect, it } from '@jest/globals';
import { SafeBigintTransformer, micros } from './epoch-ms.transformer.js';
import { Float32JsonTransformer } from './float32-json.transformer.js';
import { JsonArrayTransformer } from './json-array.transformer.js';

describe(SafeBigintTransformer.name, () => {
  const sut = new SafeBigintTransformer('epoch ms');

  it('reads PostgreSQL int8 strings and SQLite numbers as numbers', () => {
    expect(sut.from('1735689600000')).toBe(1735689600000);
    expect(sut.from(1735689600000)).toBe(1735689600000);
    expect(sut.from(null)).toBeNull();
  });

  it('writes integers through and refuses fractions', () => {
    expect(sut.to(1735689600000)).toBe(1735689600000);
    expect(sut.to(null)).toBeNull();
    expect(() => sut.to(1.5)).toThrow('epoch ms must be a safe integer, got 1.5');
  });

  it('refuses a stored value beyond 2^53', () => {
    expect(() => sut.from('9007199254740993')).toThrow('not a safe integer');
  });

  it('names what the column holds in its errors', () => {
    expect(() => micros.to(0.5)).toThrow('micro-dollar amount must be a safe integer, got 0.5');
  });
});

describe(JsonArrayTransformer.name, () => {
  it('round-trips string arrays, empty included', () => {
    const sut = new JsonArrayTransformer<string>('string');

    expect(sut.from(sut.to(['US', 'DE'])!)).toEqual(['US', 'DE']);
    expect(sut.to([])).toBe('[]');
    expect(sut.from('[]')).toEqual([]);
  });

  it('refuses items of the wrong type in both directions', () => {
    const sut = new JsonArrayTransformer<number>('number');

    expect(() => sut.to(['x' as unknown as number])).toThrow('array item "x" is not a number');
    expect(() => sut.from('[1, "2"]')).toThrow('array item "2" is not a number');
    expect(() => sut.from('{"a":1}')).toThrow('not a JSON array');
  });

  it('refuses non-finite numbers, which JSON cannot hold', () => {
    const sut = new JsonArrayTransformer<number>('number');

    expect(() => sut.to([Number.NaN])).toThrow('is not a number');
  });
});

describe(Float32JsonTransformer.name, () => {
  it('round-trips float32 values exactly', () => {
    const sut = new Float32JsonTransformer(4);
    const vector = Float32Array.from([0.1, -0.333333, 1e-7, 123.456]);

    const back = sut.from(sut.to(vector)!)!;

    expect(back).toBeInstanceOf(Float32Array);
    expect(Array.from(back)).toEqual(Array.from(vector));
  });

  it('accepts plain number arrays and rounds them to float32', () => {
    const sut = new Float32JsonTransformer();

    expect(sut.to([0.1])).toBe(JSON.stringify([Math.fround(0.1)]));
  });

  it('checks the dimension when writing and reading', () => {
    const sut = new Float32JsonTransformer(32);

    expect(() => sut.to(new Float32Array(31))).toThrow('vector has 31 items, expected 32');
    expect(() => sut.from('[1,2,3]')).toThrow('stored vector has 3 items, expected 32');
  });

  it('refuses NaN and infinity', () => {
    const sut = new Float32JsonTransformer();

    expect(() => sut.to([1, Number.POSITIVE_INFINITY])).toThrow('vector item 1 is not finite');
  });
});
