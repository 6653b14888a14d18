import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
// Imported statically so that esbuild inlines the rule into Lambda bundles, where the JSON file
// does not exist next to the code.
import bundledRuleJson from '../rules/t1102-web-service.json' with { type: 'json' };
import { compileRule } from './compile.ts';
import { RuleLoadError } from './errors.ts';
import { parseRule } from './schema.ts';
import type { CompiledRule, Rule } from './types.ts';

/** Largest rule file read, in bytes: the default rule is ~10 KiB; anything near this is not a rule. */
export const MAX_RULE_FILE_BYTES = 1024 * 1024;

/**
 * The default rule file on disk, resolved relative to this module (works from source with tsx
 * and vitest; inside a bundle use `defaultRule()`).
 */
export const DEFAULT_RULE_PATH = fileURLToPath(
  new URL('../rules/t1102-web-service.json', import.meta.url),
);

const BUNDLED_RULE_SOURCE = 'lib/rules/t1102-web-service.json (bundled)';
const UTF8_BOM = '\uFEFF';

/** Reads, parses and validates a rule file. Throws RuleLoadError or RuleValidationError. */
export function loadRule(path: string): Rule {
  let text: string;
  try {
    const { size } = statSync(path);
    if (size > MAX_RULE_FILE_BYTES) {
      throw new RuleLoadError(
        path,
        `is ${size} bytes, over MAX_RULE_FILE_BYTES (${MAX_RULE_FILE_BYTES})`,
      );
    }
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof RuleLoadError) throw error;
    throw new RuleLoadError(path, 'cannot be read', { cause: error });
  }
  if (text.startsWith(UTF8_BOM)) text = text.slice(UTF8_BOM.length);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new RuleLoadError(path, `is not valid JSON: ${reason}`, { cause: error });
  }
  return parseRule(json, path);
}

let defaultFromDisk: CompiledRule | undefined;
let defaultFromBundle: CompiledRule | undefined;

/** The default rule read from DEFAULT_RULE_PATH, validated and compiled on the first call only. */
export function loadDefaultRule(): CompiledRule {
  defaultFromDisk ??= compileRule(loadRule(DEFAULT_RULE_PATH));
  return defaultFromDisk;
}

/**
 * The default rule as bundled into the code (no file access), validated and compiled on the
 * first call only. Lambda handlers use this one.
 */
export function defaultRule(): CompiledRule {
  defaultFromBundle ??= compileRule(parseRule(bundledRuleJson, BUNDLED_RULE_SOURCE));
  return defaultFromBundle;
}
