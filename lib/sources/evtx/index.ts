export { MAX_BINXML_DEPTH } from './binxml.ts';
export { CHUNK_BYTES, FILE_HEADER_BYTES } from './header.ts';
export { createEvtxParser } from './parser.ts';
export { parseEvtxStream } from './stream.ts';
export type {
  EvtxParser,
  EvtxParserOptions,
  EvtxRecord,
  EvtxSkip,
  EvtxSkipReason,
  EvtxSummary,
} from './types.ts';
