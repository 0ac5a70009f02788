import { describe, expect, it } from '@jest/globals';
import type { LoopResult } from './closed-loop.js';
import { buildReport, formatReport } from './loop-report.js';
import type { SimSummary } from './sim-summary.js';

const UNANSWERED =
  'retrieval did not answer on subject retrieval.candidates on nats://127.0.0.1:4222 (no BUS_NAMESPACE): ' +
  '240 of 240 probes failed (e.g. "no service is listening on retrieval.candidates")';

function simSummary(oracle: SimSummary['oracle']): SimSummary {
  return {
    requests: 1200,
    errors: 0,
    degradedShare: 0,
    unrankedShare: 0,
    adsReturned: 3600,
    fillRate: 1,
    impressions: 3600,
    clicks: 120,
    ctr: 120 / 3600,
    conversions: 20,
    cvr: 20 / 120,
    trackingErrors: { impression: 0, click: 0, conversion: 0 },
    revenue: { total: 300 },
    advertiserValue: 600,
    run: { wallSeconds: 20, requestsPerWallSecond: 60 },
    oracle,
  };
}

const answered = (logloss: number): NonNullable<SimSummary['oracle']> => ({
  sampledRequests: 240,
  probes: {
    retrieval: { route: 'r', asked: 240, failed: 0 },
    ranking: { route: 'r', asked: 240, failed: 0 },
  },
  ranking: {
    rows: 48_000,
    logloss,
    bayesLogloss: 0.2,
    expectedLogloss: logloss,
    expectedBayesLogloss: 0.2,
    auc: 0.6,
    bayesAuc: 0.74,
    calibration: 0.95,
  },
  welfare: { chosen: 30, oracleEligible: 100, efficiency: 0.3, efficiencyGivenRetrieved: 0.32 },
  missing: {},
  warnings: [],
});

const unanswered: NonNullable<SimSummary['oracle']> = {
  sampledRequests: 0,
  probes: {
    retrieval: { route: 'r', asked: 240, failed: 240 },
    ranking: { route: 'r', asked: 0, failed: 0 },
  },
  ranking: null,
  welfare: null,
  missing: {
    retrieval: UNANSWERED,
    ranking: UNANSWERED,
    auc: UNANSWERED,
    welfare: UNANSWERED,
    efficiency: UNANSWERED,
  },
  warnings: [],
};

function loopResult(before: SimSummary, after: SimSummary): LoopResult {
  const score = (version: string) => ({ version, logloss: 0.15, auc: 0.6, meanPredicted: 0.03 });
  return {
    workDir: '/tmp/loop',
    spec: { seed: 42, advertisers: 60, campaignsPerAdvertiser: 3, ads: 3000, users: 2000 },
    traffic: {
      requests: 1200,
      concurrency: 8,
      seed: 1,
      users: 2000,
      dayRequests: 8000,
      slots: 3,
      oracleSample: 0.2,
      organicPerVisit: 2,
    },
    startModel: 'cold-start',
    coldStart: 'cold',
    trained: 'fresh',
    before,
    after,
    export: { read: 3600, train: { rows: 3000, clicks: 100 }, validation: { rows: 600, clicks: 20 } },
    training: { seconds: 3, output: [], initFrom: 'cold' },
    deploy: { ms: 50, servedAfter: 'fresh' },
    retrieval: {
      export: {
        rows: 900,
        clicks: 40,
        withActivity: 850,
        ads: 300,
        columns: ['query', 'context_ad_id', 'user_activity'],
      },
      version: 'towers-1',
      seconds: 4,
      recallAtK: {
        model: { '10': 0.2, '100': 0.6, '200': 0.8 },
        popular: { '10': 0.1, '100': 0.4, '200': 0.6 },
        heuristic: { '10': 0.15, '100': 0.5, '200': 0.7 },
      },
      heldOutClicks: 8,
      deploy: { ms: 120, indexVersion: 'cat+retrieval@towers-1@t' },
    },
    heldOut: {
      rows: 600,
      clicks: 20,
      before: score('cold'),
      after: score('fresh'),
      loglossDifference: { estimate: -0.01, low: -0.02, high: 0 },
    },
    reloadMemory: null,
    wallSeconds: 60,
  };
}

describe(formatReport.name, () => {
  it('prints the oracle rows as numbers when both runs measured them', () => {
    const sut = formatReport(buildReport(loopResult(simSummary(answered(0.23)), simSummary(answered(0.22)))));

    expect(sut).toMatch(/^ranking logloss \(oracle draws\) +0\.23000 +0\.22000 +-0\.01000$/m);
    expect(sut).not.toMatch(/n\/a|WARNING/);
  });

  it('prints retrieval recall against the oracle when the runs measured it', () => {
    const withRecall = (recall: number) => {
      const s = simSummary(answered(0.22));
      return { ...s, oracle: { ...s.oracle!, retrieval: { k: 200, recall, recallAt10: recall + 0.2 } } };
    };
    const sut = formatReport(buildReport(loopResult(withRecall(0.28), withRecall(0.27))));

    expect(sut).toMatch(/^retrieval recall of oracle best 200 +28\.00% +27\.00% +-1\.00 pp$/m);
    expect(sut).toMatch(/^ {2}of its top 10 +48\.00% +47\.00%/m);
  });

  it('names the two-tower version the second run served and its held-out recall against the baselines', () => {
    const sut = formatReport(buildReport(loopResult(simSummary(answered(0.23)), simSummary(answered(0.22)))));

    expect(sut).toContain('after two-tower retrieval@towers-1 (trained on 40 clicks of 900 served ads');
    expect(sut).toContain(
      'held-out recall (latest 8 clicks): model @10 0.200 @100 0.600 @200 0.800; most popular @10 0.100',
    );
  });

  it('says when the towers were not deployed because they lost to the heuristic offline', () => {
    const result = loopResult(simSummary(answered(0.23)), simSummary(answered(0.22)));
    const skipped = {
      ...result,
      retrieval: { ...result.retrieval, deploy: null, skipped: 'recall@100 0.4 vs 0.5' },
    };
    const sut = formatReport(buildReport(skipped));

    expect(sut).toContain('retrieval: the activity heuristic in both runs; two-tower retrieval@towers-1');
    expect(sut).toContain('not deployed: recall@100 0.4 vs 0.5');
    expect(sut).toMatch(/before \(cold-start cold\)/);
  });

  it('says whether the ranking model was fine-tuned from the serving one or trained from scratch, and why', () => {
    const result = loopResult(simSummary(answered(0.23)), simSummary(answered(0.22)));
    const scratch = {
      ...result,
      training: { ...result.training, initFrom: null, scratchReason: 'ranking@cold has no model.pt' },
    };

    expect(formatReport(buildReport(result))).toContain(
      'ranking: fine-tuned from the weights of ranking@cold, the model that served before',
    );
    expect(formatReport(buildReport(scratch))).toContain(
      'ranking: trained from scratch (ranking@cold has no model.pt)',
    );
  });

  it('says under the table why each oracle figure is n/a, run by run', () => {
    const sut = formatReport(buildReport(loopResult(simSummary(unanswered), simSummary(answered(0.22)))));

    expect(sut).toMatch(/^ranking logloss \(oracle draws\) +n\/a \(see below\) +0\.22000 +$/m);
    expect(sut).toMatch(/^welfare vs oracle \(efficiency\) +n\/a \(see below\) +30\.00%/m);
    expect(sut).toContain(
      `WARNING: oracle figures missing (n/a above):\n  before (ranking, auc, efficiency): ${UNANSWERED}\n`,
    );
    expect(sut).not.toMatch(/^ {2}after/m);
  });

  it("prints the simulator's warnings about figures that cover only part of the sample", () => {
    const partial = {
      ...answered(0.22),
      warnings: [
        'ranking did not answer on r: 3 of 240 probes failed; its figures cover the 237 requests it answered',
      ],
    };
    const sut = formatReport(buildReport(loopResult(simSummary(answered(0.23)), simSummary(partial))));

    expect(sut).toContain(
      'WARNING: after: ranking did not answer on r: 3 of 240 probes failed; its figures cover the 237 requests it answered',
    );
  });
});
