import { AdfunnelError } from '@adfunnel/contracts';
import type { FastifyInstance } from 'fastify';

export const JSON_CONTENT_TYPE = 'application/json';
export const MISSING_JSON_BODY_MESSAGE =
  'request body is missing; send a JSON object with content-type application/json';

/**
 * Makes JSON the only body a service reads: Fastify's text/plain parser and Nest's form parser are
 * removed, so any other content type is refused with 415 before a handler sees it. The parser names a
 * prototype-polluting key (`__proto__`, `constructor.prototype`), which Fastify's own parser
 * reports as invalid JSON.
 */
export function registerJsonBodyParser(instance: FastifyInstance, bodyLimitBytes: number): void {
  instance.removeAllContentTypeParsers();
  instance.addContentTypeParser(
    JSON_CONTENT_TYPE,
    { parseAs: 'string', bodyLimit: bodyLimitBytes },
    (_request, text, done) => {
      try {
        done(null, parseJsonBody(text as string));
      } catch (err) {
        done(err as Error, undefined);
      }
    },
  );
}

export function parseJsonBody(text: string): unknown {
  if (text.length === 0) {
    throw new AdfunnelError('invalid_request', 'request body is empty but content-type is application/json');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AdfunnelError('invalid_request', 'request body is not valid JSON');
  }
  // Keys may be written with \u escapes, so only a body with none of these cannot hold one.
  if (/proto|constructor|\\u/.test(text)) {
    const key = forbiddenKeyPath(value);
    if (key !== undefined) {
      throw new AdfunnelError('invalid_request', `request body contains a forbidden key ${key}`);
    }
  }
  return value;
}

interface Visit {
  value: unknown;
  key: string | number | undefined;
  parent: Visit | undefined;
}

/**
 * JSON.parse makes `__proto__` an own key; copied with Object.assign, it would replace a prototype.
 * Iterative, and the path is spelled only for a hit, since a 64 KiB body can nest deeper than the stack.
 */
function forbiddenKeyPath(root: unknown): string | undefined {
  const pending: Visit[] = [{ value: root, key: undefined, parent: undefined }];
  for (let visit = pending.pop(); visit !== undefined; visit = pending.pop()) {
    const { value } = visit;
    if (typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value)) {
      value.forEach((item, index) => pending.push({ value: item, key: index, parent: visit }));
      continue;
    }
    if (Object.hasOwn(value, '__proto__')) return pathOf(visit, '__proto__');
    const record = value as Record<string, unknown>;
    const ctor = Object.hasOwn(record, 'constructor') ? record['constructor'] : undefined;
    if (typeof ctor === 'object' && ctor !== null && Object.hasOwn(ctor, 'prototype')) {
      return pathOf(visit, 'constructor.prototype');
    }
    for (const [key, item] of Object.entries(record)) pending.push({ value: item, key, parent: visit });
  }
  return undefined;
}

function pathOf(visit: Visit, key: string): string {
  const segments: (string | number)[] = [key];
  for (let at: Visit | undefined = visit; at?.key !== undefined; at = at.parent) segments.unshift(at.key);
  return segments
    .map((segment, i) => (typeof segment === 'number' ? `[${segment}]` : i === 0 ? segment : `.${segment}`))
    .join('');
}
