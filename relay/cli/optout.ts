/**
 * `bustle optout`: `~/.bustle.optout` stops the relay from turning your file activity into
 * ambient events. Your own updates and shouts are not affected. `bustle optin` removes it.
 */
import { Command } from "commander";
import { closeSync, constants, lstatSync, openSync } from "node:fs";
import { join } from "node:path";
import { fsError, homeDir } from "./run.js";

export const OPTOUT_NAME = ".bustle.optout";

/** True when `path` exists (a symlink counts: lstat, never followed). */
export function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw fsError("check", path, err);
  }
}

export function optoutCommand(): Command {
  return new Command("optout")
    .description("stop ambient file-activity events about you (your updates and shouts still work)")
    .action(() => {
      const path = join(homeDir(), OPTOUT_NAME);
      if (exists(path)) {
        process.stdout.write(`you are already opted out (${path} exists); bustle optin to undo\n`);
        return;
      }
      try {
        closeSync(
          openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644),
        );
      } catch (err) {
        throw fsError("create", path, err);
      }
      process.stdout.write("opted out: your file activity stays quiet now. (bustle optin to come back)\n");
    });
}
