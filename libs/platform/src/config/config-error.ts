export interface ConfigIssue {
  variable: string;
  problem: string;
}

export class ConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map((issue) => `${issue.variable}: ${issue.problem}`).join('; '));
    this.name = 'ConfigError';
  }
}
