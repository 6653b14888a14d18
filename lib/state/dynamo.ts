import {
  type AttributeValue,
  BatchWriteItemCommand,
  type DynamoDBClient,
  QueryCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { mapLimit } from './concurrency.ts';
import { StateRetryExhaustedError, StateStoreError } from './errors.ts';
import {
  BACKOFF_BASE_MS,
  BACKOFF_MAX_MS,
  BATCH_WRITE_MAX_ITEMS,
  MAX_BATCH_ATTEMPTS,
  MAX_PARALLEL_BATCH_REQUESTS,
} from './limits.ts';

/** The one method the module uses: inject the real client, or a wrapper in fault-injection tests. */
export type DynamoSend = Pick<DynamoDBClient, 'send'>;

export type Item = Record<string, AttributeValue>;

export const str = (v: string): AttributeValue => ({ S: v });
export const num = (v: number): AttributeValue => ({ N: String(v) });

export function getStr(item: Item, name: string): string | undefined {
  const v = item[name];
  return v && 'S' in v ? v.S : undefined;
}

export function getNum(item: Item, name: string): number | undefined {
  const v = item[name];
  return v && 'N' in v && v.N !== undefined ? Number(v.N) : undefined;
}

export function getStrList(item: Item, name: string): string[] | undefined {
  const v = item[name];
  if (!v) return undefined;
  if ('SS' in v && v.SS) return v.SS;
  if ('L' in v && v.L) return v.L.flatMap((x) => (x.S === undefined ? [] : [x.S]));
  return undefined;
}

export const isConditionFailure = (err: unknown): boolean =>
  err instanceof Error && err.name === 'ConditionalCheckFailedException';

/**
 * The client, with every failure but a lost condition (which the policy expects and handles)
 * turned into StateStoreError naming the table and the operation: a missing table or a denied
 * permission then reads as the state table's fault, not as the object's.
 */
/**
 * The DynamoDB operation a command calls. From its schema (`[9, namespace, name, …]`), since a
 * minified bundle renames the command classes.
 */
function operationOf(command: object): string {
  const schema = (command as { schema?: unknown }).schema;
  const name = Array.isArray(schema) ? schema[2] : undefined;
  return typeof name === 'string' ? name : 'request';
}

export function namingTable(client: DynamoSend, tableName: string): DynamoSend {
  const send = async (command: Parameters<DynamoSend['send']>[0], options?: object) => {
    try {
      return await client.send(command, options);
    } catch (err) {
      if (isConditionFailure(err)) throw err;
      throw new StateStoreError(tableName, operationOf(command), err);
    }
  };
  return { send } as DynamoSend;
}

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Full-jitter exponential backoff (AWS Architecture Blog, "Exponential Backoff and Jitter"):
 * spreads retries of functions that collided, so they do not collide again in lockstep.
 */
export function backoffMs(attempt: number): number {
  return Math.random() * Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt);
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Writes `requests` with BatchWriteItem, BATCH_WRITE_MAX_ITEMS per call and a few calls at once,
 * sending back what DynamoDB left unprocessed (throttling) with backoff, at most
 * MAX_BATCH_ATTEMPTS times; then throws StateRetryExhaustedError.
 */
export async function batchWriteAll(
  client: DynamoSend,
  tableName: string,
  requests: WriteRequest[],
): Promise<void> {
  await mapLimit(
    chunk(requests, BATCH_WRITE_MAX_ITEMS),
    MAX_PARALLEL_BATCH_REQUESTS,
    async (part) => {
      let pending: WriteRequest[] = part;
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= MAX_BATCH_ATTEMPTS) {
          throw new StateRetryExhaustedError(
            `BatchWriteItem on ${tableName} left ${pending.length} items unprocessed after ${MAX_BATCH_ATTEMPTS} attempts`,
          );
        }
        if (attempt > 0) await sleep(backoffMs(attempt));
        const res = await client.send(
          new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }),
        );
        pending = res.UnprocessedItems?.[tableName] ?? [];
      }
    },
  );
}

/** Every item of partition `pk`, strongly consistent, page by page. */
export async function queryPartition(
  client: DynamoSend,
  tableName: string,
  pk: string,
): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const res = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ExpressionAttributeValues: { ':pk': str(pk) },
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    items.push(...(res.Items ?? []));
    start = res.LastEvaluatedKey;
  } while (start);
  return items;
}
