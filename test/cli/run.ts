import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `npm run --silent <script> -- ...args` from the project root, as a user would. */
export function npmRun(script: string, args: string[], input?: Buffer): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      'npm',
      ['run', '--silent', script, '--', ...args],
      { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (input) child.stdin?.end(input);
    else child.stdin?.end();
  });
}
