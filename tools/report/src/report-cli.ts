#!/usr/bin/env node
import 'reflect-metadata';
import { ReportQueryError, campaignDayReport, openFunnelDatabase } from '@adfunnel/event-store';
import { CommonEnv, loadConfig } from '@adfunnel/platform';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { REPORT_CLI_HELP, type ReportCliArgs, UsageError, parseReportCliArgs } from './report-cli-args.js';
import { reportTable } from './report-table.js';

const ReportCliEnv = z.object({ DATABASE_URL: CommonEnv.DATABASE_URL, SQLITE_PATH: CommonEnv.SQLITE_PATH });

async function main(argv: readonly string[]): Promise<number> {
  let args: ReportCliArgs;
  try {
    args = parseReportCliArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`report: ${error.message}\nRun \`npm run report -- --help\` for usage.\n`);
    return 2;
  }
  if (args.command === 'help') {
    process.stdout.write(REPORT_CLI_HELP);
    return 0;
  }
  const config = loadConfig(ReportCliEnv);
  let ds: DataSource | undefined;
  try {
    ds = await openFunnelDatabase({ databaseUrl: config.DATABASE_URL, sqlitePath: config.SQLITE_PATH });
    const { command: _command, json, ...query } = args;
    const rows = await campaignDayReport(ds, query);
    process.stdout.write(json ? `${JSON.stringify(rows, null, 2)}\n` : reportTable(rows));
    return 0;
  } catch (error) {
    process.stderr.write(`report failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return error instanceof ReportQueryError ? 2 : 1;
  } finally {
    await ds?.destroy().catch(() => undefined);
  }
}

process.exitCode = await main(process.argv.slice(2));
