/** A function's environment, as Lambda gives it. */
export type Env = Readonly<Record<string, string | undefined>>;

export interface EnvReader {
  /** The variable, trimmed; undefined when unset or blank. */
  get(name: string): string | undefined;
  /** A whole number from `min` to `max`, `fallback` when unset; a bad value adds a problem. */
  int(name: string, fallback: number, min: number, max: number): number;
}

/**
 * Reads variables for a config loader that reports every problem at once: each bad value adds one
 * line to `problems` (`NAME must be …, got "…"`) and yields the fallback, so reading goes on.
 */
export function envReader(env: Env, problems: string[]): EnvReader {
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      problems.push(
        `${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`,
      );
      return fallback;
    }
    return n;
  };
  return { get, int };
}
