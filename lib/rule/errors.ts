/** One thing wrong with a rule file, located by its field path (`lists.domains[3]`). */
export interface RuleProblem {
  path: string;
  message: string;
}

/** Base class of every error the rule module raises. */
export class RuleError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RuleError';
  }
}

/** The rule file cannot be read or is not JSON; `source` is the path or name it came from. */
export class RuleLoadError extends RuleError {
  readonly source: string;
  constructor(source: string, message: string, options?: ErrorOptions) {
    super(`${source}: ${message}`, options);
    this.name = 'RuleLoadError';
    this.source = source;
  }
}

/**
 * The rule is JSON but not a valid rule. Every problem is reported at once (each on its own
 * line of the message, `path: what is wrong`), so a rule author fixes the file in one pass.
 */
export class RuleValidationError extends RuleError {
  readonly source: string;
  readonly problems: readonly RuleProblem[];
  constructor(source: string, problems: readonly RuleProblem[], options?: ErrorOptions) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    const lines = problems.map((problem) => `  ${problem.path}: ${problem.message}`);
    super(`invalid rule ${source} (${count}):\n${lines.join('\n')}`, options);
    this.name = 'RuleValidationError';
    this.source = source;
    this.problems = problems;
  }
}

/**
 * A deployment's exceptions file is unreadable or invalid. Like a rule, it is refused whole,
 * with every problem listed (`exceptions[2].domain: ...`).
 */
export class ExceptionsError extends RuleError {
  readonly source: string;
  readonly problems: readonly RuleProblem[];
  private constructor(
    source: string,
    message: string,
    problems: readonly RuleProblem[],
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ExceptionsError';
    this.source = source;
    this.problems = problems;
  }

  static unreadable(source: string, what: string, options?: ErrorOptions): ExceptionsError {
    return new ExceptionsError(source, `exceptions file ${source} ${what}`, [], options);
  }

  static invalid(source: string, problems: readonly RuleProblem[]): ExceptionsError {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    const lines = problems.map((problem) => `  ${problem.path}: ${problem.message}`);
    return new ExceptionsError(
      source,
      `invalid exceptions file ${source} (${count}):\n${lines.join('\n')}`,
      problems,
    );
  }
}
