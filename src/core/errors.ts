/** Base of healthmesh's few typed errors; `code` is stable for callers. */
export class HealthmeshError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** One problem found in a config file, located by YAML path and line. */
export interface ConfigIssue {
  /** Dotted path with [index] for arrays, e.g. services.api.checks[1].interval */
  path: string;
  line?: number;
  column?: number;
  message: string;
}

/** A config that failed to load; carries every issue found, not just the first. */
export class ConfigError extends HealthmeshError {
  constructor(
    readonly issues: ConfigIssue[],
    readonly file?: string,
  ) {
    super('config_invalid', formatIssues(issues, file));
  }
}

export function isConfigError(e: unknown): e is ConfigError {
  return e instanceof ConfigError;
}

/** Bad command-line or API input. */
export class UsageError extends HealthmeshError {
  constructor(message: string) {
    super('usage', message);
  }
}

export function isUsageError(e: unknown): e is UsageError {
  return e instanceof UsageError;
}

function formatIssues(issues: ConfigIssue[], file?: string): string {
  const head = `${file ?? 'config'}: ${issues.length} problem${issues.length === 1 ? '' : 's'}`;
  const lines = issues.map((i) => {
    const where = i.line ? `${file ?? 'config'}:${i.line}:${i.column ?? 1} ` : '';
    return `  ${where}${i.path || '(root)'}: ${i.message}`;
  });
  return [head, ...lines].join('\n');
}
