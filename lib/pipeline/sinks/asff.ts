import type { AwsSecurityFinding, SeverityLabel } from '@aws-sdk/client-securityhub';
import type { DetectionFinding } from '../../alert/index.ts';
import { truncate } from '../message.ts';

/**
 * ASFF field limits: Title 256 characters, Description 1,024, a resource Id 512, ProductFields
 * values 2,048.
 * https://docs.aws.amazon.com/securityhub/latest/userguide/asff-required-attributes.html
 */
export const MAX_ASFF_TITLE_CHARS = 256;
export const MAX_ASFF_DESCRIPTION_CHARS = 1_024;
export const MAX_ASFF_RESOURCE_ID_CHARS = 512;
export const MAX_ASFF_FIELD_CHARS = 2_048;

/** The ASFF schema version Security Hub accepts. */
export const ASFF_SCHEMA_VERSION = '2018-10-08';

/** OCSF severity_id to the ASFF label (0 unknown and 6 fatal fold into the nearest label). */
const SEVERITY_LABELS: Readonly<Record<number, SeverityLabel>> = {
  0: 'INFORMATIONAL',
  1: 'INFORMATIONAL',
  2: 'LOW',
  3: 'MEDIUM',
  4: 'HIGH',
  5: 'CRITICAL',
  6: 'CRITICAL',
};

export interface AsffContext {
  /** `arn:<partition>:securityhub:<region>:<account>:product/<account>/default`. */
  productArn: string;
  /** The account the finding belongs to (the product ARN's account). */
  accountId: string;
  /** When this import happens; UpdatedAt must grow for Security Hub to take an update. */
  now: Date;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * Maps an OCSF Detection Finding to the AWS Security Finding Format. The ASFF `Id` is the OCSF
 * `finding_info.uid`, so every update of one alert group lands on the same Security Hub finding;
 * CreatedAt is the first sighting, which does not change between updates either.
 * https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings-format-syntax.html
 */
export function toAsff(f: DetectionFinding, context: AsffContext): AwsSecurityFinding {
  const technique = f.attacks[0]?.technique;
  const domain = f.unmapped.domain;
  const ip = f.unmapped.dst_ips.find((a) => IPV4.test(a));
  const port = f.unmapped.dst_ports[0];
  const path = f.actor.process.file.path;
  const field = (s: string) => truncate(s, MAX_ASFF_FIELD_CHARS);
  return {
    SchemaVersion: ASFF_SCHEMA_VERSION,
    Id: f.finding_info.uid,
    ProductArn: context.productArn,
    GeneratorId: f.finding_info.analytic.uid,
    AwsAccountId: context.accountId,
    // The ASFF type taxonomy: namespace/category/classifier.
    // https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings-format-type-taxonomy.html
    Types: [
      `TTPs/Command and Control/${technique ? `${technique.uid} ${technique.name}` : 'T1102'}`,
    ],
    CreatedAt: iso(f.finding_info.first_seen_time),
    UpdatedAt: context.now.toISOString(),
    FirstObservedAt: iso(f.finding_info.first_seen_time),
    LastObservedAt: iso(f.finding_info.last_seen_time),
    Severity: { Label: SEVERITY_LABELS[f.severity_id] ?? 'INFORMATIONAL', Original: f.severity },
    Title: truncate(f.finding_info.title, MAX_ASFF_TITLE_CHARS),
    Description: truncate(`${f.message}. ${f.finding_info.desc}`, MAX_ASFF_DESCRIPTION_CHARS),
    ProductFields: {
      'ocsf/class_uid': String(f.class_uid),
      'ocsf/activity_name': f.activity_name,
      'ocsf/count': String(f.count),
      'ocsf/device/hostname': field(f.device.hostname),
      'ocsf/actor/user/name': field(f.actor.user.name),
      'ocsf/actor/process/name': field(f.actor.process.name),
      'ocsf/unmapped/domain': field(domain),
      'ocsf/unmapped/sources': field(f.unmapped.sources.join(',')),
    },
    Resources: [
      {
        Type: 'Other',
        Id: truncate(f.device.hostname || 'unknown-host', MAX_ASFF_RESOURCE_ID_CHARS),
      },
    ],
    Process: {
      Name: f.actor.process.name,
      ...(path === undefined ? {} : { Path: path }),
    },
    Network: {
      Direction: 'OUT',
      DestinationDomain: domain,
      ...(ip === undefined ? {} : { DestinationIpV4: ip }),
      ...(port === undefined ? {} : { DestinationPort: port }),
    },
    RecordState: 'ACTIVE',
  };
}
