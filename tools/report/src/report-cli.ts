#!/usr/bin/env node
import 'reflect-metadata';
import { AdfunnelError } from '@adfunnel/contracts';
import { ReportQueryError, campaignReport, openFunnelDatabase } from '@adfunnel/event-store';
import { CommonEnv, loadConfig } from '@adfunnel/platform';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { writeFile } from 'node:fs/promises';
import {
  REPORT_CLI_HELP,
  type ExaminationReportArgs,
  type ReportCliArgs,
  type ReservesReportArgs,
  UsageError,
  parseReportCliArgs,
} from './report-cli-args.js';
import {
  examinationCurves,
  examinationEnv,
  examinationFile,
  examinationTable,
} from './examination-report.js';
import { reportTable } from './report-table.js';
import { fitReserves, reserveEnv, reserveTable } from './reserve-report.js';
import { servedTopAuctions } from './served-top-auctions.js';
import { slotClickTotals } from './slot-click-totals.js';

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
    if (args.command === 'examination') return await examinationReport(ds, args);
    if (args.command === 'reserves') return await reservesReport(ds, args);
    const { command: _command, json, ...query } = args;
    // As the report endpoints answer an operator: a --campaign that does not exist (within
    // --advertiser) is an error, not an empty report that reads as a day without delivery.
    const { campaigns: rows } = await campaignReport(ds, 'all', query);
    process.stdout.write(json ? `${JSON.stringify(rows, null, 2)}\n` : reportTable(rows));
    return 0;
  } catch (error) {
    process.stderr.write(`report failed: ${error instanceof Error ? error.message : String(error)}\n`);
    const badQuery =
      error instanceof ReportQueryError ||
      (error instanceof AdfunnelError && error.code === 'invalid_request');
    return badQuery ? 2 : 1;
  } finally {
    await ds?.destroy().catch(() => undefined);
  }
}

async function examinationReport(ds: DataSource, args: ExaminationReportArgs): Promise<number> {
  const totals = await slotClickTotals(ds, { since: args.since, until: args.until });
  const curves = examinationCurves(totals, args.minImpressions);
  if (args.json) {
    process.stdout.write(`${JSON.stringify(curves, null, 2)}\n`);
  } else {
    process.stdout.write(examinationTable(curves));
    if (curves.length > 0)
      process.stdout.write(`\nAUCTION_EXAMINATION_BY_SURFACE=${examinationEnv(curves)}\n`);
  }
  if (args.write !== undefined) {
    await writeFile(args.write, `${JSON.stringify(examinationFile(curves), null, 2)}\n`);
    process.stderr.write(`wrote ${curves.length} curves to ${args.write} (AUCTION_EXAMINATION_FILE)\n`);
  }
  return 0;
}

async function reservesReport(ds: DataSource, args: ReservesReportArgs): Promise<number> {
  const auctions = await servedTopAuctions(ds, { since: args.since, until: args.until });
  const fitted = fitReserves(auctions, args.currentCpm, args.minAuctions);
  if (args.json) {
    process.stdout.write(`${JSON.stringify(fitted, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(reserveTable(fitted, args.currentCpm));
  const env = reserveEnv(fitted);
  if (env !== '') process.stdout.write(`\nAUCTION_RESERVE_CPM_BY_SURFACE=${env}\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
