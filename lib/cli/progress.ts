/** The scan command's progress line on a terminal: how far into a file, and how fast. */

/** How often the progress line is redrawn. */
export const PROGRESS_INTERVAL_MS = 500;

const MIB = 1024 * 1024;

/**
 * `file: 42% (120/286 MiB) 85.3 MiB/s` when the size is known (a file), else
 * `-: 120 MiB read, 85.3 MiB/s` (standard input).
 */
export function formatProgress(p: {
  file: string;
  bytesRead: number;
  size: number | undefined;
  elapsedMs: number;
}): string {
  const rate = p.elapsedMs > 0 ? p.bytesRead / MIB / (p.elapsedMs / 1000) : 0;
  const mib = (n: number) => (n / MIB).toFixed(n < 10 * MIB ? 1 : 0);
  if (p.size !== undefined && p.size > 0) {
    const pct = Math.min(100, Math.floor((p.bytesRead / p.size) * 100));
    return `${p.file}: ${pct}% (${mib(p.bytesRead)}/${mib(p.size)} MiB) ${rate.toFixed(1)} MiB/s`;
  }
  return `${p.file}: ${mib(p.bytesRead)} MiB read, ${rate.toFixed(1)} MiB/s`;
}

/**
 * Redraws the progress line on `stream` until stopped, which erases it. Does nothing unless the
 * stream is a terminal: a log or a pipe gets only the summaries.
 */
export function startProgress(
  stream: NodeJS.WriteStream,
  file: string,
  size: number | undefined,
  bytesRead: () => number,
): () => void {
  if (!stream.isTTY) return () => undefined;
  const started = performance.now();
  const timer = setInterval(() => {
    const line = formatProgress({
      file,
      bytesRead: bytesRead(),
      size,
      elapsedMs: performance.now() - started,
    });
    stream.write(`\r\u001b[K${line}`);
  }, PROGRESS_INTERVAL_MS);
  return () => {
    clearInterval(timer);
    stream.write('\r\u001b[K');
  };
}
