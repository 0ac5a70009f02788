import { z } from 'zod';
import { ConfigError, type ConfigIssue } from './config-error.js';
import { redactUrlCredentials } from './redact-url.js';

export type Env = Record<string, string | undefined>;

/**
 * Validates the environment against an app's schema and returns the typed config, or throws a
 * `ConfigError` naming every bad variable. Only the schema's own keys are read, and an empty value
 * counts as unset so that `FOO=` in an env file falls back to the default.
 */
export function parseConfig<S extends z.ZodObject>(schema: S, env: Env): z.infer<S> {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues: ConfigIssue[] = result.error.issues.map((issue) => {
    const variable = issue.path.length > 0 ? issue.path.map(String).join('.') : '(config)';
    const raw = issue.path.length > 0 ? input[String(issue.path[0])] : undefined;
    return {
      variable,
      problem: describeProblem(issue, isSecret(variable) ? undefined : raw, raw !== undefined),
    };
  });
  throw new ConfigError(issues);
}

/**
 * The one place that reads `process.env`. On bad config it prints one line per bad variable to
 * stderr and exits with status 1, so a misconfigured service never starts.
 */
export function loadConfig<S extends z.ZodObject>(schema: S, env: Env = process.env): z.infer<S> {
  try {
    return parseConfig(schema, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const issue of err.issues) {
      process.stderr.write(`config error: ${issue.variable}: ${issue.problem}\n`);
    }
    process.exit(1);
  }
}

/** Values of these variables never reach a log line, not even a wrong one. */
const SECRET_NAME = /SECRET|PASSWORD|TOKEN|KEY/i;

function isSecret(variable: string): boolean {
  return SECRET_NAME.test(variable);
}

function describeProblem(issue: z.core.$ZodIssue, raw: string | undefined, isSet: boolean): string {
  if (raw === undefined) {
    if (isSet) return `${issue.message.replace(/^Invalid input: /, '')} (value withheld)`;
    return issue.code === 'invalid_type' ? 'is required but not set' : issue.message;
  }
  const message = issue.message.replace(/^Invalid input: /, '');
  // A URL's password or token (postgres://user:pw@host, nats://token@host) is withheld like a secret.
  return `${message}, got ${JSON.stringify(redactUrlCredentials(raw))}`;
}
