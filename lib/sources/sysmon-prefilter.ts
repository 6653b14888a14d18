import type { AnalyzerInput, ConnectionRef } from '../engine/input.ts';
import type { CompiledRule } from '../rule/types.ts';
import { nonEmpty, sysmonProcessKey } from './sysmon-events.ts';

/**
 * What the pre-filter makes of a Sysmon event from the few values it reads off the raw text,
 * whatever shape carries the event (docs/detection.md, "The normalized event" and "Joins"): drop
 * it, hand the analyzer what it needs without parsing, or ask for the whole event (`event`).
 * The values are decoded, as the parser would give them.
 */
export interface SysmonPrefilter {
  /** EventID 5: the process ended (its state may go soon). */
  end(guid: string | undefined, offset: number): void;
  /** EventID 22: whether a match or a join can come of the query. */
  dns(query: string, guid: string | undefined): 'drop' | 'event';
  /** EventID 1: whether the process can match anything (else its events are dropped on arrival). */
  process(
    image: string | undefined,
    originalFileName: string | undefined,
    parentImage: string | undefined,
    guid: string | undefined,
  ): 'drop' | 'event';
  /**
   * EventID 3: the connection, held unread: only a listed hostname or a join (DNS answer,
   * command-line URL) can make it matter, and then `resolve` reads it.
   */
  connection(
    hostname: string | undefined,
    guid: string | undefined,
    ip: string | undefined,
    at: { record: number; offset: number },
    resolve: ConnectionRef['resolve'],
  ): void;
}

export function createSysmonPrefilter(
  rule: CompiledRule,
  analyzer: AnalyzerInput,
): SysmonPrefilter {
  return {
    end(guid, offset) {
      const key = sysmonProcessKey(guid);
      if (key !== undefined) analyzer.processEnd(key, offset);
    },
    dns(query, guid) {
      const key = sysmonProcessKey(guid);
      if (rule.listedDomain(query) !== undefined) {
        // A listed name queried by a process known to be harmless (a browser) cannot match.
        return key !== undefined && analyzer.isHarmless(key) ? 'drop' : 'event';
      }
      // Unlisted names matter only to a process whose command line names a listed host.
      return analyzer.anyWantsAllAnswers && key !== undefined && analyzer.wantsAllAnswers(key)
        ? 'event'
        : 'drop';
    },
    process(image, originalFileName, parentImage, guid) {
      const key = sysmonProcessKey(guid);
      if (key === undefined) return 'drop'; // names no process: nothing to keep
      const facts = {
        image: nonEmpty(image),
        originalFileName: nonEmpty(originalFileName),
        parentImage: nonEmpty(parentImage),
      };
      if (rule.processCouldMatch(facts)) return 'event';
      analyzer.harmless(key);
      return 'drop';
    },
    connection(hostname, guid, ip, at, resolve) {
      analyzer.connection({
        key: sysmonProcessKey(guid),
        record: at.record,
        offset: at.offset,
        hostname: nonEmpty(hostname),
        ip: nonEmpty(ip)?.toLowerCase(),
        resolve,
      });
    },
  };
}
