/**
 * How every `bustle` command ends: 0 on success, 1 with one clear line on stderr for an
 * expected failure, 2 for a usage error (commander's own errors). Stack traces only for bugs.
 */
import { CommanderError } from "commander";
import { BustleError, isExpectedError } from "../../cluster/errors.js";

/** A failure the user can act on; its message is printed as it is. */
export class CliError extends BustleError {}

/** A file system error as one line: "cannot open PATH: permission denied". */
export function fsError(what: string, path: string, err: unknown): CliError {
  const code = (err as NodeJS.ErrnoException).code;
  const reason: Record<string, string> = {
    ENOENT: "no such file or directory",
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    ELOOP: "it is a symbolic link (refused)",
    EISDIR: "it is a directory",
    ENOTDIR: "a parent is not a directory",
    ENXIO: "it is a FIFO or device (refused)",
    ENOSPC: "no space left on the device",
    EROFS: "read-only file system",
  };
  return new CliError(`cannot ${what} ${path}: ${(code && reason[code]) ?? (err as Error).message}`, { cause: err });
}

/** Prints an error the way users should see it and sets the exit code. */
export function reportError(err: unknown): void {
  if (isExpectedError(err)) {
    process.stderr.write(`bustle: ${err.message}\n`);
  } else {
    process.stderr.write(`bustle: unexpected error (a bug; please report it):\n${(err as Error)?.stack ?? String(err)}\n`);
  }
  process.exitCode = 1;
}

/** Wraps a commander action so its failures follow the exit-code rules. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      if (err instanceof CommanderError) throw err; // a usage error: the entry maps it to exit 2
      reportError(err);
    }
  };
}

/** The user's home folder: $HOME (absolute), as the relay finds spools under the homes root. */
export function homeDir(): string {
  const home = process.env.HOME;
  if (!home || !home.startsWith("/")) throw new CliError("$HOME is not set to an absolute path; cannot find your home folder");
  return home;
}
