import type { BudgetSlice } from '@adfunnel/contracts';
import {
  BUCKETS,
  overriddenParameters,
  type Arm,
  type Experiment,
  type ExperimentConfig,
  type Overrides,
  type RandomizationUnit,
} from './experiment-config.js';

/**
 * MurmurHash3 x86_32 (Austin Appleby, public domain) of the UTF-8 bytes of `text`: a well-mixed
 * 32-bit hash (its finalizer makes every input bit flip each output bit with probability ~1/2), so
 * the buckets of one id under two salts are independent. Test vectors: "" -> 0, "hello" ->
 * 0x248bfa47, "The quick brown fox jumps over the lazy dog" -> 0x2e4ff723 (seed 0).
 */
export function murmur3(text: string, seed = 0): number {
  const bytes = new TextEncoder().encode(text);
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = seed >>> 0;
  const blocks = bytes.length & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = bytes.length & 3;
  if (tail > 0) {
    let k = 0;
    if (tail === 3) k ^= bytes[blocks + 2] << 16;
    if (tail >= 2) k ^= bytes[blocks + 1] << 8;
    k ^= bytes[blocks];
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= bytes.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The unit's bucket in [0, 10000) under a salt: murmur3(`salt:unitId`) mod 10000. */
export function bucketOf(salt: string, unitId: string): number {
  return murmur3(`${salt}:${unitId}`) % BUCKETS;
}

/** The ids a request can be randomized by. */
export interface AssignmentUnit {
  readonly userId: string;
  readonly requestId: string;
}

export interface ArmAssignment {
  readonly layer: string;
  readonly experiment: string;
  readonly arm: string;
  readonly unit: RandomizationUnit;
  readonly bucket: number;
}

export interface Assignment {
  /** In the long-term holdout: no arm, no launch. */
  readonly holdout: boolean;
  /** One per layer that placed the unit in an arm (a layer's unassigned buckets give none), in layer order. */
  readonly arms: readonly ArmAssignment[];
  /** The launches', then the arms' overrides (an arm's wins over a launch's on the same parameter). */
  readonly overrides: Overrides;
  /** `auction:hide-weight/treatment,retrieval:interest-source/control`; `holdout`; `` for none. */
  readonly label: string;
  /**
   * With a budget-split layer: the slice of every campaign's budget this request spends from, sized by
   * its group's traffic share. Absent when no layer splits budgets.
   */
  readonly budgetSlice?: BudgetSlice;
}

/**
 * Which arm of each layer a request is in. The holdout is decided first, by the user's id and its own
 * salt; a held-out user gets nothing. Each layer then hashes its unit (the user's or the request's id)
 * with its salt to a bucket and lays its experiments' arms over the buckets in config order, arm after
 * arm (shares are whole numbers of buckets): a bucket past the last arm is unassigned in that layer.
 */
export function assign(config: ExperimentConfig, unit: AssignmentUnit): Assignment {
  const split = config.layers.find((layer) => layer.budgetSplit);
  const held = config.holdout?.share ?? 0;
  if (config.holdout && held > 0) {
    if (bucketOf(config.holdout.salt, unit.userId) < Math.round(held * BUCKETS)) {
      return {
        holdout: true,
        arms: [],
        overrides: {},
        label: 'holdout',
        ...(split ? { budgetSlice: { key: HOLDOUT_SLICE, share: held } } : {}),
      };
    }
  }
  let overrides: Overrides = {};
  for (const launch of config.launches) overrides = mergeOverrides(overrides, launch.overrides);
  const arms: ArmAssignment[] = [];
  let budgetSlice: BudgetSlice | undefined;
  for (const layer of config.layers) {
    const bucket = bucketOf(layer.salt, layer.unit === 'user' ? unit.userId : unit.requestId);
    let end = 0;
    let placed: { experiment: Experiment; arm: Arm } | undefined;
    found: for (const experiment of layer.experiments) {
      for (const arm of experiment.arms) {
        end += Math.round(arm.share * BUCKETS);
        if (bucket < end) {
          placed = { experiment, arm };
          break found;
        }
      }
    }
    if (placed) {
      arms.push({
        layer: layer.name,
        experiment: placed.experiment.name,
        arm: placed.arm.name,
        unit: layer.unit,
        bucket,
      });
      overrides = mergeOverrides(overrides, placed.arm.overrides);
    }
    if (layer === split) {
      budgetSlice = placed
        ? { key: formatAssignmentLabel([arms[arms.length - 1]]), share: (1 - held) * placed.arm.share }
        : { key: `${layer.name}:${REST_SLICE}`, share: (1 - held) * (1 - end / BUCKETS) };
    }
  }
  return {
    holdout: false,
    arms,
    overrides,
    label: formatAssignmentLabel(arms),
    ...(budgetSlice ? { budgetSlice } : {}),
  };
}

/** The budget slice of the long-term holdout. */
export const HOLDOUT_SLICE = 'holdout';
/** After `<layer>:`, the slice of a budget-split layer's buckets that no arm takes. */
export const REST_SLICE = 'rest';

/**
 * Every slice a config's budget-split layer cuts each budget into, with its share (they sum to 1):
 * the holdout's, each arm's (`layer:experiment/arm`), and the unassigned buckets' (`layer:rest`),
 * those with a share above 0. Empty when no layer splits budgets.
 */
export function budgetSlicesOf(config: ExperimentConfig): BudgetSlice[] {
  const layer = config.layers.find((l) => l.budgetSplit);
  if (!layer) return [];
  const held = config.holdout?.share ?? 0;
  const slices: BudgetSlice[] = held > 0 ? [{ key: HOLDOUT_SLICE, share: held }] : [];
  let taken = 0;
  for (const experiment of layer.experiments) {
    for (const arm of experiment.arms) {
      taken += Math.round(arm.share * BUCKETS);
      slices.push({
        key: formatAssignmentLabel([{ layer: layer.name, experiment: experiment.name, arm: arm.name }]),
        share: (1 - held) * arm.share,
      });
    }
  }
  if (taken < BUCKETS) {
    slices.push({ key: `${layer.name}:${REST_SLICE}`, share: (1 - held) * (1 - taken / BUCKETS) });
  }
  return slices;
}

/** `b` over `a`, leaf by leaf (utility weights and quotas per surface merge). */
export function mergeOverrides(a: Overrides, b: Overrides): Overrides {
  const merged: Overrides = { ...a };
  for (const [key, value] of Object.entries(b) as [keyof Overrides, unknown][]) {
    if (value === undefined) continue;
    if (key === 'utilityWeights') merged.utilityWeights = { ...a.utilityWeights, ...b.utilityWeights };
    else if (key === 'retrievalQuotas')
      merged.retrievalQuotas = { ...a.retrievalQuotas, ...b.retrievalQuotas };
    else (merged as Record<string, unknown>)[key] = value;
  }
  return merged;
}

/** The compact label for traces and served records: `layer:experiment/arm` joined by commas. */
export function formatAssignmentLabel(
  arms: readonly Pick<ArmAssignment, 'layer' | 'experiment' | 'arm'>[],
): string {
  return arms.map((a) => `${a.layer}:${a.experiment}/${a.arm}`).join(',');
}

/** Reads a label back (analysis from served records); `holdout` and `` give no arms. */
export function parseAssignmentLabel(label: string): {
  holdout: boolean;
  arms: { layer: string; experiment: string; arm: string }[];
} {
  if (label === 'holdout') return { holdout: true, arms: [] };
  if (label === '') return { holdout: false, arms: [] };
  const arms = label.split(',').map((part) => {
    const match = /^([^:/,]+):([^:/,]+)\/([^:/,]+)$/.exec(part);
    if (!match) throw new RangeError(`"${part}" is not layer:experiment/arm`);
    return { layer: match[1], experiment: match[2], arm: match[3] };
  });
  return { holdout: false, arms };
}

/** The parameters an assignment's overrides set (for a trace: what this request ran with). */
export function assignedParameters(assignment: Assignment): string[] {
  return overriddenParameters(assignment.overrides);
}
