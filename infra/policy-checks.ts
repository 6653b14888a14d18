import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import {
  type App,
  type IPolicyValidationContext,
  type IPolicyValidationPlugin,
  type PolicyValidationPluginReport,
  Validations,
} from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { MIN_COMPLIANT_LOG_RETENTION_DAYS } from './config.ts';
import { acknowledge } from './nag.ts';

/** The plugin name cfn-guard findings carry; an acknowledgement is `<plugin>::<rule name>`. */
const GUARD = 'cdk-validator-cfnguard';

/** The id to acknowledge one Control Tower rule (cfn-guard rule name) with. */
export const guardRule = (rule: string): string => `${GUARD}::${rule}`;

/**
 * Registers the Control Tower proactive controls (CloudFormation Guard rules bundled with
 * @cdklabs/cdk-validator-cfnguard, run by the cfn-guard binary the package ships, no download)
 * as a policy validation plugin: `cdk synth` fails on any finding not acknowledged on its
 * resource, as with cdk-nag. Every acknowledgement names the rule and a reason.
 * https://docs.aws.amazon.com/controltower/latest/userguide/proactive-controls.html
 */
export function addControlTowerChecks(app: App): void {
  Validations.of(app).addPlugins(new ControlTowerChecks());
}

/**
 * CfnGuardValidator, with every violation marked an error. The plugin leaves `severity` unset,
 * and once any of its findings is acknowledged CDK re-judges the report by severity alone: an
 * unset one does not count, so the other findings would no longer fail synthesis.
 */
class ControlTowerChecks implements IPolicyValidationPlugin {
  private readonly guard = new CfnGuardValidator();
  readonly name = this.guard.name;
  readonly version = this.guard.version ?? 'unknown';
  readonly ruleIds = this.guard.ruleIds ?? [];

  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const report = this.guard.validate(context);
    return {
      ...report,
      violations: report.violations.map((v) => ({ ...v, severity: v.severity ?? 'error' })),
    };
  }
}

/** CT.LAMBDA.PR.3, on one function. */
export function acknowledgeOutsideVpc(fn: IConstruct): void {
  acknowledge(fn, {
    id: guardRule('lambda_inside_vpc_check'),
    reason:
      'The function calls only AWS APIs (S3, SQS, SNS, DynamoDB, KMS, EventBridge, Security Hub, Secrets Manager) and reaches no private resource; a VPC would add NAT or interface endpoints and cost without isolating anything.',
  });
}

/** CT.CLOUDWATCH.PR.2, when the operator asked for less than a year with `-c logRetentionDays`. */
export function acknowledgeShortLogRetention(logGroup: IConstruct, days: number): void {
  if (days >= MIN_COMPLIANT_LOG_RETENTION_DAYS) return;
  acknowledge(logGroup, {
    id: guardRule('cloudwatch_log_group_retention_period_check'),
    reason: `The operator chose ${days} days with -c logRetentionDays; the default (365) meets the rule.`,
  });
}
