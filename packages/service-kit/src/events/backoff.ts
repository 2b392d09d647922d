/** Exponential back-off between retries, in milliseconds. */
export interface BackoffOptions {
  /** Wait before the second attempt. */
  initialMs?: number;
  /** Upper bound of any wait, so a long outage is still probed regularly. */
  maxMs?: number;
}

/** Returns the wait after `failures` failures in a row: initialMs, then doubling up to maxMs. */
export function backoffDelay(failures: number, options: BackoffOptions = {}): number {
  const initialMs = options.initialMs ?? 200;
  const maxMs = options.maxMs ?? 10_000;
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  return Math.min(maxMs, initialMs * 2 ** exponent);
}

/** Waits `ms` milliseconds, or less when `signal` aborts first; never rejects. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
