/**
 * dynalite (a DynamoDB API server) in-process on a random loopback port, a table shaped like the
 * stack's (pk/sk strings), and the few reads the tests use to look at stored state.
 */

import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import type { AlertGroup, GroupKey } from '../../lib/alert/index.ts';
import { createStateTable } from '../../lib/cli/local-stack.ts';
import type { DynamoSend } from '../../lib/state/index.ts';
import { alertPk, windowSkPrefix } from '../../lib/state/keys.ts';

export interface Dynalite {
  client: DynamoDBClient;
  /** `http://127.0.0.1:<port>`. */
  endpoint: string;
  /** Creates a fresh table (pk S hash, sk S range) and returns its name. */
  newTable(): Promise<string>;
  stop(): Promise<void>;
}

/** Seconds to wait for CREATING → ACTIVE (dynalite is told to take 0 ms). */
const _TABLE_WAIT_SECONDS = 10;

export async function startDynalite(): Promise<Dynalite> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    // dynalite accepts any credentials; the SDK still signs with some.
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  return {
    client,
    endpoint: `http://127.0.0.1:${port}`,
    async newTable() {
      const tableName = `state-${randomUUID()}`;
      await createStateTable(client, tableName);
      return tableName;
    },
    async stop() {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A window's stored totals, read straight from the table (layout documented in lib/state/keys.ts). */
export async function storedWindow(
  client: DynamoSend,
  tableName: string,
  ruleId: string,
  key: GroupKey,
  windowStart: number,
): Promise<{ count: number; firstSeen: number; lastSeen: number; items: number }> {
  const res = await client.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: {
        ':pk': { S: alertPk(ruleId, key) },
        ':prefix': { S: windowSkPrefix(new Date(windowStart).toISOString()) },
      },
      ConsistentRead: true,
    }),
  );
  const items = res.Items ?? [];
  return {
    count: items.reduce((n, i) => n + Number(i.count?.N ?? 0), 0),
    firstSeen: Math.min(...items.map((i) => Number(i.firstSeen?.N))),
    lastSeen: Math.max(...items.map((i) => Number(i.lastSeen?.N))),
    items: items.length,
  };
}

/** One day, in ms. */
export const DAY_MS = 86_400_000;

export const KEY_A: GroupKey = {
  host: 'WKS-7',
  user: 'CORP\\jdoe',
  process: 'powershell.exe',
  domain: 'pastebin.com',
};
export const KEY_B: GroupKey = {
  ...KEY_A,
  process: 'certutil.exe',
  domain: 'raw.githubusercontent.com',
};

/** A group as the engine emits it with `windowMs` = one day. */
export function group(
  key: GroupKey,
  count: number,
  firstSeen: number,
  lastSeen = firstSeen,
  windowMs = DAY_MS,
): AlertGroup {
  return {
    key,
    tier: 'high',
    windowStart: Math.floor(firstSeen / windowMs) * windowMs,
    count,
    firstSeen,
    lastSeen,
    evidence: {
      commandLines: [],
      parents: [],
      processPaths: [],
      dstIps: [],
      dstPorts: [],
      kinds: ['dns'],
      sources: ['sysmon'],
      provenance: [],
    },
  };
}
