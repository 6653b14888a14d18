import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEAP_WRAPPER_FILE } from '../../infra/constructs/detection-function.ts';
import { HEAP_WRAPPER_SOURCE } from '../../lib/pipeline/heap-wrapper.ts';
import { lambdaHeapFlags } from '../bench/lambda-heap.ts';
import { resourcesOfType, type Synthesized, synthesize } from './helpers.ts';

const SOURCES = ['sysmon', 'falcon'] as const;
type Source = (typeof SOURCES)[number];

/** Stand-ins for the references CloudFormation fills in at deploy time, by variable. */
const DEPLOY_TIME_VALUES: Readonly<Record<string, string>> = {
  ALERT_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:t1102-alerts',
  STATE_TABLE: 'T1102Detection-StateTable-EXAMPLE',
  QUARANTINE_BUCKET: 't1102detection-logbucket-example',
  DESTINATION_BUCKET: 't1102detection-logbucket-example',
};
/** The FDR poller is synthesized (and bundled) only when its feed is configured. */
const FDR_CONTEXT = {
  fdrQueueUrl: 'https://sqs.us-west-1.amazonaws.com/292230061137/cs-prod-cannon-q1',
  fdrSecretName: 't1102/crowdstrike-fdr',
};
const FDR_SERVICE = 't1102-fdr';
/** Loading a bundle and answering an empty batch do no network I/O; slower than this is a hang. */
const IMPORT_TIMEOUT_MS = 20_000;

interface Bundle {
  dir: string;
  environment: Record<string, string>;
}

let synth: Synthesized;
const bundles = new Map<Source | 'fdr', Bundle>();

beforeAll(() => {
  synth = synthesize({ bundle: true, context: FDR_CONTEXT });
  const manifest = JSON.parse(
    readFileSync(join(synth.assemblyDir, `${synth.stack.artifactId}.assets.json`), 'utf8'),
  ) as { files: Record<string, { source: { path: string } }> };
  for (const fn of Object.values(resourcesOfType(synth.template, 'AWS::Lambda::Function'))) {
    const props = fn.Properties as {
      Code: { S3Key?: string };
      Environment?: { Variables: Record<string, unknown> };
    };
    const variables = props.Environment?.Variables;
    const source =
      variables?.POWERTOOLS_SERVICE_NAME === FDR_SERVICE
        ? 'fdr'
        : (variables?.SOURCE as Source | undefined);
    if (source === undefined || variables === undefined) continue;
    const hash = props.Code.S3Key?.replace(/\.zip$/, '') ?? '';
    const asset = manifest.files[hash];
    if (asset === undefined) throw new Error(`no asset ${hash} for the ${source} function`);
    const environment = Object.fromEntries(
      Object.entries(variables).map(([k, v]) => {
        if (typeof v === 'string') return [k, v];
        const standIn = DEPLOY_TIME_VALUES[k];
        if (standIn === undefined) throw new Error(`no stand-in for the reference in ${k}`);
        return [k, standIn];
      }),
    );
    bundles.set(source, { dir: join(synth.assemblyDir, asset.source.path), environment });
  }
});

afterAll(() => {
  synth?.dispose();
});

function bundleOf(source: Source | 'fdr'): Bundle {
  const bundle = bundles.get(source);
  if (bundle === undefined) throw new Error(`no bundle for ${source}`);
  return bundle;
}

/**
 * Starts `launcher` (a node binary and its options, or a wrapper in front of them) on a script
 * that loads the bundle as Lambda does, with nothing else to resolve and the environment the
 * template gives the function, and hands its handler an empty batch.
 */
function answerEmptyBatch({ dir, environment }: Bundle, launcher: string[], invoke = true) {
  const url = pathToFileURL(join(dir, 'index.mjs')).href;
  const script = [
    `const m = await import(${JSON.stringify(url)});`,
    "const context = { awsRequestId: 'bundle-test', functionName: 'bundle-test', getRemainingTimeInMillis: () => 60000 };",
    'const kind = typeof m.handler;',
    `const response = kind === 'function' && ${invoke} ? await m.handler({ Records: [] }, context) : null;`,
    'process.stdout.write(JSON.stringify({ kind, response, execArgv: process.execArgv }));',
  ].join('\n');
  const [command = process.execPath, ...args] = launcher;
  const output = execFileSync(command, [...args, '--input-type=module', '-e', script], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '',
      AWS_REGION: 'us-east-1',
      // The test host may run Node 20, where the SDK prints its notice that it will need Node 22
      // (Lambda runs 22); vitest.config.ts turns it off for the tests, and so for their children.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      // Never AWS: a call the test did not expect is refused on loopback, and no credential
      // lookup may reach the instance metadata service.
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_ACCESS_KEY_ID: 'bundle-test',
      AWS_SECRET_ACCESS_KEY: 'bundle-test',
      AWS_EC2_METADATA_DISABLED: 'true',
      ...environment,
    },
    encoding: 'utf8',
    timeout: IMPORT_TIMEOUT_MS,
  });
  return JSON.parse(output.slice(output.indexOf('{"kind"'))) as {
    kind: string;
    response: unknown;
    execArgv: string[];
  };
}

describe('Function bundles', () => {
  it.each(SOURCES)('writes the %s bundle as ESM with its source map', (source) => {
    // Prepare
    const { dir } = bundleOf(source);

    // Act
    const files = ['index.mjs', 'index.mjs.map'].map((f) => existsSync(join(dir, f)));

    // Assess
    expect(files).toEqual([true, true]);
  });

  it.each(SOURCES)(
    'builds the %s bundle from functions/%s.ts, the file the tests import',
    (source) => {
      // Prepare
      const { dir } = bundleOf(source);

      // Act
      const map = JSON.parse(readFileSync(join(dir, 'index.mjs.map'), 'utf8')) as {
        sources: string[];
      };

      // Assess
      expect(
        map.sources.some((s) => s.replaceAll('\\', '/').endsWith(`functions/${source}.ts`)),
      ).toBe(true);
    },
  );

  it.each(SOURCES)(
    'exports a handler from the %s bundle that, under plain Node with its Lambda environment, answers an empty batch with no failures',
    (source) => {
      // Act
      const { kind, response } = answerEmptyBatch(bundleOf(source), [process.execPath]);

      // Assess: the SQS partial-batch response contract.
      expect({ kind, response }).toEqual({ kind: 'function', response: { batchItemFailures: [] } });
    },
  );

  it('bundles the FDR poller from functions/fdr.ts the same way, and its handler loads under plain Node with its Lambda environment', () => {
    // Prepare
    const bundle = bundleOf('fdr');
    const map = JSON.parse(readFileSync(join(bundle.dir, 'index.mjs.map'), 'utf8')) as {
      sources: string[];
    };

    // Act: loading builds the handler, which validates the environment (a run would call AWS).
    const { kind } = answerEmptyBatch(bundle, [process.execPath], false);

    // Assess
    expect(map.sources.some((s) => s.replaceAll('\\', '/').endsWith('functions/fdr.ts'))).toBe(
      true,
    );
    expect(kind).toBe('function');
    expect(existsSync(join(bundle.dir, HEAP_WRAPPER_FILE))).toBe(false);
  });

  it.each(SOURCES)(
    'ships the heap wrapper in the %s package, executable, where AWS_LAMBDA_EXEC_WRAPPER names it',
    (source) => {
      // Prepare
      const { dir, environment } = bundleOf(source);
      const file = join(dir, HEAP_WRAPPER_FILE);

      // Act
      const mode = statSync(file).mode;

      // Assess: executable by all (the CDK CLI zips each file with its mode), the script itself
      expect(mode & 0o777).toBe(0o755);
      expect(readFileSync(file, 'utf8')).toBe(readFileSync(HEAP_WRAPPER_SOURCE, 'utf8'));
      expect(environment.AWS_LAMBDA_EXEC_WRAPPER).toBe(`/var/task/${HEAP_WRAPPER_FILE}`);
    },
  );

  it.each(SOURCES)(
    'starts the %s handler through its packaged wrapper as the runtime would, with the young generation capped',
    (source) => {
      // Prepare: the wrapper gets the node binary and the runtime's heap flags at 1,024 MB
      const bundle = bundleOf(source);
      const wrapper = join(bundle.dir, HEAP_WRAPPER_FILE);

      // Act
      const seen = answerEmptyBatch(bundle, [wrapper, process.execPath, ...lambdaHeapFlags(1024)]);

      // Assess
      expect(seen.response).toEqual({ batchItemFailures: [] });
      expect(seen.execArgv).toContain('--max-semi-space-size=16');
      expect(seen.execArgv).not.toContain('--max-semi-space-size=51');
      expect(seen.execArgv).toContain('--max-old-space-size=922');
    },
  );
});
