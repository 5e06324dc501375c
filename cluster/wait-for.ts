/** Polling instead of sleeping: waits until `check` returns a truthy value, or fails saying what it waited for. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  timeoutMs: number,
  what: string,
  intervalMs = 50,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const detail = last instanceof Error ? `: last error ${last.message}` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await sleep(intervalMs);
  }
}

/** The one plain sleep: for pacing and retries; a test waits with waitFor instead. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A sleep that can be cut short: `wake()` resolves `done` at once (a stop during a retry's pause). */
export function wakeableSleep(ms: number): { done: Promise<void>; wake: () => void } {
  let wake!: () => void;
  const done = new Promise<void>((r) => {
    const t = setTimeout(r, ms);
    wake = () => {
      clearTimeout(t);
      r();
    };
  });
  return { done, wake };
}
