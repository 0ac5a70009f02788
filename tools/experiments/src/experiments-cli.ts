#!/usr/bin/env node
import { readFile, writeFile } from 'node:fs/promises';
import { parseExperimentConfigJson, sharesOfConfig } from '@adfunnel/experiments';
import { adminToken } from './admin-token.js';
import {
  EXPERIMENTS_CLI_HELP,
  type ExperimentsCliArgs,
  UsageError,
  parseExperimentsCliArgs,
} from './experiments-cli-args.js';
import { type ExperimentsReportAnswer, formatExperimentsReport } from './format-report.js';
import { renderHtmlReport } from './html-report.js';

/** The report's query: the window, the prefix, and the --config file's shares (validated here first). */
async function reportQuery(
  run: Extract<ExperimentsCliArgs['run'], { command: 'report' }>,
): Promise<URLSearchParams> {
  const query = new URLSearchParams();
  if (run.windowMs !== undefined) query.set('windowMs', String(run.windowMs));
  if (run.settleMs !== undefined) query.set('settleMs', String(run.settleMs));
  if (run.limit !== undefined) query.set('limit', String(run.limit));
  if (run.requestIdPrefix !== undefined) query.set('requestIdPrefix', run.requestIdPrefix);
  if (run.preFrom !== undefined) query.set('preFrom', run.preFrom);
  if (run.preTo !== undefined) query.set('preTo', run.preTo);
  if (run.preDays !== undefined) query.set('preDays', String(run.preDays));
  if (run.preRequestIdPrefix !== undefined) query.set('preRequestIdPrefix', run.preRequestIdPrefix);
  if (run.bucket !== undefined) query.set('bucket', run.bucket);
  if (run.config !== undefined) {
    let text: string;
    try {
      text = await readFile(run.config, 'utf8');
    } catch (err) {
      throw new Error(`--config ${run.config}: ${(err as Error).message}`, { cause: err });
    }
    let shares;
    try {
      shares = sharesOfConfig(parseExperimentConfigJson(text));
    } catch (err) {
      throw new Error(`--config ${run.config}: ${(err as Error).message}`, { cause: err });
    }
    query.set('shares', JSON.stringify(shares));
  }
  return query;
}

async function main(argv: readonly string[]): Promise<number> {
  let args: ExperimentsCliArgs;
  try {
    args = parseExperimentsCliArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`experiments: ${error.message}\nRun \`npm run experiments -- --help\` for usage.\n`);
    return 2;
  }
  const { run } = args;
  if (run.command === 'help') {
    process.stdout.write(EXPERIMENTS_CLI_HELP);
    return 0;
  }
  try {
    const query = await reportQuery(run);
    const token = await adminToken(process.env, process.cwd());
    const base = args.loggingUrl ?? process.env['LOGGING_URL'] ?? 'http://127.0.0.1:3104';
    const path = `/v1/reports/experiments${query.size === 0 ? '' : `?${query.toString()}`}`;
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(300_000),
      });
    } catch (err) {
      throw new Error(`logging does not answer at ${base} (${(err as Error).message}); is it running?`, {
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
      const message =
        typeof body === 'object' && body !== null && 'message' in body ? String(body.message) : text;
      throw new Error(`GET /v1/reports/experiments: ${res.status} ${message}`);
    }
    if (run.html !== undefined) {
      try {
        await writeFile(run.html, renderHtmlReport(body as ExperimentsReportAnswer));
      } catch (err) {
        throw new Error(`--html ${run.html}: ${(err as Error).message}`, { cause: err });
      }
      process.stderr.write(`experiments: wrote ${run.html}\n`);
    }
    process.stdout.write(
      args.json
        ? `${JSON.stringify(body, null, 2)}\n`
        : formatExperimentsReport(body as ExperimentsReportAnswer),
    );
    return 0;
  } catch (error) {
    process.stderr.write(`experiments: ${(error as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
