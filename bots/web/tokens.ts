/**
 * Publishing clients: their secret tokens (read from the environment or a file at start-up, never
 * from the config itself), recognised in constant time, each with its own rate bucket.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { readSecret } from "../../cluster/config/secrets.js";
import { ConfigError } from "../../cluster/errors.js";
import type { TokenConfig } from "./config.js";

/** Shorter tokens are guessable; refuse them at start-up rather than run an open door. */
export const MIN_TOKEN_CHARS = 16;

/** A token bucket: `burst` at once, then one more per `perMs`. The clock is injectable for tests. */
export class RateBucket {
  private tokens: number;
  private stamp: number;
  constructor(
    readonly burst: number,
    readonly perMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.stamp = now();
  }

  /** Takes one token if there is one. */
  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + (t - this.stamp) / this.perMs);
    this.stamp = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Seconds until the next token, for Retry-After. */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(((1 - this.tokens) * this.perMs) / 1000));
  }
}

export interface Client {
  readonly name: string;
  readonly kinds: ReadonlySet<string>;
  readonly bucket: RateBucket;
}

const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();

/**
 * The configured clients. `identify` compares the presented token's SHA-256 with every known
 * token's SHA-256 using timingSafeEqual (equal-length digests, no early exit), so neither the
 * answer time nor its length says how close a guess was.
 */
export class TokenTable {
  private constructor(private readonly entries: ReadonlyArray<{ digest: Buffer; client: Client }>) {}

  /** Reads every token's secret; throws ConfigError naming each missing or weak one (`where` prefixes the key paths). */
  static load(tokens: readonly TokenConfig[], where: string, now?: () => number): TokenTable {
    const problems: string[] = [];
    const entries: Array<{ digest: Buffer; client: Client }> = [];
    tokens.forEach((t, i) => {
      const what = `${where ? where + "." : ""}tokens[${i}] (${t.name})`;
      let secret: string | undefined;
      try {
        secret = readSecret({ env: t.token_env, file: t.token_file }, what);
      } catch (err) {
        problems.push((err as Error).message);
        return;
      }
      if (secret === undefined) return;
      secret = secret.trim();
      if (secret.length < MIN_TOKEN_CHARS) {
        problems.push(`${what}: the token must be at least ${MIN_TOKEN_CHARS} characters (try: openssl rand -hex 24)`);
        return;
      }
      entries.push({
        digest: digest(secret),
        client: { name: t.name, kinds: new Set(t.kinds), bucket: new RateBucket(t.rate.burst, t.rate.per, now) },
      });
    });
    if (problems.length) throw new ConfigError(problems.join("\n"), problems);
    return new TokenTable(entries);
  }

  get size(): number {
    return this.entries.length;
  }

  /** The client owning `token`, or undefined. */
  identify(token: string): Client | undefined {
    const d = digest(token);
    let found: Client | undefined;
    for (const e of this.entries) {
      if (timingSafeEqual(d, e.digest) && !found) found = e.client;
    }
    return found;
  }
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer[ \t]+([\x21-\x7e]{1,512})[ \t]*$/i.exec(header ?? "");
  return m?.[1];
}
