import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { Key } from 'aws-cdk-lib/aws-kms';
import { afterAll, describe, expect, it } from 'vitest';
import { DetectionFunction } from '../../infra/constructs/detection-function.ts';
import { HEAP_WRAPPER_SOURCE } from '../../lib/pipeline/heap-wrapper.ts';
import { lambdaHeapFlags } from '../bench/lambda-heap.ts';
import { type CfnResource, resourcesOfType, synthesize } from './helpers.ts';

/**
 * lib/pipeline/heap-wrapper.sh, run as Lambda runs an AWS_LAMBDA_EXEC_WRAPPER: with the node
 * binary and the runtime's arguments, the entry script last.
 */

const dir = mkdtempSync(join(tmpdir(), 'heap-wrapper-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Prints the node options and script arguments it was started with. */
const SHOW_ARGS = join(dir, 'show-args.mjs');
writeFileSync(
  SHOW_ARGS,
  'process.stdout.write(JSON.stringify({ execArgv: process.execArgv, argv: process.argv.slice(2) }));',
);

/**
 * Keeps objects alive across a few scavenges, which makes V8 grow its young generation to the
 * cap, and prints the largest new space it saw.
 */
const GROW_YOUNG = join(dir, 'grow-young.mjs');
writeFileSync(
  GROW_YOUNG,
  `import v8 from 'node:v8';
let max = 0;
const keep = [];
for (let i = 0; i < 3_000_000; i++) {
  keep.push({ i, s: 'x' + i });
  if (keep.length > 400_000) keep.splice(0, 200_000);
  if (i % 50_000 === 0) {
    const ns = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    max = Math.max(max, ns.space_size);
  }
}
process.stdout.write(JSON.stringify({ newSpaceMiB: Math.round(max / 1048576) }));`,
);

function wrapped(args: string[], env: Record<string, string> = {}) {
  return spawnSync(HEAP_WRAPPER_SOURCE, [process.execPath, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
  });
}

function argsSeen(args: string[], env: Record<string, string> = {}) {
  const run = wrapped([...args, SHOW_ARGS, 'an argument', '--flag'], env);
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return JSON.parse(run.stdout) as { execArgv: string[]; argv: string[] };
}

describe('The Lambda heap wrapper', () => {
  it("lowers the runtime's semi-space to 16 MiB and passes every other argument in order", () => {
    // Arrange: what the Node.js runtime passes at 1,024 MB, with its header-size option
    const runtime = [
      '--expose-gc',
      '--max-http-header-size',
      '81920',
      ...lambdaHeapFlags(1024).slice(1),
    ];
    // Act
    const seen = argsSeen(runtime);
    // Assess
    expect(seen.execArgv).toEqual([
      '--expose-gc',
      '--max-http-header-size',
      '81920',
      '--max-semi-space-size=16',
      '--max-old-space-size=922',
    ]);
    expect(seen.argv).toEqual(['an argument', '--flag']);
  });

  it('keeps a semi-space already at or under the cap (small functions)', () => {
    // Arrange: 128 MB gives 6 MiB; 320 MB gives exactly 16
    const small = lambdaHeapFlags(128);
    const exact = ['--max-semi-space-size=16'];
    // Act
    const seenSmall = argsSeen(small);
    const seenExact = argsSeen(exact);
    // Assess
    expect(seenSmall.execArgv).toEqual(small);
    expect(seenExact.execArgv).toEqual(exact);
  });

  it('changes nothing when the runtime passes no semi-space size', () => {
    // Act
    const seen = argsSeen(['--expose-gc']);
    // Assess
    expect(seen.execArgv).toEqual(['--expose-gc']);
  });

  it('takes its cap from NODE_MAX_SEMI_SPACE_MIB', () => {
    // Act
    const seen = argsSeen(lambdaHeapFlags(1769), { NODE_MAX_SEMI_SPACE_MIB: '32' });
    // Assess
    expect(seen.execArgv).toContain('--max-semi-space-size=32');
    expect(seen.execArgv).toContain('--max-old-space-size=1593');
  });

  it('refuses a cap that is not a whole number of MiB, saying so, and starts nothing', () => {
    // Act
    const run = wrapped(['-e', 'process.stdout.write("started")'], {
      NODE_MAX_SEMI_SPACE_MIB: '16m',
    });
    // Assess
    expect(run.status).toBe(64);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(
      "NODE_MAX_SEMI_SPACE_MIB must be a whole number of MiB, not '16m'",
    );
  });

  it("keeps V8's young generation at 32 MiB where the runtime's flags let it grow to 128", () => {
    // Arrange
    const runtime = lambdaHeapFlags(1024);
    // Act
    const direct = JSON.parse(
      execFileSync(process.execPath, [...runtime, GROW_YOUNG], { encoding: 'utf8' }),
    ) as { newSpaceMiB: number };
    const run = wrapped([...runtime, GROW_YOUNG]);
    // Assess: two 16 MiB semi-spaces, against two of 51 (rounded up to 64) without the wrapper
    expect(run.status).toBe(0);
    expect(direct.newSpaceMiB).toBe(128);
    expect((JSON.parse(run.stdout) as { newSpaceMiB: number }).newSpaceMiB).toBe(32);
  });
});

describe('A function without the heap wrapper (synthesized on Windows)', () => {
  it('names no exec wrapper and warns that it runs with the runtime default heap', () => {
    // Prepare: CDK prints the warnings of a synthesis on the console; synthesize keeps them
    let scratch: DetectionFunction | undefined;
    const synth = synthesize({
      extend: ({ stack }) => {
        scratch = new DetectionFunction(stack, 'ScratchDetector', {
          source: 'sysmon',
          memoryMiB: 1024,
          timeout: Duration.minutes(1),
          logRetentionDays: 7,
          logEncryptionKey: new Key(stack, 'ScratchKey', { enableKeyRotation: true }),
          alertTopicArn: stack.alertTopic.topicArn,
          quarantinePrefix: 'quarantine/',
          quarantineBucket: stack.bucket.bucketName,
          removalPolicy: RemovalPolicy.DESTROY,
          heapWrapper: false,
        });
      },
    });

    try {
      // Act
      const id = synth.stack.getLogicalId(scratch!.function.node.defaultChild as never);
      const fn = resourcesOfType(synth.template, 'AWS::Lambda::Function')[id] as CfnResource;
      const { Environment } = fn.Properties as {
        Environment: { Variables: Record<string, unknown> };
      };
      const variables = Environment.Variables;

      // Assess
      expect(variables.NODE_OPTIONS).toBe('--enable-source-maps');
      expect(variables).not.toHaveProperty('AWS_LAMBDA_EXEC_WRAPPER');
      synth.annotations.hasWarning(
        `/${synth.stack.stackName}/ScratchDetector/Function`,
        Match.stringLikeRegexp('exec wrapper that caps the young generation is left out'),
      );
      expect(synth.printed).toContain('exec wrapper that caps the young generation is left out');
    } finally {
      synth.dispose();
    }
  });
});
