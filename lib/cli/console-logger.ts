/**
 * The functions' logger for `npm start`: instead of Powertools' JSON lines, it keeps what went
 * wrong with each object (damage, failure) for the one line `npm start` prints about it, and
 * prints anything else that is wrong as one readable line. Routine lines are dropped.
 */
import type { PipelineLogger } from '../pipeline/index.ts';

/** What the functions said went wrong with one object. */
export interface ObjectProblem {
  /** e.g. `damaged (truncated-gzip): unexpected end of file; alerts are from what came before`. */
  text: string;
  /** The object failed (the function reported it; SQS redelivers it). */
  failed: boolean;
}

export interface ConsoleLogger {
  logger: PipelineLogger;
  /** The problem logged for `s3://bucket/key` since the last call, if any, and forgets it. */
  take(bucket: string, key: string): ObjectProblem | undefined;
}

type Fields = Record<string, unknown>;

const errorText = (e: unknown): string =>
  e instanceof Error ? e.message : typeof e === 'string' ? e : JSON.stringify(e);

function problemOf(message: string, f: Fields): ObjectProblem | undefined {
  const damage = f.damage as { reason?: string; message?: string } | undefined;
  if (message === 'object failed') {
    return { text: `FAILED while ${String(f.stage)}: ${errorText(f.error)}`, failed: true };
  }
  if (damage) {
    return {
      text: `damaged (${damage.reason}): ${damage.message}; alerts are from what came before`,
      failed: false,
    };
  }
  return undefined;
}

export function createConsoleLogger(write: (line: string) => void): ConsoleLogger {
  const problems = new Map<string, ObjectProblem>();
  const log = (message: unknown, ...extra: unknown[]) => {
    const f = Object.assign({}, ...extra.filter((e) => typeof e === 'object')) as Fields;
    const problem = problemOf(String(message), f);
    if (problem && typeof f.bucket === 'string' && typeof f.key === 'string') {
      problems.set(`${f.bucket}/${f.key}`, problem);
      return;
    }
    const detail = f.error === undefined ? '' : `: ${errorText(f.error)}`;
    const where = typeof f.messageId === 'string' ? ` (message ${f.messageId})` : '';
    write(`${String(message)}${where}${detail}\n`);
  };
  const ignore = () => undefined;
  return {
    logger: { debug: ignore, info: ignore, warn: log, error: log } as PipelineLogger,
    take: (bucket, key) => {
      const id = `${bucket}/${key}`;
      const problem = problems.get(id);
      problems.delete(id);
      return problem;
    },
  };
}
