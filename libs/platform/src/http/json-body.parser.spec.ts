import { AdfunnelError } from '@adfunnel/contracts';
import { describe, expect, it } from '@jest/globals';
import { parseJsonBody } from './json-body.parser.js';

function messageOf(text: string): string {
  try {
    parseJsonBody(text);
  } catch (err) {
    expect(err).toBeInstanceOf(AdfunnelError);
    expect((err as AdfunnelError).code).toBe('invalid_request');
    return (err as Error).message;
  }
  throw new Error('expected the body to be refused');
}

describe(parseJsonBody.name, () => {
  it('parses JSON that merely mentions a prototype or a constructor', () => {
    expect(parseJsonBody('{"constructor":"Foo","proto":{"prototype":1},"s":"__proto__"}')).toEqual({
      constructor: 'Foo',
      proto: { prototype: 1 },
      s: '__proto__',
    });
  });

  it.each([
    ['{"__proto__":{"x":1}}', '__proto__'],
    ['{"a":{"b":[1,{"__proto__":null}]}}', 'a.b[1].__proto__'],
    ['{"\\u005F\\u005Fproto\\u005F\\u005F":{}}', '__proto__'],
    ['[{"constructor":{"prototype":{}}}]', '[0].constructor.prototype'],
  ])('names the forbidden key in %s', (text, key) => {
    expect(messageOf(text)).toBe(`request body contains a forbidden key ${key}`);
  });

  it('walks a body nested deeper than the call stack', () => {
    const depth = 20_000;
    const text = `${'['.repeat(depth)}{"__proto__":1}${']'.repeat(depth)}`;

    expect(messageOf(text)).toMatch(/^request body contains a forbidden key (\[0\]){20000}\.__proto__$/);
  });

  it('says when the body is not JSON or empty', () => {
    expect(messageOf('{"a":')).toBe('request body is not valid JSON');
    expect(messageOf('')).toBe('request body is empty but content-type is application/json');
  });
});
