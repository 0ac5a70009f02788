import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CampaignEntity } from '@adfunnel/catalog';
import {
  CampaignDaySliceSpendEntity,
  CampaignDaySpendEntity,
  migrateFunnelDatabase,
  openFunnelDatabase,
} from '@adfunnel/event-store';
import {
  type ExperimentConfig,
  type ExperimentConfigInput,
  assign,
  budgetSlicesOf,
  parseExperimentConfig,
} from '@adfunnel/experiments';
import type { FunnelLauncher } from '@adfunnel/funnel';
import { HOUR_MS } from '@adfunnel/pacing';
import { userIdAt } from '@adfunnel/simulator';
import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { MarketplaceOracle } from '../oracle/marketplace-oracle.js';
import { type DayTraffic, OwnFunnel, type OwnFunnelOptions } from '../own-funnel.js';
import {
  type ArmSummary,
  BUDGET_SPLIT_DESIGNS,
  type BudgetSplitDesign,
  type BudgetSplitEstimates,
  budgetSplitEstimates,
  summarizeArm,
} from './budget-split-estimates.js';

/** The day every design runs (UTC; every advertiser of the run bills in UTC). */
const STUDY_DAY = Date.UTC(2026, 2, 2);
/** A campaign counts as exhausted once its charged spend reaches this share of its budget. */
const EXHAUSTED_SHARE = 0.98;

export interface BudgetSplitStudyOptions extends OwnFunnelOptions {
  /** Visits of the day, all users together. */
  requests: number;
  /** Wall seconds the day lasts. */
  daySeconds: number;
  /** Every campaign's daily budget, USD: low enough that budgets bind. */
  budgetUsd: number;
  /** Ad load of each arm (AdRequest.slots capped at it); the traffic asks for the larger. */
  controlSlots: number;
  treatmentSlots: number;
  /** Run only these designs (default all four; the estimates need all four). */
  designs?: readonly BudgetSplitDesign[];
  keep: boolean;
}

export interface DesignRun {
  readonly design: BudgetSplitDesign;
  readonly arms: readonly ArmSummary[];
  readonly traffic: DayTraffic;
  /** Campaigns that charged at least 98% of their budget, of those that charged anything. */
  readonly exhaustedCampaigns: number;
  readonly spendingCampaigns: number;
  readonly budgetUsdTotal: number;
  readonly revenueUsd: number;
  /** Budget-split only: each slice's charged spend against its share of all budgets. */
  readonly slices?: readonly BudgetSliceSpend[];
  readonly wallSeconds: number;
}

export interface BudgetSliceSpend {
  readonly key: string;
  readonly chargedUsd: number;
  /** The slice's share of every campaign's budget, summed over the campaigns. */
  readonly budgetUsd: number;
  /** The most any one campaign charged the slice, over the slice's share of its budget. */
  readonly maxCampaignUse: number;
}

export interface BudgetSplitStudyResult {
  readonly settings: Omit<BudgetSplitStudyOptions, 'log' | 'onProgress' | 'root'>;
  readonly runs: readonly DesignRun[];
  /** Absent when some design was not run. */
  readonly estimates?: BudgetSplitEstimates;
  readonly wallSeconds: number;
}

/**
 * The cannibalization bias of marketplace experiments, measured through the real funnel. One
 * ad-load experiment (the treatment shows more ads per request) is run four ways, each on a funnel
 * of its own with a fresh ledger and the same simulated day of visits, every campaign on a budget
 * that binds and paced asap: all traffic on control, all on treatment (their difference is the
 * effect of launching the treatment), a naive 50/50 test where both arms spend from one budget, and
 * a budget-split 50/50 test. Revenue per user of each arm comes from the ledger, over every user of
 * the population (a user who did not visit, or got no ads, counts 0), by the arm the config assigns.
 */
export class BudgetSplitStudy {
  private readonly started = performance.now();

  constructor(private readonly o: BudgetSplitStudyOptions) {
    if (o.treatmentSlots === o.controlSlots) {
      throw new RangeError('the treatment must change the ad load: control and treatment slots are equal');
    }
  }

  async run(): Promise<BudgetSplitStudyResult> {
    const designs = this.o.designs ?? BUDGET_SPLIT_DESIGNS;
    const runs: DesignRun[] = [];
    for (const design of designs) runs.push(await this.runDesign(design));
    const byDesign = new Map(runs.map((r) => [r.design, r.arms]));
    const complete = BUDGET_SPLIT_DESIGNS.every((d) => byDesign.has(d));
    const { log: _log, onProgress: _progress, root: _root, ...settings } = this.o;
    return {
      settings,
      runs,
      ...(complete
        ? {
            estimates: budgetSplitEstimates(
              Object.fromEntries(byDesign) as Record<BudgetSplitDesign, readonly ArmSummary[]>,
            ),
          }
        : {}),
      wallSeconds: (performance.now() - this.started) / 1000,
    };
  }

  /** The experiment config of one design: one user-randomized layer, `load`. */
  configOf(design: BudgetSplitDesign): ExperimentConfig {
    const control = { name: 'control', overrides: { slots: this.o.controlSlots } };
    const treatment = { name: 'treatment', overrides: { slots: this.o.treatmentSlots } };
    const arms =
      design === 'global-control'
        ? [{ ...control, share: 1 }]
        : design === 'global-treatment'
          ? [{ ...treatment, share: 1 }]
          : [
              { ...control, share: 0.5 },
              { ...treatment, share: 0.5 },
            ];
    const input: ExperimentConfigInput = {
      layers: [
        {
          name: 'load',
          salt: `budget-split-study-${this.o.seed}`,
          unit: 'user',
          budgetSplit: design === 'budget-split',
          experiments: [{ name: 'ads', arms }],
        },
      ],
    };
    return parseExperimentConfig(input);
  }

  private async runDesign(design: BudgetSplitDesign): Promise<DesignRun> {
    const started = performance.now();
    const funnel = new OwnFunnel(this.o, `bsplit_${design.replace('-', '_')}`);
    const work = await mkdtemp(join(tmpdir(), `adfunnel-${design}-`));
    const sqlitePath = join(work, 'catalog.sqlite');
    const configPath = join(work, 'experiments.json');
    const config = this.configOf(design);
    let launcher: FunnelLauncher | undefined;
    let ds: DataSource | undefined;
    const redis = new Redis(this.o.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
    try {
      funnel.step(`${design}: working in ${work}`);
      ds = await openFunnelDatabase({ sqlitePath });
      await migrateFunnelDatabase(ds);
      const apiKeys = await funnel.seed(ds, 'cpm');
      await ds
        .getRepository(CampaignEntity)
        .createQueryBuilder()
        .update()
        .set({ dailyBudget: this.o.budgetUsd, pacing: 'asap' })
        .execute();
      await writeFile(configPath, JSON.stringify(config, null, 2));
      const oracle = MarketplaceOracle.build(this.o.spec);
      const speed = 86_400 / this.o.daySeconds;
      let midnightAt: number;
      ({ launcher, midnightAt } = await funnel.start(sqlitePath, STUDY_DAY, speed, {
        EXPERIMENTS_CONFIG: configPath,
        EXPERIMENTS_WATCH_MS: '0',
        PACING: 'off',
        // An hour of simulated time: reservations outlive the wall-clock latency of an impression.
        BUDGET_RESERVATION_MS: String(HOUR_MS),
      }));
      // Every design sees the same visits: one traffic seed.
      const traffic = await funnel.drive(
        {
          phase: design,
          dayIndex: 0,
          requests: this.o.requests,
          wallSeconds: this.o.daySeconds,
          seed: this.o.seed,
        },
        launcher,
        midnightAt,
        oracle,
        apiKeys,
      );
      await funnel.waitForEvents(ds);
      await launcher.stopAll();
      launcher = undefined;
      const run = await this.outcomes(ds, design, config, traffic);
      funnel.step(
        `${design}: revenue $${run.revenueUsd.toFixed(2)} of $${run.budgetUsdTotal.toFixed(2)} budgets, ` +
          `${run.exhaustedCampaigns} of ${run.spendingCampaigns} spending campaigns exhausted`,
      );
      return { ...run, wallSeconds: (performance.now() - started) / 1000 };
    } catch (err) {
      throw funnel.withServiceOutput(err);
    } finally {
      await launcher?.stopAll();
      await ds?.destroy();
      await funnel
        .cleanRedis(redis)
        .catch((err: unknown) => this.o.log(`redis cleanup: ${(err as Error).message}`));
      redis.disconnect();
      if (!this.o.keep) await rm(work, { recursive: true, force: true });
    }
  }

  private async outcomes(
    ds: DataSource,
    design: BudgetSplitDesign,
    config: ExperimentConfig,
    traffic: DayTraffic,
  ): Promise<Omit<DesignRun, 'wallSeconds'>> {
    // Revenue per user: the ledger's charges of each request, its user from the served record.
    const charged = await ds.query<{ user_id: string; micros: number | string }[]>(
      `SELECT s.user_id AS user_id, SUM(l.charged_micros) AS micros
         FROM ledger_entries l
         JOIN (SELECT DISTINCT request_id, user_id FROM served_ads) s ON s.request_id = l.request_id
        GROUP BY s.user_id`,
    );
    const shown = await ds.query<{ user_id: string; n: number | string }[]>(
      `SELECT user_id, COUNT(*) AS n FROM tracking_events WHERE type = 'impression' GROUP BY user_id`,
    );
    const revenueOf = new Map(charged.map((r) => [r.user_id, Number(r.micros) / 1e6]));
    const impressionsOf = new Map(shown.map((r) => [r.user_id, Number(r.n)]));
    const arms = new Map<'control' | 'treatment', { revenue: number[]; impressions: number[] }>();
    for (let i = 0; i < this.o.population; i++) {
      const userId = userIdAt(i);
      const arm = assign(config, { userId, requestId: '' }).arms[0]?.arm;
      if (arm !== 'control' && arm !== 'treatment') {
        throw new Error(`user ${userId} is in no arm of ${design}'s config`);
      }
      const users = arms.get(arm) ?? { revenue: [], impressions: [] };
      users.revenue.push(revenueOf.get(userId) ?? 0);
      users.impressions.push(impressionsOf.get(userId) ?? 0);
      arms.set(arm, users);
    }
    const days = await ds.getRepository(CampaignDaySpendEntity).find();
    const campaigns = await ds.getRepository(CampaignEntity).count();
    const exhausted = days.filter((d) => d.chargedMicros >= EXHAUSTED_SHARE * d.budgetMicros).length;
    const revenueUsd = days.reduce((sum, d) => sum + d.chargedMicros, 0) / 1e6;
    let slices: DesignRun['slices'];
    if (design === 'budget-split') {
      const rows = await ds.getRepository(CampaignDaySliceSpendEntity).find();
      slices = budgetSlicesOf(config).map(({ key, share }) => {
        const own = rows.filter((r) => r.budgetSlice === key);
        const sliceBudgetMicros = share * this.o.budgetUsd * 1e6;
        return {
          key,
          chargedUsd: own.reduce((sum, r) => sum + r.chargedMicros, 0) / 1e6,
          budgetUsd: share * this.o.budgetUsd * campaigns,
          maxCampaignUse: own.reduce((max, r) => Math.max(max, r.chargedMicros / sliceBudgetMicros), 0),
        };
      });
    }
    return {
      design,
      arms: [...arms].map(([arm, users]) => summarizeArm({ arm, ...users })),
      traffic,
      exhaustedCampaigns: exhausted,
      spendingCampaigns: days.length,
      budgetUsdTotal: this.o.budgetUsd * campaigns,
      revenueUsd,
      ...(slices ? { slices } : {}),
    };
  }
}
