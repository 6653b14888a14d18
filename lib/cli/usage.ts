/** A command line the CLI cannot run; an empty message asks for the usage alone (`--help`). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Exit status of bad usage; `--help` exits 0. */
export const USAGE_EXIT_CODE = 2;

/**
 * `parse(argv)`; when it throws, the exit status instead: for `--help` the usage on standard
 * output and 0, for a bad command line the reason (`command: …`) and the usage on standard error
 * and USAGE_EXIT_CODE.
 */
export function parseOrExplain<T extends object>(
  command: string,
  usage: string,
  parse: (argv: string[]) => T,
  argv: string[],
): T | number {
  try {
    return parse(argv);
  } catch (err) {
    const msg = (err as Error).message;
    if (!msg) {
      process.stdout.write(`${usage}\n`);
      return 0;
    }
    process.stderr.write(`${command}: ${msg}\n${usage}\n`);
    return USAGE_EXIT_CODE;
  }
}
