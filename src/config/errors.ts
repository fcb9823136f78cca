// Configuration errors: every problem found, each with where it is (file and
// line, environment variable, or flag) and the option it concerns.

export interface ConfigIssue {
  /** "config.yaml:12", "JA4_CAPTURE_SNAPLEN" or "--set capture.snaplen" */
  where: string;
  /** the option, when the problem is about one */
  path?: string;
  message: string;
}

export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG';
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
  }
}

/** `config.yaml:12: correlator.window_ms must be a positive integer, got "abc"` */
export function formatIssue(issue: ConfigIssue): string {
  return `${issue.where}: ${issue.message}`;
}
