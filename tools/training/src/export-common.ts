import type { WriteStream } from 'node:fs';

/** What the log exports (served-ad and retrieval) share: SQL table quoting, stream writes, time options. */

/** A TypeORM table path quoted for raw SQL: each part of `schema.table` on PostgreSQL, whole on SQLite. */
export function quoteTable(tablePath: string, postgres: boolean): string {
  return postgres
    ? tablePath
        .split('.')
        .map((part) => `"${part}"`)
        .join('.')
    : `"${tablePath}"`;
}

/** Writes a chunk, resolving once the stream has taken it (so a large export respects back-pressure). */
export function writeChunk(stream: WriteStream, chunk: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => stream.write(chunk, (err) => (err ? reject(err) : resolve())));
}

/**
 * A `--since` / `--until` value: epoch milliseconds or an ISO 8601 time; undefined when absent.
 * `fail` is the CLI's usage error (it prints the usage and exits).
 */
export function parseTimeOption(
  name: string,
  text: string | undefined,
  fail: (message: string) => never,
): number | undefined {
  if (text === undefined) return undefined;
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) fail(`--${name} must be epoch milliseconds or an ISO 8601 time, got "${text}"`);
  return ms;
}
