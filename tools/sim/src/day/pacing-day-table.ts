import type { BidType } from '@adfunnel/contracts';
import type { Distribution, PacingGroup } from './pacing-day-report.js';
import type { SimulatedDayResult } from './simulated-day.js';

const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`);
const ratios = (d: Distribution | null) =>
  d === null ? 'n/a' : [d.min, d.p10, d.median, d.p90, d.max].map((x) => x.toFixed(3)).join(' / ');

const COLUMNS: [title: string, width: number, cell: (g: PacingGroup) => string][] = [
  ['n', 3, (g) => String(g.campaigns)],
  ['spend / budget: min / p10 / median / p90 / max', 46, (g) => ratios(g.finalRatio)],
  ['in 0.95-1', 9, (g) => String(g.endedWithinTarget)],
  ['on curve', 9, (g) => pct(g.curveWithinTolerance)],
  ['hour', 7, (g) => pct(g.hoursWithinTolerance)],
  ['Poisson', 7, (g) => pct(g.poissonFloor)],
  ['charges/h', 9, (g) => (g.meanEventsPerHour === null ? 'n/a' : g.meanEventsPerHour.toFixed(1))],
];

/** The simulated day's report as a table for a terminal. */
export function formatPacingDay(result: SimulatedDayResult): string {
  const { report, settings, history, measured } = result;
  const tolerance = `±${report.tolerance * 100}%`;
  const rows: [string, PacingGroup][] = [
    ['even, budget-limited', report.evenLimited],
    [`  >= ${report.denseChargesPerHour} charges/h`, report.evenLimitedDense],
    [`  < ${report.denseChargesPerHour} charges/h`, report.evenLimitedSparse],
    ...(['CPM', 'CPC', 'CPA'] as BidType[]).map((type): [string, PacingGroup] => [
      `  of which ${type}`,
      report.evenLimitedByBidType[type],
    ]),
    ['asap, budget-limited', report.asapLimited],
    ['not budget-limited', report.notLimited],
  ];
  const line = (name: string, cells: string[]) =>
    [
      name.padEnd(22),
      ...cells.map((cell, i) => (i === 1 ? cell.padEnd(COLUMNS[i][1]) : cell.padStart(COLUMNS[i][1]))),
    ].join('  ');
  const summary = measured.summary;
  return [
    `simulated day ${report.day}: ${summary.requests} visits (history day ${history.summary.requests}), ` +
      `bids ${settings.bidTypes}, pacing ${settings.pacing}, slice ${settings.sliceSeconds} s, clock ${measured.speed.toFixed(0)}x, ` +
      `${measured.lag.lateOverOneSecond} visits sent over 1 s late`,
    `fill ${pct(summary.fillRate)}, ${summary.impressions} impressions, ${summary.clicks} clicks, ` +
      `${summary.conversions} conversions, ${summary.errors} errors`,
    '',
    line(
      'campaigns',
      COLUMNS.map(([title]) => title),
    ),
    ...rows.map(([name, group]) =>
      line(
        name,
        COLUMNS.map(([, , cell]) => cell(group)),
      ),
    ),
    '',
    `on curve: hour ends at which the day's spend so far is within ${tolerance} of the target curve;`,
    `hour: hours whose own spend is within ${tolerance} of the curve's increment over that hour;`,
    `Poisson: the share of such hours if charges arrived at random around the curve (the noise floor).`,
    `charged past the budget: ${report.overspend.campaignDays} campaign-days (${report.overspend.micros} micros); ` +
      `delivered past it, not billed: ${report.overdeliveredMicros} micros`,
    `wall time ${result.wallSeconds.toFixed(0)} s`,
    '',
  ].join('\n');
}
