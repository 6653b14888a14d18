/**
 * Helpers for a record's bytes, shared by the engine and the source readers (neither imports the
 * other through here).
 */

/** Bytes of a skipped record kept as an excerpt for diagnostics and quarantine. */
export const MAX_EXCERPT_BYTES = 512;

export function excerptOf(buf: Buffer, start: number, end: number): string {
  return buf.toString('utf8', start, Math.min(end, start + MAX_EXCERPT_BYTES));
}

/**
 * A record's own bytes, for a reader that keeps the record past its chunk (a connection waiting
 * for its join): a flat latin1 string (one char per byte, so a reader decodes it as it decodes
 * the chunk's view), young and short-lived in the JS heap. Holding a view of `buf` instead would
 * pin the whole zlib output buffer it shares, and once promoted such a view keeps it until a full
 * garbage collection: up to ~45–56 MiB of them at 1 GiB of input.
 */
export function heldText(buf: Buffer, start: number, end: number): string {
  return buf.toString('latin1', start, end);
}
