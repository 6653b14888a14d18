/** Runs test/helpers/run-handler.ts in a child node process and returns what it printed. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { SQSBatchResponse } from 'aws-lambda';
import { REPO_ROOT } from './fauxqs.ts';

export interface ChildRun {
  response: SQSBatchResponse | undefined;
  error: string | undefined;
  /** Peak resident set size of the child, MiB. */
  maxRssMiB: number;
}

export function runHandlerProcess(
  job: { source: 'sysmon' | 'falcon'; env: Record<string, string>; event: unknown },
  nodeFlags: readonly string[] = [],
): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...nodeFlags, '--import', 'tsx', join(REPO_ROOT, 'test/helpers/run-handler.ts')],
      { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as ChildRun);
      } catch {
        reject(new Error(`handler process exited ${code}: ${err.slice(-2000)}`));
      }
    });
    child.stdin.end(JSON.stringify(job));
  });
}
