/**
 * `npm start`: the whole pipeline on this machine, no AWS account needed. Starts the emulator
 * (fauxqs: S3, SNS and SQS on loopback) with the stack's resources, uploads the sample batches
 * from events/samples/ under sysmon/ and falcon/ as any S3 client would; the bucket notifies each
 * source's queue, the functions are handed those notifications as Lambda's SQS event source
 * would, and the alerts they publish are printed from npm start's own subscription.
 *
 * `npm start -- --watch DIR`: keeps running; every file dropped into DIR/sysmon/ or DIR/falcon/
 * is uploaded, and every object written under those prefixes by any client (the AWS CLI too) is
 * processed and its alerts printed.
 */
import {
  createReadStream,
  type FSWatcher,
  mkdirSync,
  readdirSync,
  type Stats,
  watch,
} from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Upload } from '@aws-sdk/lib-storage';
import { SOURCES as DETECTION_SOURCES, type DetectionSource } from '../../infra/config.ts';
import { formatTable, sortGroups } from '../alert/index.ts';
import { createS3BatchHandler, parseInvocation } from '../pipeline/index.ts';
import { type ConsoleLogger, createConsoleLogger } from './console-logger.ts';
import { type EventSourceMapping, type Invocation, startEventSources } from './event-source.ts';
import {
  groupOfFinding,
  type Handler,
  handlerEnv,
  LOCAL_BATCH_SIZE,
  type LocalStack,
  type ReceivedAlert,
  receiveAlerts,
  sqsEventFromMessages,
  startLocalStack,
} from './local-stack.ts';
import { parseOrExplain, UsageError } from './usage.ts';

// The AWS SDK warns once per process that its 2027 releases will need Node 22. This project
// supports Node 20 until then (the Lambda runtime is Node 22), and the banner would bury the
// alerts a new user is looking for. The SDK's own switch turns it off (set it to anything else
// to see it).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export const SOURCES = DETECTION_SOURCES;
export type Source = DetectionSource;

export const DEFAULT_SAMPLES_DIR = fileURLToPath(new URL('../../events/samples/', import.meta.url));
/** A dropped file is processed once its size and modification time hold still this long. */
export const SETTLE_MS = 300;
/** Names editors and downloaders use while a file is still being written. */
const PARTIAL_FILE = /(^\.|~$|\.(tmp|part|partial|swp|crdownload)$)/i;
/**
 * Bytes per part of a multipart upload. Files up to this size go in one PutObject; larger ones in
 * parts (S3's minimum part is 5 MiB; the emulator refuses request bodies over 11 MiB).
 */
export const UPLOAD_PART_BYTES = 5 * 1024 * 1024;
/** Parts uploaded at once: an upload holds at most this many parts in memory. */
export const UPLOAD_QUEUE_PARTS = 2;
/** The alert subscription `npm start` reads to print alerts; the user's own is left alone. */
export const CONSOLE_QUEUE = 't1102-alerts-npm-start';

const USAGE = `usage: npm start [-- [--watch DIR] [--samples DIR] [--port N] [--stateless]]
  (no option)     process the samples in events/samples/{sysmon,falcon}/ and print their alerts
  --watch DIR     keep running; process every file dropped into DIR/sysmon/ or DIR/falcon/
  --samples DIR   read the samples from DIR/{sysmon,falcon}/ instead
  --port N        serve the local AWS endpoint on this port (default: any free port)
  --stateless     no DynamoDB state (dynalite): every object's groups alert on their own`;

/** What happened to one object the functions were notified of: its alerts and any problem. */
export interface ObjectResult {
  source: Source;
  key: string;
  alerts: ReceivedAlert[];
  /** The function reported the object as failed (SQS redelivers it). */
  failed: boolean;
  /** One readable line on what went wrong (damage or failure), if anything did. */
  problem: string | undefined;
}

export interface PipelineOptions {
  port?: number;
  /** Run with cross-object state in dynalite, as the deployed stack does (STATE_TABLE). */
  state?: boolean;
  /** Where the text goes (default: standard output). */
  out?: NodeJS.WritableStream;
}

interface LocalPipeline {
  stack: LocalStack;
  /** Uploads a file as any S3 client would (multipart when large); S3 notifies the functions. */
  upload(path: string, source: Source, name: string): Promise<string>;
  /** Resolves once every object written so far has been through its function. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The functions as functions/*.ts builds them, configured from the environment exactly as on
 * Lambda (pointed at the stack), with no EMF output and, unless the user set
 * POWERTOOLS_LOG_LEVEL, a logger that keeps each object's problem for its one line.
 */
function buildHandlers(stack: LocalStack, problems: ConsoleLogger): Record<Source, Handler> {
  Object.assign(process.env, handlerEnv(stack));
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const logger = process.env.POWERTOOLS_LOG_LEVEL ? {} : { logger: problems.logger };
  const handler = (source: Source) => createS3BatchHandler({ source, ...logger }) as Handler;
  return { sysmon: handler('sysmon'), falcon: handler('falcon') };
}

/** The objects of an invocation with the alerts it published, each alert with its object. */
function objectResults(
  invocation: Invocation,
  alerts: readonly ReceivedAlert[],
  problems: ConsoleLogger,
  source: Source,
): ObjectResult[] {
  const parsed = parseInvocation(sqsEventFromMessages(invocation.messages, ''), {});
  const results = parsed.items.flatMap((item) =>
    item.objects.map((ref) => {
      const problem = problems.take(ref.bucket, ref.key);
      return {
        source,
        key: ref.key,
        origin: `s3://${ref.bucket}/${ref.key}`,
        alerts: [] as ReceivedAlert[],
        failed: invocation.failed.has(item.itemId ?? ''),
        problem: problem?.text,
      };
    }),
  );
  for (const alert of alerts) {
    const origins = new Set(alert.finding.unmapped.provenance.map((p) => p.origin));
    const owner = results.find((r) => origins.has(r.origin)) ?? results[0];
    owner?.alerts.push(alert);
  }
  return results.map(({ origin: _origin, ...r }) => r);
}

async function openPipeline(
  options: PipelineOptions & { onResult: (result: ObjectResult) => void },
): Promise<LocalPipeline> {
  const out = options.out ?? process.stdout;
  const stack = await startLocalStack({
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.state ? { state: true } : {}),
  });
  let mapping: EventSourceMapping;
  try {
    const problems = createConsoleLogger((line) => out.write(line));
    const handlers = buildHandlers(stack, problems);
    const inbox = await stack.subscribe(CONSOLE_QUEUE);
    mapping = startEventSources({
      sqs: stack.sqs,
      batchSize: LOCAL_BATCH_SIZE,
      sources: SOURCES.map((source) => ({
        functionName: `t1102-${source}`,
        queue: stack.notificationQueues[source],
        handler: handlers[source],
      })),
      sent: (url) => stack.notifier.sent(url),
      afterInvoke: async (invocation) => {
        // The emulator delivers to subscribed queues while it answers PublishBatch.
        const alerts = await receiveAlerts(stack, { queueUrl: inbox.url });
        const source = invocation.source.functionName.replace('t1102-', '') as Source;
        for (const r of objectResults(invocation, alerts, problems, source)) options.onResult(r);
      },
      onError: (err, source) => out.write(`${source.functionName}: ${err.message}\n`),
    });
  } catch (err) {
    await stack.stop();
    throw err;
  }
  return {
    stack,
    upload: async (path, source, name) => {
      const key = `${source}/${name}`;
      await new Upload({
        client: stack.s3,
        params: { Bucket: stack.bucket, Key: key, Body: createReadStream(path) },
        partSize: UPLOAD_PART_BYTES,
        queueSize: UPLOAD_QUEUE_PARTS,
      }).done();
      return key;
    },
    idle: async () => {
      await stack.notifier.settled();
      await mapping.idle();
    },
    stop: async () => {
      await mapping.stop();
      await stack.stop();
    },
  };
}

/** The alerts as the scan CLI prints groups: a table sorted by count, then host, user, ... */
export function alertTable(alerts: readonly ReceivedAlert[]): string {
  // With state, a finding is created once and then updated (same uid, growing count): an Update
  // replaces the row of its finding. Creates always add a row (without state, the same group in
  // two objects is two Creates with one stable uid).
  const rows: Array<ReceivedAlert['finding']> = [];
  const lastRow = new Map<string, number>();
  for (const { finding } of alerts) {
    const uid = finding.finding_info.uid;
    const at = lastRow.get(uid);
    if (finding.activity_id === 2 && at !== undefined) rows[at] = finding;
    else lastRow.set(uid, rows.push(finding) - 1);
  }
  return formatTable(sortGroups(rows.map(groupOfFinding)));
}

function endpointHelp(stack: LocalStack): string {
  const cli = `AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test aws --region ${stack.region} --endpoint-url ${stack.endpoint}`;
  return [
    `Local AWS endpoint: ${stack.endpoint} (S3, SNS, SQS; region ${stack.region}; any credentials)`,
    `  bucket        s3://${stack.bucket}/ (writes under ${SOURCES.map((s) => `${s}/`).join(' or ')} notify the functions)`,
    `  alert topic   ${stack.topicArn}`,
    // The emulator names queues by a host of its own; the endpoint's address reaches them too.
    `  subscription  ${stack.endpoint}${new URL(stack.alertQueueUrl).pathname} (yours: npm start does not read it)`,
    ...(stack.state
      ? [`  state table   ${stack.state.table} (DynamoDB, dynalite at ${stack.state.endpoint})`]
      : []),
    `  e.g. ${cli} s3 cp FILE s3://${stack.bucket}/sysmon/`,
    '',
  ].join('\n');
}

/** One line per object, then its alerts: what `--watch` prints as each object is processed. */
export function formatResult(r: ObjectResult): string {
  const status = r.problem ? ` — ${r.problem}` : r.failed ? ' — FAILED' : '';
  const line = `${r.key}: ${r.alerts.length} alert(s)${status}\n`;
  return r.alerts.length > 0 ? `${line}${alertTable(r.alerts)}` : line;
}

function listFiles(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isFile() && !PARTIAL_FILE.test(d.name))
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

/**
 * Processes every sample in `samplesDir/{sysmon,falcon}/` and prints the alerts. Returns the exit
 * code: 0, or 1 when an object failed.
 */
export async function runSamples(
  options: PipelineOptions & { samplesDir?: string } = {},
): Promise<number> {
  const out = options.out ?? process.stdout;
  const samplesDir = options.samplesDir ?? DEFAULT_SAMPLES_DIR;
  const results: ObjectResult[] = [];
  const pipeline = await openPipeline({ ...options, onResult: (r) => results.push(r) });
  try {
    out.write(endpointHelp(pipeline.stack));
    let uploaded = 0;
    for (const source of SOURCES) {
      const dir = join(samplesDir, source);
      for (const name of listFiles(dir)) {
        const key = await pipeline.upload(join(dir, name), source, name);
        out.write(`uploaded s3://${pipeline.stack.bucket}/${key}\n`);
        uploaded++;
      }
    }
    if (uploaded === 0) {
      out.write(`No samples found in ${join(samplesDir, '{sysmon,falcon}')}/.\n`);
      return 0;
    }
    await pipeline.idle();
    const alerts = results.flatMap((r) => r.alerts);
    out.write(`\n${alerts.length} alert(s) received from ${pipeline.stack.topicArn}:\n\n`);
    out.write(alertTable(alerts));
    const bad = results.filter((r) => r.failed || r.problem);
    for (const r of bad) out.write(`${r.key}: ${r.problem ?? 'FAILED'}\n`);
    return results.some((r) => r.failed) ? 1 : 0;
  } finally {
    await pipeline.stop();
  }
}

export interface WatchOptions extends PipelineOptions {
  dir: string;
  settleMs?: number;
  /** Called after each object was processed (whoever wrote it) and its alerts read. */
  onResult?: (result: ObjectResult) => void;
}

export interface Watcher {
  stack: LocalStack;
  /** Resolves when every file seen so far has been uploaded and processed. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Watches `dir/sysmon/` and `dir/falcon/` (created if missing). Files already there and every file
 * dropped later are uploaded one at a time, once each version of them holds still; the bucket
 * notifies the functions of them as of any other write, and each object's alerts are printed.
 */
export async function startWatch(options: WatchOptions): Promise<Watcher> {
  const out = options.out ?? process.stdout;
  const settleMs = options.settleMs ?? SETTLE_MS;
  const pipeline = await openPipeline({
    ...options,
    onResult: (r) => {
      out.write(`\n${formatResult(r)}`);
      options.onResult?.(r);
    },
  });
  const done = new Map<string, string>();
  const timers = new Map<string, NodeJS.Timeout>();
  const watchers: FSWatcher[] = [];
  let chain = Promise.resolve();
  let stopped = false;

  const signature = (s: Stats) => `${s.size}:${s.mtimeMs}`;
  const uploadOne = async (source: Source, name: string, path: string) => {
    try {
      await pipeline.upload(path, source, name);
    } catch (err) {
      out.write(`\n${source}/${name}: not uploaded: ${(err as Error).message}\n`);
    }
  };
  const check = async (source: Source, name: string) => {
    const path = join(options.dir, source, name);
    const before = await stat(path).catch(() => undefined);
    if (stopped || !before?.isFile()) return;
    const sig = signature(before);
    if (done.get(path) === sig) return;
    await new Promise((r) => setTimeout(r, settleMs));
    const after = await stat(path).catch(() => undefined);
    if (stopped || !after?.isFile()) return;
    if (signature(after) !== sig) {
      schedule(source, name); // still being written
      return;
    }
    // Another check of the same file may have settled while this one waited.
    if (done.get(path) === sig) return;
    done.set(path, sig);
    chain = chain.then(() => uploadOne(source, name, path));
  };
  const pending = new Set<Promise<void>>();
  const schedule = (source: Source, name: string) => {
    if (stopped || PARTIAL_FILE.test(name)) return;
    const id = `${source}/${name}`;
    clearTimeout(timers.get(id));
    timers.set(
      id,
      setTimeout(() => {
        timers.delete(id);
        const p = check(source, name).finally(() => pending.delete(p));
        pending.add(p);
      }, 0),
    );
  };

  for (const source of SOURCES) {
    const dir = join(options.dir, source);
    mkdirSync(dir, { recursive: true });
    watchers.push(
      watch(dir, (_event, filename) => {
        if (filename) schedule(source, filename.toString());
      }),
    );
    for (const name of listFiles(dir)) schedule(source, name);
  }

  const idle = async () => {
    // Settle timers and checks can queue more work: wait until nothing is left.
    while (timers.size > 0 || pending.size > 0) {
      await Promise.all([...pending]);
      if (timers.size > 0) await new Promise((r) => setTimeout(r, settleMs));
    }
    await chain;
    await pipeline.idle();
  };
  return {
    stack: pipeline.stack,
    idle,
    stop: async () => {
      stopped = true;
      for (const w of watchers) w.close();
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      await Promise.all([...pending]);
      await chain;
      await pipeline.stop();
    },
  };
}

interface Args {
  watch: string | undefined;
  samples: string | undefined;
  port: number | undefined;
  stateless: boolean;
}

function parse(argv: string[]): Args {
  const options = {
    watch: { type: 'string' },
    samples: { type: 'string' },
    port: { type: 'string' },
    stateless: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  } as const;
  let values: ReturnType<typeof parseArgs<{ options: typeof options }>>['values'];
  try {
    values = parseArgs({ args: argv, options, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) throw new UsageError('');
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!/^\d+$/.test(values.port) || port > 65_535)
      throw new UsageError(`bad --port ${values.port}`);
  }
  return { watch: values.watch, samples: values.samples, port, stateless: values.stateless };
}

async function main(argv: string[]): Promise<number> {
  const args = parseOrExplain('start', USAGE, parse, argv);
  if (typeof args === 'number') return args;
  const port = { ...(args.port === undefined ? {} : { port: args.port }), state: !args.stateless };
  if (args.watch === undefined) {
    return runSamples({
      ...port,
      ...(args.samples === undefined ? {} : { samplesDir: resolve(args.samples) }),
    });
  }
  const dir = resolve(args.watch);
  const watcher = await startWatch({ dir, ...port });
  process.stdout.write(endpointHelp(watcher.stack));
  process.stdout.write(
    `Watching ${join(dir, 'sysmon')}/ and ${join(dir, 'falcon')}/: drop Sysmon or Falcon exports there (plain or .gz). Ctrl-C stops.\n`,
  );
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await watcher.stop();
  return 0;
}

// Run only as a script (`tsx lib/cli/start.ts`), not when imported by tests.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`start: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
