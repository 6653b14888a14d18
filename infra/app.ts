import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, type AppProps, Tags } from 'aws-cdk-lib';
import { readPipelineConfig } from './config.ts';
import { addNagChecks } from './nag.ts';
import { addControlTowerChecks } from './policy-checks.ts';
import { T1102DetectionStack } from './stack.ts';

/** Tag on every resource, for cost allocation and for finding the pipeline's resources. */
export const PROJECT_TAG = { key: 'project', value: 't1102-web-service-detection' } as const;

export interface PipelineApp {
  readonly app: App;
  readonly stack: T1102DetectionStack;
}

/**
 * Builds the app exactly as `npx cdk synth` does: context read and validated, the stack, and the
 * cdk-nag packs. Tests call this with their own context; the CLI runs this file.
 */
export interface PolicyCheckOptions {
  /**
   * The Control Tower rules (cfn-guard, seconds per synthesis); on by default and in `cdk synth`.
   * Template tests that assert other things turn them off; test/infra/policy-checks.test.ts
   * runs them.
   */
  readonly controlTower?: boolean;
}

export function createApp(props: AppProps = {}, checks: PolicyCheckOptions = {}): PipelineApp {
  const app = new App(props);
  const config = readPipelineConfig(app);
  const stack = new T1102DetectionStack(app, config.stackName, {
    config,
    description: 'T1102 Web Service detection: S3 log batches -> SQS -> Lambda -> SNS alerts',
  });
  Tags.of(stack).add(PROJECT_TAG.key, PROJECT_TAG.value);
  addNagChecks(app);
  if (checks.controlTower ?? true) addControlTowerChecks(app);
  return { app, stack };
}

const invokedDirectly =
  process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  createApp().app.synth();
}
