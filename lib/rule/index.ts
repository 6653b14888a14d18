export {
  comparablePath,
  compileRule,
  normalizeHostname,
  pathBasename,
  processIdentity,
} from './compile.ts';
export type { RuleProblem } from './errors.ts';
export { ExceptionsError, RuleError, RuleLoadError, RuleValidationError } from './errors.ts';
export type { CompiledExceptions, ExceptionSubject, RuleException } from './exceptions.ts';
export {
  compileExceptions,
  EXCEPTION_FIELDS,
  exceptionsFromText,
  loadExceptions,
  MAX_EXCEPTIONS_FILE_BYTES,
  NO_EXCEPTIONS,
  parseExceptions,
} from './exceptions.ts';
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
  ExcludedClient,
  ListedDomain,
  MatchInput,
  ProcessInput,
  Reach,
  Rule,
  RuleTestCase,
  RuleTestEvent,
  Severity,
  Tier,
} from './types.ts';
export { TIERS } from './types.ts';
