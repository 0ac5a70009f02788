import { describe, expect, it } from '@jest/globals';
import { DEMO_MARKETPLACE, userAt } from '@adfunnel/simulator';
import { MarketplaceOracle } from './oracle/marketplace-oracle.js';
import { OracleMetricsAccumulator } from './oracle/oracle-metrics.js';
import { RunStats, type RunSummary } from './run-stats.js';
import { formatSummaryTable, oracleWarnings } from './summary-table.js';

const spec = { ...DEMO_MARKETPLACE, advertisers: 10, ads: 100, users: 20 };
const oracle = MarketplaceOracle.build(spec);
const ROUTE = 'subject retrieval.candidates on nats://127.0.0.1:4222 (no BUS_NAMESPACE)';

function summaryOf(metrics: OracleMetricsAccumulator): RunSummary {
  return new RunStats().summary(
    {
      gateway: 'http://127.0.0.1:3100',
      spec,
      seed: 1,
      population: 20,
      arrivalsPerDay: 80,
      slots: 3,
      simulatedStart: 0,
      simulatedEnd: 3600,
      wallSeconds: 1,
    },
    () => 100,
    metrics.result(),
  );
}

describe(formatSummaryTable.name, () => {
  it('prints n/a with the reason for every oracle figure the stages did not answer for, and warns', () => {
    const metrics = new OracleMetricsAccumulator(oracle, () => ROUTE);
    for (let i = 0; i < 12; i++)
      metrics.probeFailed('retrieval', 'no service is listening on retrieval.candidates');
    const s = summaryOf(metrics);
    const reason =
      `retrieval did not answer on ${ROUTE}: 12 of 12 probes failed ` +
      '(e.g. "no service is listening on retrieval.candidates")';

    const table = formatSummaryTable(s);

    expect(table).toMatch(/retrieval probes failed +12 of 12 \(e\.g\. no service is listening/);
    for (const row of ['retrieval recall', 'ranking logloss, AUC, calibration', 'welfare vs oracle'])
      expect(table).toMatch(new RegExp(`^  ${row} +n/a: ${escape(reason)}$`, 'm'));
    expect(oracleWarnings(s.oracle)).toEqual([
      `WARNING: oracle figures missing (retrieval, ranking, auc, welfare, efficiency): ${reason}`,
      'the stages answer on the NATS and in the bus namespace the funnel was started with: ' +
        'run the simulator with the same NATS_URL (or --nats) and BUS_NAMESPACE',
    ]);
  });

  it('prints every oracle figure and no warning when every probe was answered', () => {
    const metrics = new OracleMetricsAccumulator(oracle, () => ROUTE);
    for (let i = 0; i < 40; i++) {
      const user = userAt(spec, i % spec.users);
      const ctx = { surface: 'home_feed' as const, device: user.device, country: user.country };
      const retrieved = oracle.bestByValue(user, ctx, 50).adIds;
      metrics.probeAnswered('retrieval');
      metrics.probeAnswered('ranking');
      metrics.observe({
        user,
        ctx,
        slots: 3,
        retrievalLimit: 50,
        retrieved,
        pCtr: retrieved.map((adId) => oracle.pClickExamined(user, adId, ctx)),
        pCvr: retrieved.map(() => 0.1),
        shown: retrieved.slice(0, 3).map((adId, slot) => ({ slot, adId })),
        drawSeed: i,
      });
    }
    const s = summaryOf(metrics);

    expect(s.oracle!.missing).toEqual({});
    expect(formatSummaryTable(s)).not.toMatch(/n\/a|probes failed|warning/);
    expect(formatSummaryTable(s)).toMatch(/ranking AUC \(Bayes\) +0\.\d{4} \(0\.\d{4}\)/);
    expect(formatSummaryTable(s)).toMatch(/rule on retrieved: model \/ true p +\d+\.\d% \/ \d+\.\d%/);
    expect(formatSummaryTable(s)).toMatch(/\+ true values \/ \+ true examination +\d+\.\d% \/ \d+\.\d%/);
    expect(oracleWarnings(s.oracle)).toEqual([]);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
