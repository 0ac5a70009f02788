import { parseArgs } from 'node:util';

export const REPORT_CLI_HELP = `Usage: npm run report -- campaigns --from YYYY-MM-DD [--to YYYY-MM-DD] [options]

Delivery per campaign per billing day, from the spend ledger and the event store of the database
in DATABASE_URL (PostgreSQL) or SQLITE_PATH (default var/adfunnel.sqlite).

  campaigns             spend, budget, delivery %, overdelivery, impressions, clicks, conversions
  --from DAY            first billing day (advertiser's calendar day), required
  --to DAY              last billing day, inclusive (default: --from); at most 92 days
  --advertiser ID       only this advertiser's campaigns
  --campaign ID         only this campaign
  --json                one JSON array, amounts in integer micro-USD, instead of the table
  -h, --help            this text
`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface ReportCliArgs {
  command: 'campaigns' | 'help';
  from: string;
  to: string;
  advertiserId?: number;
  campaignId?: number;
  json: boolean;
}

export function parseReportCliArgs(argv: readonly string[]): ReportCliArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        advertiser: { type: 'string' },
        campaign: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { command: 'help', from: '', to: '', json: false };
  const [command, ...rest] = positionals;
  if (command !== 'campaigns') {
    throw new UsageError(
      command === undefined ? 'name a report: campaigns' : `unknown report "${command}" (expected campaigns)`,
    );
  }
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  if (values.from === undefined) throw new UsageError('--from is required (a billing day as YYYY-MM-DD)');
  return {
    command,
    from: values.from,
    to: values.to ?? values.from,
    json: values.json,
    ...(values.advertiser === undefined
      ? {}
      : { advertiserId: positiveId('--advertiser', values.advertiser) }),
    ...(values.campaign === undefined ? {} : { campaignId: positiveId('--campaign', values.campaign) }),
  };
}

function positiveId(flag: string, value: string): number {
  const id = Number(value);
  if (!Number.isSafeInteger(id) || id < 1)
    throw new UsageError(`${flag} must be a positive integer id, got "${value}"`);
  return id;
}
