#!/usr/bin/env node
import 'reflect-metadata';
import { openFunnelDatabase } from '@adfunnel/event-store';
import { CommonEnv, createAppLogger, loadConfig } from '@adfunnel/platform';
import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import {
  CATALOG_CLI_HELP,
  type CatalogCliArgs,
  UsageError,
  parseCatalogCliArgs,
} from './catalog-cli-args.js';
import { CatalogCommands } from './catalog-commands.js';

const CatalogCliEnv = z.object({
  DATABASE_URL: CommonEnv.DATABASE_URL,
  SQLITE_PATH: CommonEnv.SQLITE_PATH,
  LOG_FORMAT: CommonEnv.LOG_FORMAT,
  LOG_LEVEL: CommonEnv.LOG_LEVEL,
});

async function main(argv: readonly string[]): Promise<number> {
  let args: CatalogCliArgs;
  try {
    args = parseCatalogCliArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`catalog: ${error.message}\nRun \`npm run catalog -- --help\` for usage.\n`);
    return 2;
  }
  if (args.command === 'help') {
    process.stdout.write(CATALOG_CLI_HELP);
    return 0;
  }

  const config = loadConfig(CatalogCliEnv);
  Logger.overrideLogger(
    createAppLogger({ name: 'catalog', format: config.LOG_FORMAT, level: config.LOG_LEVEL }),
  );
  const print = (line: string): void => void process.stdout.write(`${line}\n`);

  let ds: DataSource | undefined;
  try {
    ds = await openFunnelDatabase({ databaseUrl: config.DATABASE_URL, sqlitePath: config.SQLITE_PATH });
    const commands = new CatalogCommands(ds, print);
    switch (args.command) {
      case 'migrate':
        await commands.migrate();
        break;
      case 'seed':
        await commands.seed(args);
        break;
      case 'status':
        await commands.status(args.json);
        break;
      case 'api-keys':
        if (args.apiKeys !== undefined) await commands.apiKeys(args.apiKeys);
        break;
    }
    return 0;
  } catch (error) {
    process.stderr.write(
      `catalog ${args.command} failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    if (config.LOG_LEVEL === 'debug' || config.LOG_LEVEL === 'verbose') {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? '') : ''}\n`);
    }
    return 1;
  } finally {
    await ds?.destroy().catch(() => undefined);
  }
}

process.exitCode = await main(process.argv.slice(2));
