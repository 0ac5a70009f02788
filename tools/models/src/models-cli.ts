#!/usr/bin/env node
import { adminToken } from './admin-token.js';
import { MODELS_CLI_HELP, type ModelsCliArgs, type ModelsCommand, UsageError, parseModelsCliArgs } from './models-cli-args.js';

interface Call {
  base: 'ranking' | 'logging';
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  body?: unknown;
}

function callOf(run: Exclude<ModelsCommand, { command: 'help' | 'status' }>): Call {
  switch (run.command) {
    case 'shadow':
      return { base: 'ranking', method: 'POST', path: '/admin/model/shadow', body: { version: run.version, ...(run.sample === undefined ? {} : { sample: run.sample }) } };
    case 'unshadow':
      return { base: 'ranking', method: 'DELETE', path: '/admin/model/shadow' };
    case 'promote':
      return { base: 'ranking', method: 'POST', path: '/admin/model/promote', body: run.version === undefined ? {} : { version: run.version } };
    case 'rollback':
      return { base: 'ranking', method: 'POST', path: '/admin/model/rollback' };
    case 'report': {
      const query = new URLSearchParams();
      if (run.shadowVersion !== undefined) query.set('shadowVersion', run.shadowVersion);
      if (run.since !== undefined) query.set('since', run.since);
      if (run.until !== undefined) query.set('until', run.until);
      const search = query.size === 0 ? '' : `?${query.toString()}`;
      return { base: 'logging', method: 'GET', path: `/v1/reports/shadow${search}` };
    }
  }
}

async function request(args: ModelsCliArgs, token: string, call: Call): Promise<unknown> {
  const base =
    call.base === 'ranking'
      ? (args.rankingUrl ?? process.env['RANKING_URL'] ?? 'http://127.0.0.1:3102')
      : (args.loggingUrl ?? process.env['LOGGING_URL'] ?? 'http://127.0.0.1:3104');
  const url = `${base}${call.path}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: call.method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
      signal: AbortSignal.timeout(120_000),
    });
  } catch (err) {
    throw new Error(`${call.base} does not answer at ${base} (${(err as Error).message}); is it running?`, {
      cause: err,
    });
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: shown as it came
  }
  if (!res.ok) {
    const message = typeof body === 'object' && body !== null && 'message' in body ? String(body.message) : text;
    throw new Error(`${call.method} ${call.path}: ${res.status} ${message}`);
  }
  return body;
}

interface PointerAnswer {
  action: string;
  version: string;
  from: string;
  previous?: string;
}

interface ShadowAnswer {
  version: string | null;
  liveVersion: string;
  sample: number;
  counts: unknown;
}

function summary(run: ModelsCommand, body: unknown): string {
  switch (run.command) {
    case 'promote':
    case 'rollback': {
      const b = body as PointerAnswer;
      const next = b.previous ? `rollback would return to ${b.previous}` : 'nothing further to roll back to';
      return `${b.action}: serving ${b.version} (was ${b.from}); ${next}\n`;
    }
    case 'shadow': {
      const b = body as ShadowAnswer;
      return `shadowing ${b.version ?? '?'} beside ${b.liveVersion} on ${b.sample * 100}% of requests\n`;
    }
    case 'unshadow': {
      const b = body as ShadowAnswer;
      return `shadow ${b.version ?? '(none was running)'} stopped: ${JSON.stringify(b.counts)}\n`;
    }
    case 'help':
    case 'status':
    case 'report':
      return `${JSON.stringify(body, null, 2)}\n`;
  }
}

async function main(argv: readonly string[]): Promise<number> {
  let args: ModelsCliArgs;
  try {
    args = parseModelsCliArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`models: ${error.message}\nRun \`npm run models -- --help\` for usage.\n`);
    return 2;
  }
  const { run } = args;
  if (run.command === 'help') {
    process.stdout.write(MODELS_CLI_HELP);
    return 0;
  }
  try {
    const token = await adminToken(process.env, process.cwd());
    if (run.command === 'status') {
      const [served, rollout] = await Promise.all([
        request(args, token, { base: 'ranking', method: 'GET', path: '/admin/model' }),
        request(args, token, { base: 'ranking', method: 'GET', path: '/admin/model/rollout' }),
      ]);
      process.stdout.write(`${JSON.stringify({ served, rollout }, null, 2)}\n`);
      return 0;
    }
    const body = await request(args, token, callOf(run));
    process.stdout.write(args.json ? `${JSON.stringify(body, null, 2)}\n` : summary(run, body));
    return 0;
  } catch (error) {
    process.stderr.write(`models: ${(error as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
