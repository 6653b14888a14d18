export type { AwsSecurityFinding } from '@aws-sdk/client-securityhub';
export type { AsffContext } from './asff.ts';
export {
  ASFF_SCHEMA_VERSION,
  MAX_ASFF_DESCRIPTION_CHARS,
  MAX_ASFF_FIELD_CHARS,
  MAX_ASFF_RESOURCE_ID_CHARS,
  MAX_ASFF_TITLE_CHARS,
  toAsff,
} from './asff.ts';
export type { SinkConfig } from './config.ts';
export { loadSinkConfig, readSinkConfig } from './config.ts';
export type { SinkClients } from './create.ts';
export { createAlertSinks } from './create.ts';
export type { EventBridgeSend } from './eventbridge.ts';
export {
  EventBridgeSink,
  eventEntryBytes,
  FINDING_DETAIL_TYPE,
  FINDING_EVENT_SOURCE,
  findingEvent,
  MAX_PUT_EVENTS_BYTES,
  MAX_PUT_EVENTS_ENTRIES,
} from './eventbridge.ts';
export type { AlertSink } from './fanout.ts';
export { fanOut } from './fanout.ts';
export type { BatchAnswer, BatchSender, SinkEntry, SinkRetryOptions } from './retry.ts';
export {
  packEntries,
  SINK_BASE_DELAY_MS,
  SINK_MAX_ATTEMPTS,
  SINK_MAX_DELAY_MS,
  sendWithRetries,
} from './retry.ts';
export type { SecurityHubSend, SecurityHubSinkOptions } from './securityhub.ts';
export {
  MAX_IMPORT_FINDING_BYTES,
  MAX_IMPORT_FINDINGS,
  MAX_IMPORT_REQUEST_BYTES,
  SecurityHubSink,
} from './securityhub.ts';
