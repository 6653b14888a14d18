/** A command line the CLI cannot run; an empty message asks for the usage alone (`--help`). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * `parse(argv)`, or, when it throws, the reason (`command: …`) and the usage on stderr and
 * undefined: the caller then exits with status 2.
 */
export function parseOrExplain<T>(
  command: string,
  usage: string,
  parse: (argv: string[]) => T,
  argv: string[],
): T | undefined {
  try {
    return parse(argv);
  } catch (err) {
    const msg = (err as Error).message;
    process.stderr.write(`${msg ? `${command}: ${msg}\n` : ''}${usage}\n`);
    return undefined;
  }
}
