import {
  type AttributeValue,
  BatchGetItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import type { ContextStore, StoredContext, StoredProcess } from '../engine/types.ts';
import { mapLimit } from './concurrency.ts';
import {
  backoffMs,
  batchWriteAll,
  chunk,
  type DynamoSend,
  getNum,
  getStr,
  getStrList,
  type Item,
  num,
  sleep,
  str,
} from './dynamo.ts';
import { StateRetryExhaustedError } from './errors.ts';
import { CONTEXT_SK, hostPk, processPk } from './keys.ts';
import {
  BATCH_GET_MAX_KEYS,
  DEFAULT_TTL_DAYS,
  MAX_BATCH_ATTEMPTS,
  MAX_CONTEXT_ITEM_BYTES,
  MAX_CONTEXT_KEY_CHARS,
  MAX_PARALLEL_BATCH_REQUESTS,
  MAX_SAVE_CACHE_ENTRIES,
  MAX_STORED_CMDLINE_CHARS,
  SECONDS_PER_DAY,
} from './limits.ts';

export interface DynamoContextStoreOptions {
  client: DynamoSend;
  tableName: string;
  /** How long a process or host name stays known after it was last seen (default 7 days). */
  ttlSeconds?: number;
  /** Clock, ms since epoch (tests). */
  now?: () => number;
}

const PROCESS_FIELDS = ['image', 'originalFileName', 'parentImage', 'cmdLine', 'user'] as const;

function processItem(key: string, p: StoredProcess, expiresAt: number): Item {
  const item: Item = { pk: str(processPk(key)), sk: str(CONTEXT_SK), expiresAt: num(expiresAt) };
  for (const field of PROCESS_FIELDS) {
    const v = p[field];
    if (v === undefined) continue;
    // The URL hosts are extracted already; the command line is only evidence from here on.
    item[field] = str(field === 'cmdLine' ? v.slice(0, MAX_STORED_CMDLINE_CHARS) : v);
  }
  if (p.urlHosts && p.urlHosts.length > 0) item.urlHosts = { L: p.urlHosts.map(str) };
  return item;
}

function parseProcess(item: Item): StoredProcess {
  const p: StoredProcess = {};
  for (const field of PROCESS_FIELDS) {
    const v = getStr(item, field);
    if (v !== undefined) p[field] = v;
  }
  const urlHosts = getStrList(item, 'urlHosts');
  if (urlHosts && urlHosts.length > 0) p.urlHosts = urlHosts;
  return p;
}

/** Approximate stored size (attribute names + string values), enough to keep far from 400 KB. */
function itemBytes(item: Item): number {
  let n = 0;
  for (const [name, v] of Object.entries(item)) {
    n += name.length;
    if (v.S !== undefined) n += Buffer.byteLength(v.S);
    else if (v.N !== undefined) n += v.N.length;
    else if (v.L) for (const x of v.L) n += Buffer.byteLength(x.S ?? '') + 1;
  }
  return n;
}

/** What this container wrote recently: skips rewriting an unchanged item whose TTL is still far. */
class SaveCache {
  private readonly written = new Map<string, { fingerprint: string; expiresAt: number }>();

  isFresh(pk: string, fingerprint: string, nowSec: number, ttlSeconds: number): boolean {
    const w = this.written.get(pk);
    // Rewrite once half the TTL has passed, so a recurring process never expires.
    return (
      w !== undefined && w.fingerprint === fingerprint && w.expiresAt - nowSec > ttlSeconds / 2
    );
  }

  remember(pk: string, fingerprint: string, expiresAt: number): void {
    this.written.delete(pk);
    this.written.set(pk, { fingerprint, expiresAt });
    if (this.written.size > MAX_SAVE_CACHE_ENTRIES) {
      this.written.delete(this.written.keys().next().value as string);
    }
  }
}

const fingerprintOf = (item: Item): string => {
  const { expiresAt: _ignored, ...rest } = item;
  return JSON.stringify(rest);
};

/**
 * Cross-object context in DynamoDB (issue: Falcon DNS events carry no process name or host;
 * Sysmon ProcessGuid context likewise): the processes that could make a later event match and
 * the aidmaster host names, each its own small item with a TTL.
 *
 * Uses BatchGetItem (strongly consistent: a batch that lands right after the one holding the
 * process record should see it) and BatchWriteItem (puts: the latest record of a process wins).
 */
export function createDynamoContextStore(options: DynamoContextStoreOptions): ContextStore {
  const { client, tableName } = options;
  const ttlSeconds = options.ttlSeconds ?? DEFAULT_TTL_DAYS * SECONDS_PER_DAY;
  const now = options.now ?? Date.now;
  const cache = new SaveCache();

  async function batchGet(keys: Item[]): Promise<Item[]> {
    const found: Item[] = [];
    await mapLimit(chunk(keys, BATCH_GET_MAX_KEYS), MAX_PARALLEL_BATCH_REQUESTS, async (part) => {
      let pending: Record<string, AttributeValue>[] = part;
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= MAX_BATCH_ATTEMPTS) {
          throw new StateRetryExhaustedError(
            `BatchGetItem on ${tableName} left ${pending.length} keys unprocessed after ${MAX_BATCH_ATTEMPTS} attempts`,
          );
        }
        if (attempt > 0) await sleep(backoffMs(attempt));
        const res = await client.send(
          new BatchGetItemCommand({
            RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } },
          }),
        );
        found.push(...(res.Responses?.[tableName] ?? []));
        pending = res.UnprocessedKeys?.[tableName]?.Keys ?? [];
      }
    });
    return found;
  }

  const batchWrite = (requests: WriteRequest[]) => batchWriteAll(client, tableName, requests);

  return {
    async lookup(request) {
      const out: StoredContext = { processes: new Map(), hosts: new Map() };
      // BatchGetItem rejects a request naming the same key twice: de-duplicate first.
      const pks = new Set<string>();
      for (const k of request.processes) {
        if (k.length <= MAX_CONTEXT_KEY_CHARS) pks.add(processPk(k));
      }
      for (const s of request.hosts) if (s.length <= MAX_CONTEXT_KEY_CHARS) pks.add(hostPk(s));
      if (pks.size === 0) return out;
      const nowSec = Math.floor(now() / 1000);
      const items = await batchGet([...pks].map((pk) => ({ pk: str(pk), sk: str(CONTEXT_SK) })));
      for (const item of items) {
        if ((getNum(item, 'expiresAt') ?? Number.POSITIVE_INFINITY) <= nowSec) continue;
        const pk = getStr(item, 'pk') ?? '';
        if (pk.startsWith('process#')) {
          out.processes.set(pk.slice('process#'.length), parseProcess(item));
        } else if (pk.startsWith('host#')) {
          const hostname = getStr(item, 'hostname');
          if (hostname !== undefined) out.hosts.set(pk.slice('host#'.length), hostname);
        }
      }
      return out;
    },

    async save(context) {
      const nowSec = Math.floor(now() / 1000);
      const expiresAt = nowSec + ttlSeconds;
      const items: Item[] = [];
      for (const [key, p] of context.processes) {
        if (key.length <= MAX_CONTEXT_KEY_CHARS) items.push(processItem(key, p, expiresAt));
      }
      for (const [sensor, hostname] of context.hosts) {
        if (sensor.length > MAX_CONTEXT_KEY_CHARS) continue;
        items.push({
          pk: str(hostPk(sensor)),
          sk: str(CONTEXT_SK),
          hostname: str(hostname),
          expiresAt: num(expiresAt),
        });
      }
      const fresh: Array<{ item: Item; pk: string; fingerprint: string }> = [];
      for (const item of items) {
        // A hostile record can make a huge image path; such a process is not worth a write.
        if (itemBytes(item) > MAX_CONTEXT_ITEM_BYTES) continue;
        const pk = getStr(item, 'pk') as string;
        const fingerprint = fingerprintOf(item);
        if (!cache.isFresh(pk, fingerprint, nowSec, ttlSeconds))
          fresh.push({ item, pk, fingerprint });
      }
      if (fresh.length === 0) return;
      await batchWrite(fresh.map(({ item }) => ({ PutRequest: { Item: item } })));
      for (const { pk, fingerprint } of fresh) cache.remember(pk, fingerprint, expiresAt);
    },
  };
}
