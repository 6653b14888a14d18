/**
 * The table: one table for all cross-object state (single-table design).
 *
 * Key schema: partition key `pk` (S), sort key `sk` (S). TTL attribute `expiresAt` (N, epoch
 * seconds). DynamoDB deletes expired items lazily (typically within days), so readers also ignore
 * items whose `expiresAt` has passed.
 *
 * Item types:
 *
 * | item | pk | sk | attributes |
 * |---|---|---|---|
 * | alert window state | `alert#<hash(rule id, group key)>` | `window#<ISO window start>#<item no, 4 digits>` | `count` N, `firstSeen` N, `lastSeen` N (ms), `objects` SS (markers of the objects counted here), `sources` SS, `expiresAt` N; item 0000 also `ruleId`, `host`, `user`, `process`, `domain` S, `windowStart`, `windowMs` N, and once published `published` N (the count last published), `publishedAt` N (ms) |
 * | process context | `process#<Sysmon ProcessGuid or Falcon aid:pid>` | `context` | `image`, `originalFileName`, `parentImage`, `cmdLine`, `user` S (each when known), `urlHosts` L of S, `expiresAt` N |
 * | host context | `host#<Falcon aid>` | `context` | `hostname` S, `expiresAt` N |
 * | object claim | `claim#<object marker>` | `claim` | `status` S (INPROGRESS, COMPLETED), `until` N (ms, the holder's deadline), `token` S, `objectId` S, `attempts` N, `expiresAt` N |
 *
 * The group key is hashed into the partition key so that any host/user/process/domain (up to the
 * 2048-byte key limit and beyond) keys safely; item 0000 keeps the readable fields for operators.
 * A window's state normally lives in item 0000 alone; items 0001... exist only for a group seen in
 * more than MAX_OBJECTS_PER_ITEM objects in one window (see policy.ts).
 */
import { createHash } from 'node:crypto';
import { groupKeyString } from '../alert/group.ts';
import type { GroupKey } from '../alert/types.ts';
import { OBJECT_MARKER_CHARS } from './limits.ts';

export const CONTEXT_SK = 'context';
export const CLAIM_SK = 'claim';

/** The in-flight claim of one object version (see claims.ts). */
export const claimPk = (marker: string): string => `claim#${marker}`;

export const processPk = (key: string): string => `process#${key}`;
export const hostPk = (sensorId: string): string => `host#${sensorId}`;

export function alertPk(ruleId: string, key: GroupKey): string {
  const hash = createHash('sha256').update(ruleId).update('\u0000').update(groupKeyString(key));
  return `alert#${hash.digest('hex').slice(0, 32)}`;
}

/** Sort-key prefix of one window's items; ISO strings of years 0000–9999 sort like numbers. */
export const windowSkPrefix = (windowIso: string): string => `window#${windowIso}#`;

export const windowSk = (windowIso: string, itemNo: number): string =>
  `${windowSkPrefix(windowIso)}${String(itemNo).padStart(4, '0')}`;

export function itemNoOf(sk: string): number {
  return Number(sk.slice(sk.lastIndexOf('#') + 1));
}

/** What the state remembers of an object version: short, fixed size, no bucket or key in clear. */
export function objectMarker(objectId: string): string {
  return createHash('sha256').update(objectId).digest('base64url').slice(0, OBJECT_MARKER_CHARS);
}
