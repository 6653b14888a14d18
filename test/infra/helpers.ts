import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Annotations, Template } from 'aws-cdk-lib/assertions';
import { vi } from 'vitest';
import { createApp, type PipelineApp } from '../../infra/app.ts';
import { REPO_ROOT } from '../../infra/constructs/detection-function.ts';
import type { T1102DetectionStack } from '../../infra/stack.ts';

/** The context `npx cdk synth` gets from cdk.json (feature flags), so tests synthesize the same. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

/** CDK context that skips asset bundling in every stack (the template is otherwise the same). */
const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] } as const;

export interface SynthOptions {
  /** `-c key=value` pairs, as strings, the way the CLI passes them. */
  readonly context?: Record<string, unknown>;
  /** Run esbuild for the functions; off unless a test needs the bundles (it takes seconds). */
  readonly bundle?: boolean;
  /** Change the app before synthesis (add a scratch resource, acknowledge something). */
  readonly extend?: (pipeline: PipelineApp) => void;
  /** Run the Control Tower rules too (cfn-guard adds seconds per synthesis); off unless asked. */
  readonly controlTower?: boolean;
}

export interface Synthesized {
  readonly stack: T1102DetectionStack;
  readonly template: Template;
  readonly annotations: Annotations;
  /** What CDK printed while synthesizing (warnings, the validation report). */
  readonly printed: string;
  /** The cloud assembly directory (templates, asset manifests, bundled assets). */
  readonly assemblyDir: string;
  /** Removes the assembly directory. */
  readonly dispose: () => void;
}

/** Builds the app as the CLI does and synthesizes it, cdk-nag included. Throws on findings. */
export function synthesize(options: SynthOptions = {}): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), 't1102-cdk-'));
  try {
    const pipeline = createApp(
      {
        outdir,
        context: {
          ...cdkJsonContext(),
          ...(options.bundle === true ? {} : SKIP_BUNDLING),
          ...options.context,
        },
      },
      { controlTower: options.controlTower ?? false },
    );
    options.extend?.(pipeline);
    // CDK prints a synthesis's warnings (and the validation report naming them) on the console;
    // they are kept for the tests that read them, not shown in a passing run.
    const printed: string[] = [];
    const keep = (...args: unknown[]) => {
      printed.push(args.map(String).join(' '));
    };
    const error = vi.spyOn(console, 'error').mockImplementation(keep);
    const warn = vi.spyOn(console, 'warn').mockImplementation(keep);
    let assembly: ReturnType<typeof pipeline.app.synth>;
    let template: Template;
    let annotations: Annotations;
    try {
      assembly = pipeline.app.synth();
      // Template.fromStack and Annotations.fromStack synthesize again, and print again.
      template = Template.fromStack(pipeline.stack);
      annotations = Annotations.fromStack(pipeline.stack);
    } finally {
      error.mockRestore();
      warn.mockRestore();
    }
    return {
      stack: pipeline.stack,
      template,
      annotations,
      assemblyDir: assembly.directory,
      printed: printed.join('\n'),
      dispose: () => rmSync(outdir, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(outdir, { recursive: true, force: true });
    throw error;
  }
}

/** Synthesizes expecting failure; returns the error message (the validation report). */
export function synthesisFailure(options: SynthOptions = {}): string {
  try {
    synthesize(options).dispose();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  throw new Error('expected synthesis to fail, but it succeeded');
}

// --- Reading CloudFormation JSON in tests.

export type CfnResource = {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
  DeletionPolicy?: string;
};

export type PolicyStatementJson = {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

export function resourcesOfType(template: Template, type: string): Record<string, CfnResource> {
  return template.findResources(type) as Record<string, CfnResource>;
}

export function asArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** `{ Ref: id }` or `{ Fn::GetAtt: [id, attr] }` → id; anything else → undefined. */
export function referencedLogicalId(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const ref = (value as { Ref?: unknown }).Ref;
  if (typeof ref === 'string') return ref;
  const getAtt = (value as { 'Fn::GetAtt'?: unknown })['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  return undefined;
}

/** Renders `{ Fn::Join: ['', [{ Fn::GetAtt: ['B', 'Arn'] }, '/p/*']] }` as `<B.Arn>/p/*`. */
export function renderArn(value: unknown): string {
  if (typeof value === 'string') return value;
  const id = referencedLogicalId(value);
  if (id !== undefined) {
    const getAtt = (value as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
    return getAtt === undefined ? `<${id}>` : `<${id}.${getAtt[1]}>`;
  }
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join !== undefined) return join[1].map(renderArn).join(join[0]);
  return JSON.stringify(value);
}
