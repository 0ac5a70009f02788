import type { OracleFigure, OracleMetrics } from './oracle/oracle-metrics.js';
import type { TopicMatch } from './oracle/topic-match.js';
import { calibrationRows } from './run-calibration.js';
import type { RunSummary } from './run-stats.js';

type Row = [string, string];

const pct = (x: number | null | undefined, digits = 2) =>
  x === null || x === undefined ? '-' : `${(100 * x).toFixed(digits)}%`;
const num = (x: number | null | undefined, digits = 4) =>
  x === null || x === undefined ? '-' : x.toFixed(digits);
const usd = (x: number) => `$${x.toFixed(2)}`;
const int = (x: number) => x.toLocaleString('en-US');

/** The end-of-run summary as an aligned two-column table, one section per concern. */
export function formatSummaryTable(s: RunSummary): string {
  const sections: [string, Row[]][] = [
    [
      'run',
      [
        ['gateway', s.run.gateway],
        [
          'marketplace',
          `seed ${s.run.spec.seed}, ${int(s.run.spec.advertisers)} advertisers, ${int(s.run.spec.ads)} ads, ${int(s.run.spec.users)} users`,
        ],
        [
          'traffic',
          `seed ${s.run.seed}, ${int(s.run.population)} users, ${int(s.run.arrivalsPerDay)} visits/simulated day, ${s.run.slots} slots`,
        ],
        [
          'simulated time',
          `${s.run.simulatedHours.toFixed(2)} h (from ${clock(s.run.simulatedStart)} to ${clock(s.run.simulatedEnd)})`,
        ],
        [
          'wall time',
          `${s.run.wallSeconds.toFixed(1)} s (${s.run.requestsPerWallSecond.toFixed(1)} requests/s)`,
        ],
      ],
    ],
    [
      'serving',
      [
        ['requests', int(s.requests)],
        ['errors', `${int(s.errors)}${s.errorSamples.length > 0 ? ` (e.g. ${s.errorSamples[0]})` : ''}`],
        ['fill rate', `${pct(s.fillRate, 1)} (${int(s.adsReturned)} of ${int(s.slotsRequested)} slots)`],
        ['degraded answers', pct(s.degradedShare, 1)],
        ['unranked answers', pct(s.unrankedShare, 1)],
        [
          'latency p50 / p95 / p99',
          s.latencyMs === null
            ? '-'
            : `${s.latencyMs.p50.toFixed(1)} / ${s.latencyMs.p95.toFixed(1)} / ${s.latencyMs.p99.toFixed(1)} ms`,
        ],
      ],
    ],
    [
      'users',
      [
        ['impressions', int(s.impressions)],
        ['examined', `${int(s.examined)} (${pct(s.impressions > 0 ? s.examined / s.impressions : null, 1)})`],
        ['clicks / CTR', `${int(s.clicks)} / ${pct(s.ctr)}`],
        ['conversions / CVR', `${int(s.conversions)} / ${pct(s.cvr)}`],
        [
          'hides',
          `${int(s.hides)} (${num(s.engagement.hidesPerThousandImpressions, 2)} per 1000 impressions)`,
        ],
        ['clicks per request', num(s.engagement.clicksPerRequest)],
        ['mean fatigue multiplier', num(s.engagement.meanFatigueMultiplier, 3)],
        ['distinct users', int(s.engagement.users)],
        [
          'tracking errors',
          `impression ${s.trackingErrors.impression}, click ${s.trackingErrors.click}, conversion ${s.trackingErrors.conversion}, hide ${s.trackingErrors.hide}, activity ${s.trackingErrors.activity}`,
        ],
      ],
    ],
    [
      'money',
      [
        [
          'revenue',
          `${usd(s.revenue.total)} (CPM ${usd(s.revenue.CPM)}, CPC ${usd(s.revenue.CPC)}, CPA ${usd(s.revenue.CPA)})`,
        ],
        ['advertiser value', usd(s.advertiserValue)],
        [
          'campaigns with spend',
          `${int(s.budgets.campaigns)} (${int(s.budgets.campaignDays)} campaign-days)`,
        ],
        ['over daily budget', `${int(s.budgets.overBudget)} campaign-days`],
        [
          'budget use p50 / p90 / max',
          s.budgets.utilisation === null
            ? '-'
            : `${pct(s.budgets.utilisation.p50)} / ${pct(s.budgets.utilisation.p90)} / ${pct(s.budgets.utilisation.max)}`,
        ],
      ],
    ],
  ];
  if (s.topicMatch !== undefined) {
    const share = (m: TopicMatch) =>
      `${pct(m.share, 1)} (${int(m.onTopic)} of ${int(m.served)} ads, ${int(m.requests)} requests)`;
    sections.push([
      'relevance (oracle)',
      [
        ["search: served ads of the query's topic", share(s.topicMatch.search)],
        ["related items: of the item's topic", share(s.topicMatch.relatedItems)],
      ],
    ]);
  }
  if (s.calibration !== undefined)
    sections.push(['calibration (logged clicks)', calibrationRows(s.calibration)]);
  const o = s.oracle;
  if (o !== null) {
    const failed = o.probes.retrieval.failed + o.probes.ranking.failed;
    const rows: Row[] = [
      ['sampled requests', `${int(o.sampledRequests)}${failed > 0 ? ` (${failed} probe errors)` : ''}`],
    ];
    for (const stage of ['retrieval', 'ranking'] as const) {
      const t = o.probes[stage];
      if (t.failed > 0) {
        rows.push([
          `${stage} probes failed`,
          `${int(t.failed)} of ${int(t.asked)}${t.errorSamples.length > 0 ? ` (e.g. ${t.errorSamples[0]})` : ''}`,
        ]);
      }
    }
    if (o.retrieval !== null) {
      rows.push(
        [`retrieval recall@${o.retrieval.k} (value)`, num(o.retrieval.recall)],
        ['retrieval recall of oracle top 10', num(o.retrieval.recallAt10)],
        [`retrieval recall@${o.retrieval.k} (pClick)`, num(o.retrieval.recallByClick)],
      );
    } else rows.push(['retrieval recall', missing(o.missing.retrieval)]);
    if (o.ranking !== null) {
      const r = o.ranking;
      rows.push(
        ['ranking rows / clicks drawn', `${int(r.rows)} / ${int(r.positives)}`],
        ['ranking logloss (Bayes floor)', `${num(r.logloss)} (${num(r.bayesLogloss)})`],
        ['ranking expected logloss (floor)', `${num(r.expectedLogloss)} (${num(r.expectedBayesLogloss)})`],
        [
          'ranking AUC (Bayes)',
          r.auc === null || r.bayesAuc === null
            ? missing(o.missing.auc)
            : `${num(r.auc)} (${num(r.bayesAuc)})`,
        ],
        ['ranking calibration', num(r.calibration, 3)],
      );
    } else rows.push(['ranking logloss, AUC, calibration', missing(o.missing.ranking)]);
    if (o.welfare !== null) {
      const w = o.welfare;
      rows.push(
        [
          'welfare chosen / oracle',
          `${usd(w.chosen)} / ${usd(w.oracleEligible)} = ${w.efficiency === null ? missing(o.missing.efficiency) : pct(w.efficiency, 1)}`,
        ],
        [
          'welfare given retrieval',
          `${usd(w.oracleRetrieved)}: chosen ${pct(w.efficiencyGivenRetrieved, 1)}, retrieval ${pct(w.retrievalEfficiency, 1)}`,
        ],
        [
          'rule on retrieved: model / true p',
          `${pct(w.replayEfficiency.model, 1)} / ${pct(w.replayEfficiency.trueProbabilities, 1)}`,
        ],
        [
          '  + true values / + true examination',
          `${pct(w.replayEfficiency.trueValues, 1)} / ${pct(w.replayEfficiency.trueValuesTrueExamination, 1)}`,
        ],
      );
    } else rows.push(['welfare vs oracle', missing(o.missing.welfare)]);
    for (const warning of o.warnings) rows.push(['warning', warning]);
    sections.push(['oracle', rows]);
  }
  const width = Math.max(...sections.flatMap(([, rows]) => rows.map(([k]) => k.length)));
  const lines: string[] = [];
  for (const [title, rows] of sections) {
    lines.push(`${title}`);
    for (const [k, v] of rows) lines.push(`  ${k.padEnd(width)}  ${v}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Lines for stderr when oracle figures are missing or cover only part of the sample: a run whose
 * table says n/a must say so where the user looks while it runs, too.
 */
export function oracleWarnings(o: OracleMetrics | null): string[] {
  if (o === null) return [];
  const byReason = new Map<string, OracleFigure[]>();
  for (const [figure, reason] of Object.entries(o.missing) as [OracleFigure, string][]) {
    byReason.set(reason, [...(byReason.get(reason) ?? []), figure]);
  }
  const lines = [...byReason].map(
    ([reason, figures]) => `WARNING: oracle figures missing (${figures.join(', ')}): ${reason}`,
  );
  lines.push(...o.warnings.map((w) => `WARNING: ${w}`));
  const unanswered = (['retrieval', 'ranking'] as const).some(
    (stage) => o.probes[stage].asked > 0 && o.probes[stage].failed === o.probes[stage].asked,
  );
  if (unanswered) {
    lines.push(
      'the stages answer on the NATS and in the bus namespace the funnel was started with: ' +
        'run the simulator with the same NATS_URL (or --nats) and BUS_NAMESPACE',
    );
  }
  return lines;
}

function missing(reason: string | undefined): string {
  return `n/a: ${reason ?? 'no reason recorded'}`;
}

function clock(t: number): string {
  const day = Math.floor(t / 86_400);
  const s = t - day * 86_400;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `day ${day} ${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
}
