/**
 * The emulators with fault-injecting proxies in front, for tests that run the real handler under
 * faults: fauxqs (S3, SNS, SQS) behind `aws`, dynalite behind `ddb`, a fresh state table per test,
 * and the handler environment pointing the functions' own clients at the proxies.
 */
import { handlerEnv } from '../../lib/cli/local-stack.ts';
import { type Dynalite, startDynalite } from '../state/helpers.ts';
import { type FaultProxy, startFaultProxy } from './fault-proxy.ts';
import { type LocalStack, startTestStack } from './fauxqs.ts';

export interface FaultStack {
  stack: LocalStack;
  db: Dynalite;
  aws: FaultProxy;
  ddb: FaultProxy;
  /** Clears the proxies' rules and returns the handler environment with a new state table. */
  reset(): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

export async function startFaultStack(): Promise<FaultStack> {
  const [stack, db] = await Promise.all([startTestStack(), startDynalite()]);
  const [aws, ddb] = await Promise.all([
    startFaultProxy(stack.endpoint),
    startFaultProxy(db.endpoint),
  ]);
  // As Lambda sets it: the SDK reads credentials from the process environment.
  Object.assign(process.env, handlerEnv(stack));
  return {
    stack,
    db,
    aws,
    ddb,
    async reset() {
      aws.clear();
      ddb.clear();
      return {
        ...handlerEnv(stack),
        AWS_ENDPOINT_URL: aws.endpoint,
        AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint,
        STATE_TABLE: await db.newTable(),
      };
    },
    async stop() {
      await Promise.all([aws.stop(), ddb.stop()]);
      await Promise.all([stack.stop(), db.stop()]);
    },
  };
}

/** One logged line: its message and its fields. */
export interface LoggedLine {
  level: 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown>;
}

/** A logger for the handler that keeps every info, warn and error line in `lines`. */
export function recordingLogger(lines: LoggedLine[]) {
  const record =
    (level: LoggedLine['level']) =>
    (message: unknown, ...rest: unknown[]) => {
      lines.push({
        level,
        message: String(message),
        fields: (rest[0] ?? {}) as Record<string, unknown>,
      });
    };
  return { debug() {}, info: record('info'), warn: record('warn'), error: record('error') };
}
