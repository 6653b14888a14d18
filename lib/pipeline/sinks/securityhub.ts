import {
  type AwsSecurityFinding,
  BatchImportFindingsCommand,
  type BatchImportFindingsCommandOutput,
} from '@aws-sdk/client-securityhub';
import type { AlertMessage } from '../message.ts';
import type { PublishResult } from '../publish.ts';
import { toAsff } from './asff.ts';
import {
  type BatchAnswer,
  packEntries,
  positionOf,
  type SinkEntry,
  type SinkRetryOptions,
  sendWithRetries,
} from './retry.ts';

/**
 * BatchImportFindings: at most 100 findings per request, each at most 240 KB; a request is kept
 * under 6 MB as well.
 * https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchImportFindings.html
 */
export const MAX_IMPORT_FINDINGS = 100;
export const MAX_IMPORT_FINDING_BYTES = 240 * 1024;
export const MAX_IMPORT_REQUEST_BYTES = 6 * 1024 * 1024;

/** Error codes of FailedFindings that may pass on a retry. */
const RETRYABLE_CODES = new Set(['ThrottlingException', 'InternalException', 'InternalFailure']);

/** The one Security Hub call the sink makes. */
export interface SecurityHubSend {
  send(command: BatchImportFindingsCommand): Promise<BatchImportFindingsCommandOutput>;
}

export interface SecurityHubSinkOptions extends SinkRetryOptions {
  now?: () => Date;
}

interface Prepared {
  finding: AwsSecurityFinding;
  bytes: number;
}

/**
 * Imports each alert into Security Hub as an ASFF finding (asff.ts), under the account's own
 * `default` product. A finding Security Hub rejects, one too large to import, or one still failing
 * after the retries is a publish failure, as with SNS: the object fails and SQS retries it.
 */
export class SecurityHubSink {
  readonly name = 'securityhub';
  private readonly accountId: string;

  constructor(
    private readonly client: SecurityHubSend,
    private readonly productArn: string,
    private readonly options: SecurityHubSinkOptions = {},
  ) {
    // arn:<partition>:securityhub:<region>:<account>:product/<account>/default
    this.accountId = productArn.split(':')[4] ?? '';
  }

  async publish(messages: readonly AlertMessage[]): Promise<PublishResult> {
    const now = (this.options.now ?? (() => new Date()))();
    const entries: SinkEntry<Prepared>[] = [];
    const tooLarge: PublishResult['failures'] = [];
    messages.forEach((m, i) => {
      const finding = toAsff(m.finding, {
        productArn: this.productArn,
        accountId: this.accountId,
        now,
      });
      const bytes = Buffer.byteLength(JSON.stringify(finding));
      const id = `alert-${i}`;
      if (bytes > MAX_IMPORT_FINDING_BYTES) {
        tooLarge.push({
          id,
          index: i,
          code: 'FindingTooLarge',
          message: `ASFF finding ${finding.Id} is ${bytes} bytes, over Security Hub's ${MAX_IMPORT_FINDING_BYTES}`,
          retryable: false,
        });
      } else entries.push({ id, item: { finding, bytes } });
    });
    const result = await sendWithRetries(
      entries,
      {
        plan: (pending) =>
          packEntries(pending, (e) => e.item.bytes, MAX_IMPORT_FINDINGS, MAX_IMPORT_REQUEST_BYTES),
        send: (batch) => this.send(batch),
      },
      this.options,
    );
    result.failures.push(...tooLarge);
    return result;
  }

  private async send(batch: readonly SinkEntry<Prepared>[]): Promise<BatchAnswer> {
    const out = await this.client.send(
      new BatchImportFindingsCommand({ Findings: batch.map((e) => e.item.finding) }),
    );
    // Failures name the finding's Id; two alerts of one batch never share one (one per group).
    const byFindingId = new Map(batch.map((e) => [e.item.finding.Id, e.id]));
    const rejected = (out.FailedFindings ?? []).map((f) => {
      const code = f.ErrorCode ?? 'Unknown';
      const id = byFindingId.get(f.Id) ?? f.Id ?? '?';
      return {
        id,
        index: positionOf(id),
        code,
        message: f.ErrorMessage ?? '',
        retryable: RETRYABLE_CODES.has(code),
      };
    });
    return { rejected };
  }
}
