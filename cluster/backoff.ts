/** Pacing retries, the same way for every part that retries (bot restarts, IRC reconnects). */

/** Exponential backoff: the first delay, its ceiling, and how much of each delay is random. */
export interface Backoff {
  minMs: number;
  maxMs: number;
  /** 0 (default): exactly the doubled delay; 0.5: 50–100 % of it, so many clients do not retry in step. */
  jitter?: number;
}

/** Delay before retry `attempt` (0-based): minMs doubling up to maxMs, less up to `jitter` of it at random. */
export function backoffDelay(attempt: number, b: Backoff, random = Math.random): number {
  const ceiling = Math.min(b.maxMs, b.minMs * 2 ** Math.min(Math.max(0, attempt), 30));
  const jitter = b.jitter ?? 0;
  return jitter ? Math.round(ceiling * (1 - jitter + jitter * random())) : ceiling;
}
