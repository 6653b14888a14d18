export { compileRule, normalizeHostname, pathBasename } from './compile.ts';
export type { RuleProblem } from './errors.ts';
export { RuleError, RuleLoadError, RuleValidationError } from './errors.ts';
export {
  DEFAULT_RULE_PATH,
  defaultRule,
  loadDefaultRule,
  loadRule,
  MAX_RULE_FILE_BYTES,
} from './load.ts';
export {
  MAX_HOSTNAME_CHARS,
  MAX_LABEL_CHARS,
  MAX_QUOTED_VALUE_CHARS,
  parseRule,
} from './schema.ts';
export type {
  CompiledRule,
  MatchInput,
  Rule,
  RuleTestCase,
  RuleTestEvent,
  Severity,
} from './types.ts';
