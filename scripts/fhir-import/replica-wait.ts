// Waits out the delay between creating a user or patient and another service's copy of it.
// Scheduling and clinical learn of new users (and scheduling of new patients) from Kafka events,
// usually within a second, and reject the id until then.
import { setTimeout as sleep } from 'node:timers/promises';
import { GatewayError } from './gateway-client.js';

/** Default time to wait for a service to learn of a new user or patient, in milliseconds. */
export const DEFAULT_REPLICA_WAIT_MS = 60_000;

/**
 * Tells whether an error is a BAD_USER_INPUT whose every field is one of `fields`, each with the
 * message that the id is not an (active) user or patient of this tenant. A service returns that
 * until its copy has the record.
 */
export function isReplicaLag(error: unknown, fields: readonly string[]): boolean {
  if (!(error instanceof GatewayError) || error.code !== 'BAD_USER_INPUT') return false;
  const entries = Array.isArray(error.fields) ? (error.fields as { field: string; message: string }[]) : [];
  return (
    entries.length > 0 &&
    entries.every(
      (entry) =>
        fields.includes(entry.field) &&
        /is not an? (active )?(patient|user) of this tenant/.test(entry.message),
    )
  );
}

/**
 * Runs `attempt` until it succeeds, retrying with a growing delay (at most 2 s) while it throws an
 * error that `isLag` accepts, for at most `waitMs`. Throws the last error after that, and any
 * other error at once.
 */
export async function retryWhileReplicaLags<T>(
  attempt: () => Promise<T>,
  isLag: (error: unknown) => boolean,
  options: { waitMs?: number; onFirstWait?: () => void },
): Promise<T> {
  const deadline = Date.now() + (options.waitMs ?? DEFAULT_REPLICA_WAIT_MS);
  for (let attemptNumber = 1; ; attemptNumber++) {
    try {
      return await attempt();
    } catch (error) {
      if (!isLag(error) || Date.now() > deadline) throw error;
      if (attemptNumber === 1) options.onFirstWait?.();
      await sleep(Math.min(2_000, 100 * 2 ** attemptNumber));
    }
  }
}

/**
 * Sends `items` with `attempt`, which returns one result per item in their order, and sends again
 * only the items whose result `isLag` accepts, with a growing delay (at most 2 s), for at most
 * `waitMs`. Returns the last result of every item in the order of `items`: a lagging one when the
 * wait ran out. Calls `onFirstWait` once, with the number of lagging items, before the first retry.
 * An error thrown by `attempt` is thrown at once.
 */
export async function retryLaggingItems<I, R>(
  items: readonly I[],
  attempt: (items: I[]) => Promise<R[]>,
  isLag: (result: R) => boolean,
  options: { waitMs?: number; onFirstWait?: (laggingCount: number) => void },
): Promise<R[]> {
  const deadline = Date.now() + (options.waitMs ?? DEFAULT_REPLICA_WAIT_MS);
  const results: R[] = new Array<R>(items.length);
  let pending = items.map((_, index) => index);

  for (let attemptNumber = 1; pending.length > 0; attemptNumber++) {
    const sent = pending.map((index) => items[index]!);
    const attemptResults = await attempt(sent);
    if (attemptResults.length !== sent.length) {
      throw new Error(`Expected ${sent.length} results, received ${attemptResults.length}.`);
    }
    const lagging: number[] = [];
    pending.forEach((index, position) => {
      results[index] = attemptResults[position]!;
      if (isLag(attemptResults[position]!)) lagging.push(index);
    });
    if (lagging.length === 0 || Date.now() >= deadline) break;
    if (attemptNumber === 1) options.onFirstWait?.(lagging.length);
    pending = lagging;
    await sleep(Math.min(2_000, 100 * 2 ** attemptNumber));
  }
  return results;
}
