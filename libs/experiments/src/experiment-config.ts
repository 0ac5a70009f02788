import {
  CANDIDATE_SOURCES,
  MAX_SLOTS,
  PricingMechanismSchema,
  SurfaceSchema,
  UtilityWeightsSchema,
} from '@adfunnel/contracts';
import { z } from 'zod';

/** Assignment hashes a unit to one of this many buckets; a traffic share is a whole number of them. */
export const BUCKETS = 10_000;

/** Names end up in the compact assignment label (`layer:experiment/arm,...`): no `:`, `/` or `,`. */
const NameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(
    /^[a-z0-9][a-z0-9_.-]*$/,
    'must be lowercase letters, digits and _ . - (starting with a letter or digit)',
  );

const SaltSchema = z.string().min(1).max(128);

/** A traffic share: in (0, 1], a whole number of 1/10,000 buckets (0.0001 steps). */
const ShareSchema = z
  .number()
  .gt(0)
  .max(1)
  .refine((share) => isWholeBuckets(share), {
    message: `must be a multiple of 1/${BUCKETS} (a whole number of buckets)`,
  });

/**
 * The sources a retrieval quota may name: every candidate source but `exact` (how `ann` labels the
 * candidates it found by scanning a small eligible set), as apps/retrieval's RETRIEVAL_QUOTAS_* take.
 */
export const QUOTA_SOURCE_NAMES: readonly string[] = CANDIDATE_SOURCES.filter((s) => s !== 'exact');

/**
 * A surface's retrieval quotas in apps/retrieval's format, `interest:0.45,ann:0.15,trending:0.2`:
 * `<source>:<share>` pairs in merge priority, each source at most once, shares in (0, 1] summing to
 * at most 1. Returns what is wrong, or undefined when the string is well formed.
 */
export function quotaStringProblem(raw: string): string | undefined {
  const pairs = raw.split(',').filter((p) => p.trim() !== '');
  if (pairs.length === 0) return 'names no source (expected <source>:<share> pairs separated by commas)';
  const seen = new Set<string>();
  let total = 0;
  for (const pair of pairs) {
    const [name, value, ...rest] = pair.split(':').map((p) => p.trim());
    if (name === undefined || value === undefined || rest.length > 0) {
      return `"${pair}" is not a <source>:<share> pair`;
    }
    if (!QUOTA_SOURCE_NAMES.includes(name)) {
      return `"${name}" is not a quota source (one of ${QUOTA_SOURCE_NAMES.join(', ')})`;
    }
    if (seen.has(name)) return `${name} is named twice`;
    seen.add(name);
    const share = value === '' ? Number.NaN : Number(value);
    if (!Number.isFinite(share) || share <= 0 || share > 1)
      return `${name} has share "${value}", not in (0, 1]`;
    total += share;
  }
  if (total > 1 + 1e-9) return `the shares sum to ${Math.round(total * 1e6) / 1e6}, more than 1`;
  return undefined;
}

const QuotaStringSchema = z.string().superRefine((raw, context) => {
  const problem = quotaStringProblem(raw);
  if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
});

/**
 * What an arm (or a launch) changes for the requests assigned to it: the parameters the funnel already
 * takes per request or per stage. Absent fields keep the service's configuration.
 */
export const OverridesSchema = z.strictObject({
  /** Some of the auction's utility weights (AuctionRequest.utilityWeights); the rest keep the surface's. */
  utilityWeights: UtilityWeightsSchema.partial().optional(),
  /** The pricing mechanism (AuctionRequest.mechanism). */
  mechanism: PricingMechanismSchema.optional(),
  /** Retrieval quotas per surface, in RETRIEVAL_QUOTAS_* format (`interest:0.45,ann:0.15,...`). */
  retrievalQuotas: z.partialRecord(SurfaceSchema, QuotaStringSchema).optional(),
  /** The ranking model version to score with (a directory under MODELS_DIR, e.g. `20261207-eae89cb9`). */
  rankingModelVersion: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a model directory name (letters, digits, . _ -)')
    .optional(),
  /** Ad load: at most this many slots (the request's `slots` is capped at it, never raised above it). */
  slots: z.number().int().min(1).max(MAX_SLOTS).optional(),
});
export type Overrides = z.infer<typeof OverridesSchema>;

export const ArmSchema = z.strictObject({
  name: NameSchema,
  /** Share of the layer's traffic (after the holdout). */
  share: ShareSchema,
  overrides: OverridesSchema.default({}),
});
export type Arm = z.infer<typeof ArmSchema>;

export const ExperimentSchema = z.strictObject({
  name: NameSchema,
  description: z.string().max(500).optional(),
  arms: z.array(ArmSchema).min(1),
});
export type Experiment = z.infer<typeof ExperimentSchema>;

export const RandomizationUnitSchema = z.enum(['user', 'request']);
export type RandomizationUnit = z.infer<typeof RandomizationUnitSchema>;

/**
 * A layer: experiments that share the layer's buckets, so a unit is in at most one of them. Layers
 * hash with their own salts and are independent of one another; they override disjoint parameters.
 */
export const LayerSchema = z.strictObject({
  name: NameSchema,
  salt: SaltSchema,
  /** What is hashed: the user's id (effects that build up per user) or the request's id. */
  unit: RandomizationUnitSchema.default('user'),
  /**
   * Budget-split (LinkedIn's design): every campaign's daily budget is split between the layer's arms
   * in proportion to their traffic, so an arm that spends faster cannot take the money its control
   * would have spent. The holdout and the layer's unassigned buckets get their own slices, so the
   * slices of a budget add up to it. At most one layer of a config splits budgets.
   */
  budgetSplit: z.boolean().default(false),
  experiments: z.array(ExperimentSchema),
});
export type Layer = z.infer<typeof LayerSchema>;

export const ExperimentConfigSchema = z
  .strictObject({
    /**
     * Users kept out of every experiment and every launch: they see the services' configuration as
     * it was, so launches' cumulative long-term effect can be measured against them. Hashed by user.
     */
    holdout: z
      .strictObject({
        salt: SaltSchema,
        share: z
          .number()
          .min(0)
          .max(0.5)
          .refine((share) => share === 0 || isWholeBuckets(share), {
            message: `must be a multiple of 1/${BUCKETS} (a whole number of buckets)`,
          }),
      })
      .optional(),
    /** Overrides shipped to everyone outside the holdout; an arm's override of the same parameter wins. */
    launches: z.array(z.strictObject({ name: NameSchema, overrides: OverridesSchema })).default([]),
    layers: z.array(LayerSchema),
  })
  .superRefine((config, context) => {
    const issue = (path: (string | number)[], message: string) =>
      context.addIssue({ code: 'custom', path, message });

    const salts = new Map<string, string>();
    if (config.holdout) salts.set(config.holdout.salt, 'holdout.salt');
    const layerNames = new Map<string, number>();
    const experimentNames = new Map<string, string>();
    const parameterOwner = new Map<string, number>();

    config.layers.forEach((layer, l) => {
      const where = `layers[${l}]`;
      const sameSalt = salts.get(layer.salt);
      if (sameSalt !== undefined) {
        issue(
          ['layers', l, 'salt'],
          `is the same as ${sameSalt}: layers with one salt would not be independent`,
        );
      } else salts.set(layer.salt, `${where}.salt`);
      const sameName = layerNames.get(layer.name);
      if (sameName !== undefined)
        issue(['layers', l, 'name'], `"${layer.name}" is also layers[${sameName}]'s name`);
      else layerNames.set(layer.name, l);

      let layerTotal = 0;
      let experimentOverflows = false;
      const layerParameters = new Set<string>();
      layer.experiments.forEach((experiment, e) => {
        const earlier = experimentNames.get(experiment.name);
        if (earlier !== undefined) {
          issue(['layers', l, 'experiments', e, 'name'], `"${experiment.name}" is also ${earlier}'s name`);
        } else experimentNames.set(experiment.name, `${where}.experiments[${e}]`);
        const armNames = new Set<string>();
        let total = 0;
        experiment.arms.forEach((arm, a) => {
          if (armNames.has(arm.name)) {
            issue(['layers', l, 'experiments', e, 'arms', a, 'name'], `"${arm.name}" names two arms`);
          }
          armNames.add(arm.name);
          total += arm.share;
          for (const parameter of overriddenParameters(arm.overrides)) layerParameters.add(parameter);
        });
        if (total > 1 + 1e-9) {
          issue(['layers', l, 'experiments', e, 'arms'], `shares sum to ${roundShare(total)}, more than 1`);
          experimentOverflows = true;
        }
        layerTotal += total;
      });
      if (layerTotal > 1 + 1e-9 && !experimentOverflows) {
        issue(
          ['layers', l, 'experiments'],
          `the experiments' shares sum to ${roundShare(layerTotal)}, more than 1`,
        );
      }
      for (const parameter of layerParameters) {
        const owner = parameterOwner.get(parameter);
        if (owner !== undefined) {
          issue(
            ['layers', l],
            `overrides ${parameter}, which layers[${owner}] ("${config.layers[owner].name}") overrides too; layers must override disjoint parameters`,
          );
        } else parameterOwner.set(parameter, l);
      }
    });

    const splitting = config.layers.flatMap((layer, l) => (layer.budgetSplit ? [l] : []));
    for (const l of splitting.slice(1)) {
      issue(
        ['layers', l, 'budgetSplit'],
        `layers[${splitting[0]}] ("${config.layers[splitting[0]].name}") already splits budgets; at most one layer may (slices of slices would leave each too small to spend)`,
      );
    }

    const launched = new Map<string, number>();
    config.launches.forEach((launch, i) => {
      for (const parameter of overriddenParameters(launch.overrides)) {
        const owner = launched.get(parameter);
        if (owner !== undefined) {
          issue(['launches', i], `overrides ${parameter}, which launches[${owner}] overrides too`);
        } else launched.set(parameter, i);
      }
    });
  });
export type ExperimentConfig = z.infer<typeof ExperimentConfigSchema>;
export type ExperimentConfigInput = z.input<typeof ExperimentConfigSchema>;

/**
 * The parameters an override sets, one name per leaf: `mechanism`, `utilityWeights.hide`,
 * `retrievalQuotas.home_feed`, `rankingModelVersion`, `slots`.
 */
export function overriddenParameters(overrides: Overrides): string[] {
  const parameters: string[] = [];
  for (const [key, value] of Object.entries(overrides) as [keyof Overrides, unknown][]) {
    if (value === undefined) continue;
    if (key === 'utilityWeights' || key === 'retrievalQuotas') {
      for (const [leaf, leafValue] of Object.entries(value as Record<string, unknown>)) {
        if (leafValue !== undefined) parameters.push(`${key}.${leaf}`);
      }
    } else parameters.push(key);
  }
  return parameters;
}

/** A config that does not validate: the message lists every problem as `path: problem`. */
export class ExperimentConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid experiment config: ${problems.join('; ')}`);
    this.name = 'ExperimentConfigError';
  }
}

/** Validates a parsed object; throws ExperimentConfigError naming each problem's path. */
export function parseExperimentConfig(value: unknown): ExperimentConfig {
  const result = ExperimentConfigSchema.safeParse(value);
  if (result.success) return result.data;
  throw new ExperimentConfigError(result.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`));
}

/** Parses and validates JSON text (a file's contents, an environment variable). */
export function parseExperimentConfigJson(text: string): ExperimentConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ExperimentConfigError([`(root): not JSON (${(error as Error).message})`]);
  }
  return parseExperimentConfig(value);
}

/** `['layers', 1, 'experiments', 0, 'arms']` -> `layers[1].experiments[0].arms`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

function isWholeBuckets(share: number): boolean {
  const buckets = share * BUCKETS;
  return Math.abs(buckets - Math.round(buckets)) < 1e-6;
}

function roundShare(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
