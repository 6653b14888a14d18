import { randomUUID } from 'node:crypto';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  type DynamoSend,
  getNum,
  getStr,
  isConditionFailure,
  num,
  queryPartition,
  str,
} from './dynamo.ts';
import { CLAIM_SK, claimPk, objectMarker } from './keys.ts';
import { COMPLETED_CLAIM_TTL_SECONDS } from './limits.ts';

/** What claiming an object found. */
export type ClaimState =
  /** This invocation holds the object now. */
  | {
      state: 'claimed';
      takenOver: boolean;
      /** An earlier attempt at this object claimed it too (failed, killed, or done over an hour ago). */
      retry: boolean;
      release(): Promise<void>;
      complete(): Promise<void>;
    }
  /** Another invocation holds it and its time has not run out: back off, retry later. */
  | { state: 'in-progress'; until: number }
  /** It was processed to the end within COMPLETED_CLAIM_TTL_SECONDS: nothing to do. */
  | { state: 'completed' };

/**
 * One claim per object version while it is processed (the Powertools idempotency pattern): an
 * in-progress record whose expiry is the holder's own deadline, so a concurrent delivery of the
 * same object backs off instead of publishing the same alerts, and a killed holder's claim lapses
 * when its invocation would have timed out anyway.
 */
export interface ObjectClaims {
  /** `untilMs`: when this invocation's time runs out (epoch ms). */
  claim(objectId: string, untilMs: number): Promise<ClaimState>;
}

export interface DynamoObjectClaimsOptions {
  client: DynamoSend;
  tableName: string;
  now?: () => number;
}

const IN_PROGRESS = 'INPROGRESS';
const COMPLETED = 'COMPLETED';

/**
 * Claims in the state table: `pk = claim#<marker>`, `sk = claim`, `status`, `until` (ms, the
 * holder's deadline), `token` (the holder), `attempts`, `expiresAt`. One conditional UpdateItem
 * takes a claim that is absent, expired, or in progress past its holder's deadline; losing that
 * condition, a consistent Query tells in-progress from completed.
 */
export function createDynamoObjectClaims(options: DynamoObjectClaimsOptions): ObjectClaims {
  const { client, tableName } = options;
  const now = options.now ?? Date.now;

  async function finish(pk: string, token: string, status: string, expiresAt: number) {
    try {
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { pk: str(pk), sk: str(CLAIM_SK) },
          UpdateExpression: 'SET #status = :status, #until = :until, #exp = :exp',
          ConditionExpression: '#token = :token',
          ExpressionAttributeNames: {
            '#status': 'status',
            '#until': 'until',
            '#exp': 'expiresAt',
            '#token': 'token',
          },
          ExpressionAttributeValues: {
            ':status': str(status),
            ':until': num(0),
            ':exp': num(expiresAt),
            ':token': str(token),
          },
        }),
      );
    } catch (err) {
      // Someone took the claim over after ours lapsed: the record is theirs now.
      if (!isConditionFailure(err)) throw err;
    }
  }

  return {
    async claim(objectId, untilMs) {
      const pk = claimPk(objectMarker(objectId));
      const token = randomUUID();
      const nowMs = now();
      const nowSec = Math.floor(nowMs / 1000);
      try {
        const res = await client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: { pk: str(pk), sk: str(CLAIM_SK) },
            UpdateExpression:
              'SET #status = :ip, #until = :until, #token = :token, #object = :object, #exp = :exp ADD #attempts :one',
            ConditionExpression:
              'attribute_not_exists(#pk) OR #exp <= :nowSec OR (#status = :ip AND #until < :now)',
            ExpressionAttributeNames: {
              '#pk': 'pk',
              '#status': 'status',
              '#until': 'until',
              '#token': 'token',
              '#object': 'objectId',
              '#exp': 'expiresAt',
              '#attempts': 'attempts',
            },
            ExpressionAttributeValues: {
              ':ip': str(IN_PROGRESS),
              ':until': num(untilMs),
              ':token': str(token),
              ':object': str(objectId),
              // Outlives the holder by the completed record's life; TTL removes it after.
              ':exp': num(Math.ceil(untilMs / 1000) + COMPLETED_CLAIM_TTL_SECONDS),
              ':nowSec': num(nowSec),
              ':now': num(nowMs),
              ':one': num(1),
            },
            ReturnValues: 'ALL_OLD',
          }),
        );
        const old = res.Attributes;
        // A holder that released its claim set `until` to 0; one that never did was killed.
        const takenOver =
          old !== undefined &&
          getStr(old, 'status') === IN_PROGRESS &&
          (getNum(old, 'until') ?? 0) > 0;
        return {
          state: 'claimed',
          takenOver,
          retry: old !== undefined,
          release: () => finish(pk, token, IN_PROGRESS, nowSec),
          complete: () =>
            finish(pk, token, COMPLETED, Math.floor(now() / 1000) + COMPLETED_CLAIM_TTL_SECONDS),
        };
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
      const [item] = await queryPartition(client, tableName, pk);
      if (item && getStr(item, 'status') === COMPLETED) return { state: 'completed' };
      return { state: 'in-progress', until: (item && getNum(item, 'until')) ?? nowMs };
    },
  };
}
