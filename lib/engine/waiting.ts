import type { ResolvedMatch } from '../alert/group.ts';
import type { NormalizedEvent } from '../event/types.ts';
import { type CompiledExceptions, NO_EXCEPTIONS } from '../rule/exceptions.ts';
import type { CompiledRule } from '../rule/types.ts';
import { EXCEPTED, resolveMatch } from './resolve.ts';
import type { StoredProcess } from './types.ts';

/**
 * A candidate the object could not resolve because its process context is in no object read so
 * far (a Falcon DNS request whose ProcessRollup2 comes in a later file), as plain data: it can be
 * stored, and evaluated once the context arrives (`resolveWaiting`).
 */
export interface WaitingCandidate {
  /** The process key (Sysmon ProcessGuid, Falcon `aid:pid`) whose context would resolve it. */
  processKey: string;
  /** The listed name it queried or connected to. */
  hostname: string;
  /** The host name, when its own object knew it; else found by `event.device.uid` later. */
  host?: string;
  event: NormalizedEvent;
}

/** A waiting candidate, copied flat (the reader's strings may be slices of a whole chunk). */
export function waitingCandidate(
  e: NormalizedEvent,
  processKey: string,
  hostname: string,
  host: string | undefined,
): WaitingCandidate {
  const event = JSON.parse(JSON.stringify(e)) as NormalizedEvent;
  return { processKey, hostname, ...(host === undefined ? {} : { host }), event };
}

/**
 * Evaluates a waiting candidate with the process context that arrived (and the host name of its
 * sensor, when found), as the object's own resolution would have: the match to group, or
 * undefined when the process cannot make it match (a browser, say) or an exception covers it.
 */
export function resolveWaiting(
  rule: CompiledRule,
  c: WaitingCandidate,
  process: StoredProcess,
  hostName?: string,
  exceptions: CompiledExceptions = NO_EXCEPTIONS,
): ResolvedMatch | undefined {
  const e = c.event;
  const own = e.actor.process;
  // The path the rule reads, as in the analyzer: the event's own, else the process record's.
  const image = own.file?.path ?? process.image ?? own.file?.name;
  if (image === undefined) return undefined;
  const m = resolveMatch(rule, exceptions, e, {
    hostname: c.hostname,
    image,
    originalFileName: process.originalFileName,
    parentImage: own.parent_process?.file?.path ?? process.parentImage,
    cmdLine: own.cmd_line ?? process.cmdLine,
    host: c.host ?? e.device.hostname ?? hostName,
    user: e.actor.user.name ?? process.user,
  });
  return m === EXCEPTED ? undefined : m;
}
