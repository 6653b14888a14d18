import type { ResolvedMatch } from '../alert/group.ts';
import type { NormalizedEvent } from '../event/types.ts';
import { normalizeHostname } from '../rule/compile.ts';
import type { CompiledExceptions } from '../rule/exceptions.ts';
import type { CompiledRule } from '../rule/types.ts';
import { basename } from '../text/fields.ts';

/** What the joins found for one candidate event: the fields the rule, exceptions and group read. */
export interface JoinedFacts {
  hostname: string;
  /** The path the rule reads (the event's own, else the process record's), else a bare name. */
  image: string;
  originalFileName: string | undefined;
  parentImage: string | undefined;
  cmdLine: string | undefined;
  host: string | undefined;
  user: string | undefined;
}

/** A candidate the rule matched that a deployment exception covers: counted, not grouped. */
export const EXCEPTED = 'excepted';

/**
 * The rule, then the exceptions, on one candidate whose joins are resolved: the match to group,
 * EXCEPTED, or undefined when the rule does not match. The one decision for candidates resolved
 * in their object (the analyzer) and those resolved later (waiting candidates).
 */
export function resolveMatch(
  rule: CompiledRule,
  exceptions: CompiledExceptions,
  e: NormalizedEvent,
  f: JoinedFacts,
): ResolvedMatch | typeof EXCEPTED | undefined {
  const { hostname, image, originalFileName, parentImage } = f;
  const listed = rule.match({ kind: e.kind, hostname, image, originalFileName, parentImage });
  if (listed === undefined) return undefined;
  if (exceptions.size > 0 && exceptions.excepts(f)) return EXCEPTED;
  return {
    event: e,
    key: {
      host: f.host ?? '',
      user: f.user ?? '',
      process: (e.actor.process.file?.name ?? basename(image)).toLowerCase(),
      domain: normalizeHostname(hostname),
    },
    tier: listed.tier,
    cmdLine: f.cmdLine,
    parent: parentImage === undefined ? undefined : basename(parentImage),
    processPath: image,
  };
}
