/**
 * What the `bustle` commands share: their error class and its wording for file system failures,
 * and where the user's home is. How a failure ends the program is cluster/program.ts's part.
 */
import { BustleError } from "../../cluster/errors.js";

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

/** The user's home folder: $HOME (absolute), as the relay finds spools under the homes root. */
export function homeDir(): string {
  const home = process.env.HOME;
  if (!home?.startsWith("/")) throw new CliError("$HOME is not set to an absolute path; cannot find your home folder");
  return home;
}
