import { parseArgs } from 'node:util';

export const REPORT_CLI_HELP = `Usage: npm run report -- campaigns --from YYYY-MM-DD [--to YYYY-MM-DD] [options]
       npm run report -- examination [--since ISO] [--until ISO] [--min-impressions N] [--write FILE]
       npm run report -- reserves [--since ISO] [--until ISO] [--current-cpm USD] [--min-auctions N]

Delivery per campaign per billing day, from the spend ledger and the event store of the database
in DATABASE_URL (PostgreSQL) or SQLITE_PATH (default var/adfunnel.sqlite).

  campaigns             spend, budget, delivery %, overdelivery, impressions, clicks, conversions
  --from DAY            first billing day (advertiser's calendar day), required
  --to DAY              last billing day, inclusive (default: --from); at most 92 days
  --advertiser ID       only this advertiser's campaigns
  --campaign ID         only this campaign (one that does not exist, or not the
                        --advertiser's, is an error: exit 1)
  --json                one JSON array, amounts in integer micro-USD, instead of the table
  -h, --help            this text

  examination           P(examine | slot) per surface and per surface.device, fitted on the scored
                        served ads whose impression was logged: each slot's clicks over the clicks
                        their pCTRs predict, divided by slot 0's, made non-increasing
  --since, --until      served in [since, until) on the funnel's clock (ISO date-time; default: all)
  --min-impressions N   a slot with fewer impressions ends its curve (default 200)
  --write FILE          also write the curves as JSON for AUCTION_EXAMINATION_FILE
  --json                the fit per slot as JSON instead of the table

  reserves              the revenue-maximising reserve per surface and per surface.BIDTYPE, fitted
                        on the scored top-slot winners of the served-ad log (Ostrovsky-Schwarz:
                        each logged auction replayed with its winner's value and its competing bid,
                        the price it paid, under every reserve; libs/utility fitReserve), with the
                        AUCTION_RESERVE_CPM_BY_SURFACE value the auction reads
  --since, --until      served in [since, until) on the funnel's clock (ISO date-time; default: all)
  --current-cpm USD     the reserve the log was served under, USD CPM (default 0.5, the auction's);
                        lower reserves are not considered (competing bids below it were censored)
  --min-auctions N      a surface or bid type with fewer top-slot auctions gets no fit (default 200)
  --json                the fits as JSON instead of the table
`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface CampaignsReportArgs {
  command: 'campaigns' | 'help';
  from: string;
  to: string;
  advertiserId?: number;
  campaignId?: number;
  json: boolean;
}

export interface ExaminationReportArgs {
  command: 'examination';
  since?: number;
  until?: number;
  minImpressions: number;
  write?: string;
  json: boolean;
}

export interface ReservesReportArgs {
  command: 'reserves';
  since?: number;
  until?: number;
  currentCpm: number;
  minAuctions: number;
  json: boolean;
}

export type ReportCliArgs = CampaignsReportArgs | ExaminationReportArgs | ReservesReportArgs;

const REPORTS = ['campaigns', 'examination', 'reserves'];

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
        since: { type: 'string' },
        until: { type: 'string' },
        'min-impressions': { type: 'string' },
        write: { type: 'string' },
        'current-cpm': { type: 'string' },
        'min-auctions': { type: 'string' },
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
  if (command === undefined || !REPORTS.includes(command)) {
    throw new UsageError(
      command === undefined
        ? `name a report: ${REPORTS.join(', ')}`
        : `unknown report "${command}" (expected ${REPORTS.join(' or ')})`,
    );
  }
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  if (command === 'examination') {
    const minImpressions = values['min-impressions'] ?? '200';
    const min = Number(minImpressions);
    if (!Number.isSafeInteger(min) || min < 1) {
      throw new UsageError(`--min-impressions must be a positive integer, got "${minImpressions}"`);
    }
    return {
      command,
      minImpressions: min,
      json: values.json,
      ...(values.since === undefined ? {} : { since: instant('--since', values.since) }),
      ...(values.until === undefined ? {} : { until: instant('--until', values.until) }),
      ...(values.write === undefined ? {} : { write: values.write }),
    };
  }
  if (command === 'reserves') {
    const currentCpm = Number(values['current-cpm'] ?? '0.5');
    if (!Number.isFinite(currentCpm) || currentCpm < 0) {
      throw new UsageError(`--current-cpm must be a non-negative USD CPM, got "${values['current-cpm']}"`);
    }
    const minAuctions = Number(values['min-auctions'] ?? '200');
    if (!Number.isSafeInteger(minAuctions) || minAuctions < 1) {
      throw new UsageError(`--min-auctions must be a positive integer, got "${values['min-auctions']}"`);
    }
    return {
      command,
      currentCpm,
      minAuctions,
      json: values.json,
      ...(values.since === undefined ? {} : { since: instant('--since', values.since) }),
      ...(values.until === undefined ? {} : { until: instant('--until', values.until) }),
    };
  }
  if (values.from === undefined) throw new UsageError('--from is required (a billing day as YYYY-MM-DD)');
  return {
    command: 'campaigns',
    from: values.from,
    to: values.to ?? values.from,
    json: values.json,
    ...(values.advertiser === undefined
      ? {}
      : { advertiserId: positiveId('--advertiser', values.advertiser) }),
    ...(values.campaign === undefined ? {} : { campaignId: positiveId('--campaign', values.campaign) }),
  };
}

function instant(flag: string, value: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new UsageError(`${flag} must be an ISO date or date-time, got "${value}"`);
  return ms;
}

function positiveId(flag: string, value: string): number {
  const id = Number(value);
  if (!Number.isSafeInteger(id) || id < 1)
    throw new UsageError(`${flag} must be a positive integer id, got "${value}"`);
  return id;
}
