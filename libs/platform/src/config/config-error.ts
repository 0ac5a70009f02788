export interface ConfigIssue {
  /** The environment variable, e.g. `BUS_TIMEOUT_MS`. */
  variable: string;
  /** What is wrong with it, e.g. `expected a positive integer, got "abc"`. */
  problem: string;
}

/** Thrown by `parseConfig` when the environment does not satisfy the app's schema. */
export class ConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map((issue) => `${issue.variable}: ${issue.problem}`).join('; '));
    this.name = 'ConfigError';
  }
}
