import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  type ExperimentConfig,
  ExperimentConfigError,
  type Overrides,
  parseExperimentConfigJson,
} from '@adfunnel/experiments';
import { ConfigError } from '@adfunnel/platform';

/** The variable naming the file, in every error about it. */
export const EXPERIMENTS_VARIABLE = 'EXPERIMENTS_CONFIG';

/** A validated experiments file, as the gateway serves it. */
export interface LoadedExperiments {
  readonly path: string;
  readonly config: ExperimentConfig;
  /** sha256 of the file's bytes (hex, first 16): which version of the file is serving. */
  readonly hash: string;
  readonly loadedAt: number;
}

/**
 * Overrides the gateway cannot apply yet, with why: the stage requests have no field for them
 * (CandidatesRequest takes no quotas, ScoreRequest no model version). Refused at validation rather
 * than silently ignored, since an arm that changes nothing would measure nothing.
 */
const UNSUPPORTED: Partial<Record<keyof Overrides, string>> = {
  retrievalQuotas: 'is not supported by the gateway yet: retrieval takes no quotas per request',
  rankingModelVersion:
    'is not supported by the gateway yet: ranking serves one model and takes no version per request',
};

/** `path: problem` for every override in the config the gateway cannot apply yet. */
export function unsupportedOverrideProblems(config: ExperimentConfig): string[] {
  const problems: string[] = [];
  const check = (where: string, overrides: Overrides) => {
    for (const [key, why] of Object.entries(UNSUPPORTED) as [keyof Overrides, string][]) {
      if (overrides[key] !== undefined) problems.push(`${where}.overrides.${key}: ${why}`);
    }
  };
  config.launches.forEach((launch, i) => check(`launches[${i}]`, launch.overrides));
  config.layers.forEach((layer, l) =>
    layer.experiments.forEach((experiment, e) =>
      experiment.arms.forEach((arm, a) => check(`layers[${l}].experiments[${e}].arms[${a}]`, arm.overrides)),
    ),
  );
  return problems;
}

/**
 * Reads and validates the experiments file: the library's checks, then the gateway's (overrides it
 * cannot apply). Throws a ConfigError naming EXPERIMENTS_CONFIG, the file and every problem's path.
 */
export function loadExperimentsFile(path: string, now: number = Date.now()): LoadedExperiments {
  const file = resolve(path);
  const fail = (problems: readonly string[]): never => {
    throw new ConfigError(
      problems.map((problem) => ({ variable: EXPERIMENTS_VARIABLE, problem: `${file}: ${problem}` })),
    );
  };
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    return fail([`cannot be read (${(err as Error).message})`]);
  }
  let config: ExperimentConfig;
  try {
    config = parseExperimentConfigJson(bytes.toString('utf8'));
  } catch (err) {
    if (err instanceof ExperimentConfigError) return fail(err.problems);
    throw err;
  }
  const unsupported = unsupportedOverrideProblems(config);
  if (unsupported.length > 0) fail(unsupported);
  return {
    path: file,
    config,
    hash: createHash('sha256').update(bytes).digest('hex').slice(0, 16),
    loadedAt: now,
  };
}
