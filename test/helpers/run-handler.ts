/**
 * A handler in a process of its own (a second Lambda execution environment, or one started with
 * a function's heap flags): reads `{ source, env, event, remainingMs? }` as JSON from standard
 * input, builds the real handler from that environment, invokes it once and prints
 * `{ response, error?, maxRssMiB }` as one JSON line.
 */
import { localContext } from '../../lib/cli/local-stack.ts';
import { createS3BatchHandler } from '../../lib/pipeline/index.ts';

interface Job {
  source: 'sysmon' | 'falcon';
  env: Record<string, string>;
  event: unknown;
}

const chunks: Buffer[] = [];
for await (const c of process.stdin) chunks.push(c as Buffer);
const job = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Job;
Object.assign(process.env, job.env);
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const handler = createS3BatchHandler({
  source: job.source,
  env: job.env,
  logger: quiet,
  metrics: { addMetric() {}, publishStoredMetrics() {} },
});
let response: unknown;
let error: string | undefined;
try {
  response = await handler(job.event, localContext(`t1102-${job.source}`));
} catch (err) {
  error = String(err);
}
const maxRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
process.stdout.write(`${JSON.stringify({ response, error, maxRssMiB })}\n`);
