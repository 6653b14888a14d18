import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/**
 * A finding that is accepted on purpose. `id` is the exact finding (`Rule` or `Rule[Finding]`,
 * as cdk-nag prints it); `reason` is one sentence a reviewer can check.
 */
export interface Acknowledgement {
  readonly id: string;
  readonly reason: string;
}

/**
 * Registers the AWS Solutions and Serverless packs as validation plugins. A cdk-nag 3 pack
 * reports failure on any finding it has not seen acknowledged on the resource or a parent,
 * warnings included, and CDK then fails synthesis: `cdk synth` exits non-zero, and `app.synth()`
 * throws the report in tests (test/infra/nag.test.ts holds both to that).
 */
export function addNagChecks(app: App): void {
  const props = {
    // The explanation tells the reader what the rule protects against, not only its name.
    verbose: true,
    // Copies every acknowledgement into the resource's template Metadata, so a reviewer reading
    // only the CloudFormation template still sees what was accepted and why.
    writeSuppressionsToCloudFormation: true,
  };
  Validations.of(app).addPlugins(
    new AwsSolutionsChecks(app, props),
    new ServerlessChecks(app, props),
  );
}

/** Accepts findings on `scope` and everything under it. */
export function acknowledge(scope: IConstruct, ...acks: Acknowledgement[]): void {
  Validations.of(scope).acknowledge(...acks);
}
