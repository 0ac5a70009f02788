import { ConsoleLogger, type LoggerService, type LogLevel } from '@nestjs/common';
import { LOG_LEVELS, type LogFormat, type LogLevelName } from '../config/common-env.js';

export interface AppLoggerOptions {
  /** The service name, on every line (`service` in JSON, the `[name]` prefix in pretty). */
  name: string;
  format: LogFormat;
  level: LogLevelName;
}

type LogObject = ReturnType<ConsoleLogger['getJsonLogObject']>;
type JsonOptions = Parameters<ConsoleLogger['getJsonLogObject']>[1];

/**
 * Nest's ConsoleLogger, plus: a structured message `{ msg, requestId, ... }` becomes the line's
 * message with its other fields beside it (JSON: top-level keys; pretty: `key=value`), so log
 * search can filter on `requestId`.
 */
export class AppLogger extends ConsoleLogger {
  constructor(private readonly appOptions: AppLoggerOptions) {
    super({
      json: appOptions.format === 'json',
      colors: appOptions.format === 'pretty' && process.stdout.isTTY === true,
      prefix: appOptions.name,
      logLevels: enabledLevels(appOptions.level),
      flattenParams: true,
    });
  }

  protected override getJsonLogObject(message: unknown, options: JsonOptions): LogObject {
    const structured = asStructured(message);
    const logObject = super.getJsonLogObject(structured ? structured.msg : message, options);
    const out: LogObject = { ...logObject, service: this.appOptions.name };
    if (structured) {
      for (const [key, value] of Object.entries(structured.fields)) {
        if (!(key in out)) out[key] = value;
      }
    }
    return out;
  }

  protected override stringifyMessage(message: unknown, logLevel: LogLevel): string {
    const structured = asStructured(message);
    if (!structured) return super.stringifyMessage(message, logLevel);
    const fields = Object.entries(structured.fields).map(([key, value]) => `${key}=${formatValue(value)}`);
    return super.stringifyMessage([structured.msg, ...fields].join(' '), logLevel);
  }
}

export function createAppLogger(options: AppLoggerOptions): LoggerService {
  return new AppLogger(options);
}

/** `log` enables error, warn, log (and fatal, which Nest always wants shown). */
function enabledLevels(level: LogLevelName): LogLevel[] {
  const upTo = LOG_LEVELS.indexOf(level);
  return ['fatal', ...LOG_LEVELS.slice(0, upTo + 1)];
}

function asStructured(message: unknown): { msg: string; fields: Record<string, unknown> } | undefined {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return undefined;
  if (Object.getPrototypeOf(message) !== Object.prototype) return undefined;
  const { msg, ...fields } = message as Record<string, unknown>;
  if (typeof msg !== 'string') return undefined;
  return { msg, fields };
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${value}`;
  if (value === null || value === undefined) return `${value}`;
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return `[unserializable ${typeof value}]`;
  }
}
