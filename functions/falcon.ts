// Lambda entry point for CrowdStrike Falcon batches (FDR NDJSON, LogScale JSON; S3 prefix falcon/
// or the Falcon Data Replicator queue). Everything is in lib/pipeline; the handler is built once
// per cold start, which is when configuration errors surface.
import { createS3BatchHandler } from '../lib/pipeline/index.ts';

export const handler = createS3BatchHandler({ source: 'falcon' });
