/**
 * The invocation's time, as each stage after the read sees it: a stage step (one publish chunk,
 * one acknowledgement chunk, the policy) starts only while the time left covers what it may take,
 * so the function stops cleanly and answers instead of being killed at its timeout.
 */

/** Most a step may need: its requests with their timeouts and the SDK's and our retries, in ms. */
export const MAX_STEP_RESERVE_MS = 10_000;
/** Share of the invocation's time kept per step when that is less than MAX_STEP_RESERVE_MS. */
export const STEP_RESERVE_SHARE = 0.05;
/**
 * The invocation's length when there is no Lambda context (tests, local runs): Lambda's longest
 * timeout, 15 minutes (https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html).
 */
export const DEFAULT_INVOCATION_MS = 900_000;

export interface TimeBudget {
  /** Ms left in the invocation. */
  remainingMs(): number;
  /** Epoch ms at which the invocation ends (an object claim lapses then). */
  deadline(): number;
  /** Ms a step needs left to start. */
  readonly stepReserveMs: number;
}

/** The budget of an invocation with `remainingMs` left now (Lambda's getRemainingTimeInMillis). */
export function timeBudget(
  remainingMs: () => number = startClock(DEFAULT_INVOCATION_MS),
  now: () => number = Date.now,
): TimeBudget {
  const total = remainingMs();
  return {
    remainingMs,
    deadline: () => now() + remainingMs(),
    stepReserveMs: Math.min(MAX_STEP_RESERVE_MS, total * STEP_RESERVE_SHARE),
  };
}

function startClock(ms: number): () => number {
  const end = Date.now() + ms;
  return () => Math.max(0, end - Date.now());
}
