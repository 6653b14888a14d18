import { createEvtxParser } from './parser.ts';
import type { EvtxParserOptions, EvtxSummary } from './types.ts';

/**
 * The thin stream adapter: feeds an already decompressed byte stream (a Node Readable, an S3
 * body after gunzip) to the push parser as its pieces arrive, and returns the counts at its end.
 */
export async function parseEvtxStream(
  source: AsyncIterable<Uint8Array>,
  options: EvtxParserOptions,
): Promise<EvtxSummary> {
  const parser = createEvtxParser(options);
  for await (const piece of source) parser.feed(piece);
  return parser.end();
}
