import type { ResolvedMatch } from '../alert/group.ts';
import type { NormalizedEvent } from '../event/types.ts';
import { normalizeHostname } from '../rule/compile.ts';
import type { CompiledRule } from '../rule/types.ts';
import { basename } from './fields.ts';
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
 * undefined when the process cannot make it match (a browser, say).
 */
export function resolveWaiting(
  rule: CompiledRule,
  c: WaitingCandidate,
  process: StoredProcess,
  hostName?: string,
): ResolvedMatch | undefined {
  const e = c.event;
  const own = e.actor.process;
  const image = own.file?.path ?? own.file?.name ?? process.image;
  const parentImage = own.parent_process?.file?.path ?? process.parentImage;
  const matched = rule.matches({
    kind: e.kind,
    hostname: c.hostname,
    image,
    originalFileName: process.originalFileName,
    parentImage,
  });
  if (!matched || image === undefined) return undefined;
  return {
    event: e,
    key: {
      host: c.host ?? e.device.hostname ?? hostName ?? '',
      user: e.actor.user.name ?? process.user ?? '',
      process: basename(image).toLowerCase(),
      domain: normalizeHostname(c.hostname),
    },
    cmdLine: own.cmd_line ?? process.cmdLine,
    parent: parentImage === undefined ? undefined : basename(parentImage),
    processPath: image,
  };
}
