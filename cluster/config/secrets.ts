/** Secrets come from environment variables or files named in configs, never inline. */
import { readFileSync, statSync } from "node:fs";
import { ConfigError } from "../errors.js";

export interface SecretRef {
  /** Name of an environment variable holding the secret. */
  env?: string | undefined;
  /** Path of a file holding the secret (trailing newline ignored). */
  file?: string | undefined;
}

export interface SecretOptions {
  /** The secret is meant for every local user (the embedded server's read-only status password). */
  shared?: boolean;
}

/**
 * Refuses a secret file (password, key, id key) that others may read or anyone but its owner
 * may write: at most 0640 (owner read-write, group read). Throws ConfigError naming the file
 * and the fix; a missing file is left to the reader's own error.
 */
export function checkSecretFile(file: string, what: string): void {
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch {
    return;
  }
  if ((mode & 0o037) !== 0) {
    const octal = mode.toString(8).padStart(4, "0");
    throw new ConfigError(
      `${what}: secret file ${file} is readable or writable by others (mode ${octal}); run: chmod 600 ${file}`,
    );
  }
}

/**
 * Reads a secret; `what` names it in errors ("nats.password_env"). Returns undefined when no
 * reference is given. Throws ConfigError when a named variable or file is missing, empty, or
 * (files) open to other users.
 */
export function readSecret(ref: SecretRef, what: string, opts: SecretOptions = {}): string | undefined {
  if (ref.env !== undefined) {
    const v = process.env[ref.env];
    if (v === undefined || v === "") throw new ConfigError(`${what}: environment variable ${ref.env} is not set`);
    return v;
  }
  if (ref.file !== undefined) {
    if (!opts.shared) checkSecretFile(ref.file, what);
    let v: string;
    try {
      v = readFileSync(ref.file, "utf8").replace(/\r?\n$/, "");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ConfigError(`${what}: cannot read secret file ${ref.file} (${code ?? String(err)})`, undefined, {
        cause: err,
      });
    }
    if (v === "") throw new ConfigError(`${what}: secret file ${ref.file} is empty`);
    return v;
  }
  return undefined;
}
