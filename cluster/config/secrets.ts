/** Secrets come from environment variables or files named in configs, never inline. */
import { readFileSync } from "node:fs";
import { ConfigError } from "../errors.js";

export interface SecretRef {
  /** Name of an environment variable holding the secret. */
  env?: string | undefined;
  /** Path of a file holding the secret (trailing newline ignored). */
  file?: string | undefined;
}

/**
 * Reads a secret; `what` names it in errors ("nats.password_env"). Returns undefined when no
 * reference is given. Throws ConfigError when a named variable or file is missing or empty.
 */
export function readSecret(ref: SecretRef, what: string): string | undefined {
  if (ref.env !== undefined) {
    const v = process.env[ref.env];
    if (v === undefined || v === "") throw new ConfigError(`${what}: environment variable ${ref.env} is not set`);
    return v;
  }
  if (ref.file !== undefined) {
    let v: string;
    try {
      v = readFileSync(ref.file, "utf8").replace(/\r?\n$/, "");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ConfigError(`${what}: cannot read secret file ${ref.file} (${code ?? String(err)})`, undefined, { cause: err });
    }
    if (v === "") throw new ConfigError(`${what}: secret file ${ref.file} is empty`);
    return v;
  }
  return undefined;
}
