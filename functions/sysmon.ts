// Lambda entry point for Sysmon XML batches (S3 prefix sysmon/). Everything is in lib/pipeline;
// the handler is built once per cold start, which is when configuration errors surface.
import { createS3BatchHandler } from '../lib/pipeline/index.ts';

export const handler = createS3BatchHandler({ source: 'sysmon' });
