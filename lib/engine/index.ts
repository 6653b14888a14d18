export { basename } from '../text/fields.ts';
export { ObjectAnalyzer } from './analyzer.ts';
export {
  DECOMPRESS_CHUNK_BYTES,
  decodeToUtf8,
  InputDamageError,
  READ_CHUNK_BYTES,
} from './decode.ts';
export { EngineError, LimitExceededError, UnsupportedInputError } from './errors.ts';
export type { ScanLimits } from './limits.ts';
export {
  DEFAULT_LIMITS,
  MAX_ALERT_GROUPS,
  MAX_CANDIDATE_WAIT_BYTES,
  MAX_CANDIDATES,
  MAX_CONTEXT_BYTES,
  MAX_DECOMPRESSED_BYTES,
  MAX_DNS_ANSWERS,
  MAX_ENDED_BYTES,
  MAX_ENDED_PROCESSES,
  MAX_EVIDENCE_ITEMS,
  MAX_EXCERPT_BYTES,
  MAX_HOST_NAMES,
  MAX_PENDING_BYTES,
  MAX_PENDING_CONNECTIONS,
  MAX_PROCESS_CONTEXTS,
  MAX_RECORD_BYTES,
  MAX_SUMMARY_GROUPS,
  MAX_WAITING_CANDIDATES,
} from './limits.ts';
export type { ScanObjectOptions } from './scan.ts';
export { scanObject, splitRecords } from './scan.ts';
export type { RecordSink, Splitter, TextFormat } from './split.ts';
export {
  createSplitter,
  JsonArraySplitter,
  NdjsonSplitter,
  sniffFormat,
  XmlEventSplitter,
} from './split.ts';
export type {
  ContextStore,
  ObjectDamage,
  ScanResult,
  ScanStats,
  SkippedRecord,
  SkipReason,
  StoredContext,
  StoredProcess,
} from './types.ts';
export type { WaitingCandidate } from './waiting.ts';
export { resolveWaiting } from './waiting.ts';
