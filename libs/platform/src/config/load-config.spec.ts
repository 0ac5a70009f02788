import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { z } from 'zod';
import { CommonEnv } from './common-env.js';
import { ConfigError } from './config-error.js';
import { loadConfig, parseConfig } from './load-config.js';

const AppSchema = z.object({
  ...CommonEnv,
  PORT: z.coerce.number().int().min(1).max(65535).default(3001),
});

function issuesOf(fn: () => unknown): ConfigError['issues'] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe(parseConfig.name, () => {
  it('applies the defaults to an empty environment', () => {
    const sut = parseConfig(AppSchema, {});

    expect(sut).toEqual({
      NATS_URL: 'nats://127.0.0.1:4222',
      REDIS_URL: 'redis://127.0.0.1:6379',
      SQLITE_PATH: 'var/adfunnel.sqlite',
      LOG_FORMAT: 'pretty',
      LOG_LEVEL: 'log',
      BUS_TIMEOUT_MS: 1000,
      CATALOG_REFRESH_MS: 60_000,
      CATALOG_CHANGE_POLL_MS: 1000,
      BUS_NAMESPACE: '',
      CLOCK: 'system',
      HTTP_HEADERS_TIMEOUT_MS: 10_000,
      HTTP_REQUEST_TIMEOUT_MS: 30_000,
      HTTP_KEEP_ALIVE_TIMEOUT_MS: 5_000,
      HTTP_MAX_CONNECTIONS: 10_000,
      RATE_LIMIT_PER_MINUTE: 0,
      TRACING_SAMPLE_RATIO: 1,
      PORT: 3001,
    });
  });

  it('refuses a bus namespace that is not a plain NATS token', () => {
    expect(() => parseConfig(AppSchema, { BUS_NAMESPACE: 'a.b' })).toThrow(ConfigError);
    expect(parseConfig(AppSchema, { BUS_NAMESPACE: 'e2e_run-1' }).BUS_NAMESPACE).toBe('e2e_run-1');
  });

  it('refuses a clock it cannot read, saying the expected form', () => {
    const issues = issuesOf(() => parseConfig(AppSchema, { CLOCK: 'fast' }));

    expect(issues).toEqual([
      {
        variable: 'CLOCK',
        problem: 'expected system or scaled:<start ISO 8601>@<wall anchor epoch ms>x<speed>, got "fast"',
      },
    ]);
    expect(parseConfig(AppSchema, { CLOCK: 'scaled:2026-03-02T00:00:00Z@1700000000000x60' }).CLOCK).toBe(
      'scaled:2026-03-02T00:00:00Z@1700000000000x60',
    );
  });

  it('coerces numbers and keeps valid values', () => {
    const sut = parseConfig(AppSchema, {
      BUS_TIMEOUT_MS: '250',
      PORT: '8080',
      LOG_FORMAT: 'json',
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/test',
    });

    expect(sut.BUS_TIMEOUT_MS).toBe(250);
    expect(sut.PORT).toBe(8080);
    expect(sut.LOG_FORMAT).toBe('json');
    expect(sut.DATABASE_URL).toBe('postgresql://postgres@127.0.0.1:5432/test');
  });

  it('treats an empty value as unset and ignores variables outside the schema', () => {
    const sut = parseConfig(AppSchema, { BUS_TIMEOUT_MS: '', HOME: '/root' });

    expect(sut.BUS_TIMEOUT_MS).toBe(1000);
    expect(sut).not.toHaveProperty('HOME');
  });

  it('names the bad variable and the value it got', () => {
    const issues = issuesOf(() => parseConfig(AppSchema, { BUS_TIMEOUT_MS: 'abc' }));

    expect(issues).toEqual([
      { variable: 'BUS_TIMEOUT_MS', problem: 'expected a positive integer, got "abc"' },
    ]);
  });

  it('reports every bad variable at once', () => {
    const issues = issuesOf(() =>
      parseConfig(AppSchema, {
        NATS_URL: 'http://localhost:4222',
        DATABASE_URL: 'mysql://x',
        LOG_LEVEL: 'loud',
        BUS_TIMEOUT_MS: '-5',
        PORT: '70000',
      }),
    );

    expect(issues.map((i) => i.variable)).toEqual([
      'NATS_URL',
      'DATABASE_URL',
      'LOG_LEVEL',
      'BUS_TIMEOUT_MS',
      'PORT',
    ]);
    expect(issues[0]?.problem).toBe('must start with nats://, got "http://localhost:4222"');
    expect(issues[1]?.problem).toBe('must start with postgres:// or postgresql://, got "mysql://x"');
    expect(issues[2]?.problem).toBe('expected one of error, warn, log, debug, verbose, got "loud"');
    expect(issues[3]?.problem).toBe('expected a positive integer, got "-5"');
    expect(issues[4]?.problem).toMatch(/70000/);
  });

  it('says a required variable is missing', () => {
    const issues = issuesOf(() => parseConfig(z.object({ MODEL_PATH: z.string() }), {}));

    expect(issues).toEqual([{ variable: 'MODEL_PATH', problem: 'is required but not set' }]);
  });
});

function spyOnStderr(lines: string[]) {
  return jest.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  });
}

function spyOnExit() {
  return jest.spyOn(process, 'exit').mockImplementation((code?: string | number | null) => {
    throw new Error(`exit ${code ?? ''}`);
  });
}

describe(loadConfig.name, () => {
  let stderr: string[];
  let writeSpy: ReturnType<typeof spyOnStderr>;
  let exitSpy: ReturnType<typeof spyOnExit>;

  beforeEach(() => {
    stderr = [];
    writeSpy = spyOnStderr(stderr);
    exitSpy = spyOnExit();
  });

  afterEach(() => {
    writeSpy.mockRestore();
    exitSpy.mockRestore();
  });

  it('returns the typed config when the environment is valid', () => {
    const sut = loadConfig(AppSchema, { PORT: '3005' });

    expect(sut.PORT).toBe(3005);
    expect(exitSpy).not.toHaveBeenCalled();
  });

  it('prints one line per bad variable and exits with 1', () => {
    expect(() => loadConfig(AppSchema, { BUS_TIMEOUT_MS: 'abc', LOG_FORMAT: 'xml' })).toThrow('exit 1');

    expect(stderr).toEqual([
      'config error: LOG_FORMAT: expected one of json, pretty, got "xml"\n',
      'config error: BUS_TIMEOUT_MS: expected a positive integer, got "abc"\n',
    ]);
    expect(exitSpy).toHaveBeenCalledWith(1);
  });

  it('never echoes the value of a secret', () => {
    const schema = z.object({ TRACKING_SECRET: z.string().min(16, 'must be at least 16 characters') });
    try {
      parseConfig(schema, { TRACKING_SECRET: 'hunter2' });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect((err as ConfigError).issues).toEqual([
        { variable: 'TRACKING_SECRET', problem: 'must be at least 16 characters (value withheld)' },
      ]);
    }
  });
});
