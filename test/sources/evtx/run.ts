import {
  createEvtxParser,
  type EvtxRecord,
  type EvtxSkip,
  type EvtxSummary,
} from '../../../lib/sources/evtx/index.ts';

export interface Parsed {
  records: EvtxRecord[];
  skips: EvtxSkip[];
  summary: EvtxSummary;
}

/** Feeds the slices in order and collects what the parser reports. */
export function parseSlices(
  slices: Iterable<Uint8Array>,
  wantEvent?: (id: number) => boolean,
): Parsed {
  const records: EvtxRecord[] = [];
  const skips: EvtxSkip[] = [];
  const parser = createEvtxParser({
    onRecord: (r) => records.push(r),
    onSkip: (s) => skips.push(s),
    ...(wantEvent ? { wantEvent } : {}),
  });
  for (const slice of slices) parser.feed(slice);
  return { records, skips, summary: parser.end() };
}

function* slicesOf(bytes: Uint8Array, sliceBytes: number): Generator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += sliceBytes) yield bytes.subarray(i, i + sliceBytes);
}

/** Feeds `bytes` in slices of `sliceBytes`. */
export const parseEvtx = (
  bytes: Uint8Array,
  sliceBytes = bytes.length,
  wantEvent?: (id: number) => boolean,
): Parsed => parseSlices(slicesOf(bytes, Math.max(sliceBytes, 1)), wantEvent);
