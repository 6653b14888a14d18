// Placeholder: replaced by the Lambda-functions work (issue 4). Kept so the CDK app can bundle it.
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

export const handler = async (_event: SQSEvent): Promise<SQSBatchResponse> => ({
  batchItemFailures: [],
});
