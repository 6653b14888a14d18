/**
 * `npm start`: the whole pipeline on this machine, no AWS account needed. Starts the emulator
 * (fauxqs: S3, SNS and SQS on loopback), uploads the sample batches from events/samples/ under
 * sysmon/ and falcon/, queues the S3 notifications and hands them to the real Lambda handlers the
 * way Lambda's SQS event source does, then reads the queue subscribed to the alert topic and
 * prints the alerts.
 *
 * `npm start -- --watch DIR`: keeps running; every file dropped into DIR/sysmon/ or DIR/falcon/
 * is uploaded and processed the same way, and its alerts printed.
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
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { formatTable, sortGroups } from '../alert/index.ts';
import {
  groupOfFinding,
  type Handler,
  handlerEnv,
  type LocalStack,
  notifyObjectCreated,
  pollNotifications,
  type ReceivedAlert,
  receiveAlerts,
  startLocalStack,
} from './local-stack.ts';
import { parseOrExplain, UsageError } from './usage.ts';

// The AWS SDK warns once per process that its 2027 releases will need Node 22. This project
// supports Node 20 until then (the Lambda runtime is Node 22), and the banner would bury the
// alerts a new user is looking for; every other warning still shows.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const text = typeof warning === 'string' ? warning : warning.message;
  if (text.startsWith('NodeVersionSupportWarning')) return;
  (emitWarning as (w: string | Error, ...r: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

export const SOURCES = ['sysmon', 'falcon'] as const;
export type Source = (typeof SOURCES)[number];

export const DEFAULT_SAMPLES_DIR = fileURLToPath(new URL('../../events/samples/', import.meta.url));
/** A dropped file is processed once its size and modification time hold still this long. */
export const SETTLE_MS = 300;
/** Names editors and downloaders use while a file is still being written. */
const PARTIAL_FILE = /(^\.|~$|\.(tmp|part|partial|swp|crdownload)$)/i;

const USAGE = `usage: npm start [-- [--watch DIR] [--samples DIR] [--port N] [--stateless]]
  (no option)     process the samples in events/samples/{sysmon,falcon}/ and print their alerts
  --watch DIR     keep running; process every file dropped into DIR/sysmon/ or DIR/falcon/
  --samples DIR   read the samples from DIR/{sysmon,falcon}/ instead
  --port N        serve the local AWS endpoint on this port (default: any free port)
  --stateless     no DynamoDB state (dynalite): every object's groups alert on their own`;

/** What happened to one file: where it went and the alerts it raised. */
export interface FileResult {
  file: string;
  source: Source;
  key: string;
  alerts: ReceivedAlert[];
  /** The handler reported the object as failed (Lambda would retry it). */
  failed: boolean;
}

export interface PipelineOptions {
  port?: number;
  /** Run with cross-object state in dynalite, as the deployed stack does (STATE_TABLE). */
  state?: boolean;
  /** Where the text goes (default: standard output). */
  out?: NodeJS.WritableStream;
  /** Handlers to call instead of functions/*.ts (which read process.env once, at import). */
  handlers?: Record<Source, Handler>;
}

interface LocalPipeline {
  stack: LocalStack;
  upload(path: string, source: Source, name: string): Promise<string>;
  /** Runs the queued notifications of a source through its handler; returns failed message ids. */
  drain(source: Source): Promise<string[]>;
  processFile(path: string, source: Source, name: string): Promise<FileResult>;
}

/**
 * Points the real handlers at the stack: their configuration comes from the environment, read
 * once when functions/*.ts is imported, exactly as on Lambda. Logs at WARN and no EMF output
 * unless the user asked for them, so the alerts stay readable.
 */
async function loadHandlers(stack: LocalStack): Promise<Record<Source, Handler>> {
  Object.assign(process.env, handlerEnv(stack));
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const [sysmon, falcon] = await Promise.all([
    import('../../functions/sysmon.ts'),
    import('../../functions/falcon.ts'),
  ]);
  return { sysmon: sysmon.handler as Handler, falcon: falcon.handler as Handler };
}

async function openPipeline(options: PipelineOptions): Promise<LocalPipeline> {
  const stack = await startLocalStack({
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.state ? { state: true } : {}),
  });
  let handlers: Record<Source, Handler>;
  try {
    handlers = options.handlers ?? (await loadHandlers(stack));
  } catch (err) {
    await stack.stop();
    throw err;
  }
  const upload = async (path: string, source: Source, name: string) => {
    const key = `${source}/${name}`;
    const { size } = await stat(path);
    // Streamed from disk: a multi-gigabyte export is never held in memory.
    const put = await stack.s3.send(
      new PutObjectCommand({
        Bucket: stack.bucket,
        Key: key,
        Body: createReadStream(path),
        ContentLength: size,
      }),
    );
    await notifyObjectCreated(stack, source, { key, size, etag: put.ETag ?? '' });
    return key;
  };
  const drain = async (source: Source) => {
    const queue = await stack.notificationQueue(source);
    const polled = await pollNotifications(stack.sqs, queue, handlers[source], `t1102-${source}`);
    return polled.failed;
  };
  return {
    stack,
    upload,
    drain,
    processFile: async (path, source, name) => {
      const key = await upload(path, source, name);
      const failed = await drain(source);
      // fauxqs delivers to subscribed queues while it answers PublishBatch: the alerts are there.
      const alerts = await receiveAlerts(stack);
      return { file: path, source, key, alerts, failed: failed.length > 0 };
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
    `  bucket        s3://${stack.bucket}/`,
    `  alert topic   ${stack.topicArn}`,
    `  subscription  ${stack.alertQueueUrl}`,
    ...(stack.state
      ? [`  state table   ${stack.state.table} (DynamoDB, dynalite at ${stack.state.endpoint})`]
      : []),
    `  e.g. ${cli} s3 ls s3://${stack.bucket}/ --recursive`,
    '',
  ].join('\n');
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
  const pipeline = await openPipeline(options);
  try {
    out.write(endpointHelp(pipeline.stack));
    let uploaded = 0;
    const failed: string[] = [];
    for (const source of SOURCES) {
      const dir = join(samplesDir, source);
      const names = listFiles(dir);
      for (const name of names) {
        const key = await pipeline.upload(join(dir, name), source, name);
        out.write(`uploaded s3://${pipeline.stack.bucket}/${key}\n`);
        uploaded++;
      }
      if (names.length > 0) failed.push(...(await pipeline.drain(source)));
    }
    if (uploaded === 0) {
      out.write(`No samples found in ${join(samplesDir, '{sysmon,falcon}')}/.\n`);
      return 0;
    }
    const alerts = await receiveAlerts(pipeline.stack);
    out.write(
      `\n${alerts.length} alert(s) received on the subscription to ${pipeline.stack.topicArn}:\n\n`,
    );
    out.write(alertTable(alerts));
    if (failed.length > 0) {
      out.write(`\n${failed.length} notification(s) failed; the log lines above say why.\n`);
      return 1;
    }
    return 0;
  } finally {
    await pipeline.stack.stop();
  }
}

export interface WatchOptions extends PipelineOptions {
  dir: string;
  settleMs?: number;
  /** Called after each file was processed and its alerts read. */
  onResult?: (result: FileResult) => void;
}

export interface Watcher {
  stack: LocalStack;
  /** Resolves when every file seen so far has been processed. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Watches `dir/sysmon/` and `dir/falcon/` (created if missing). Files already there and every file
 * dropped later are processed one at a time, once each version of them holds still.
 */
export async function startWatch(options: WatchOptions): Promise<Watcher> {
  const out = options.out ?? process.stdout;
  const settleMs = options.settleMs ?? SETTLE_MS;
  const pipeline = await openPipeline(options);
  const done = new Map<string, string>();
  const timers = new Map<string, NodeJS.Timeout>();
  const watchers: FSWatcher[] = [];
  let chain = Promise.resolve();
  let stopped = false;

  const signature = (s: Stats) => `${s.size}:${s.mtimeMs}`;
  const processOne = async (source: Source, name: string, path: string) => {
    try {
      const result = await pipeline.processFile(path, source, name);
      out.write(
        `\n${result.key}: ${result.alerts.length} alert(s)${result.failed ? ' — FAILED, see the log above' : ''}\n`,
      );
      if (result.alerts.length > 0) out.write(alertTable(result.alerts));
      options.onResult?.(result);
    } catch (err) {
      out.write(`\n${source}/${name}: ${(err as Error).message}\n`);
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
    done.set(path, sig);
    chain = chain.then(() => processOne(source, name, path));
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
      await pipeline.stack.stop();
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
  if (!args) return 2;
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
