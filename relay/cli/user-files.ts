/**
 * Where `bustle` keeps a user's own files (XDG base directories, as the user's other tools do):
 *   $XDG_CONFIG_HOME/bustle/ (default ~/.config/bustle/) — `mute` (the mute list),
 *                                                          `digest-at-login` (bustle digest --on)
 *   $XDG_STATE_HOME/bustle/  (default ~/.local/state/bustle/) — `last-look` (the digest's mark)
 * A relative XDG variable is ignored, as the spec says.
 */
import { constants, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync, closeSync } from "node:fs";
import { dirname, join } from "node:path";
import { fsError, homeDir } from "./run.js";

function base(variable: string, fallback: string[]): string {
  const v = process.env[variable];
  return v?.startsWith("/") ? v : join(homeDir(), ...fallback);
}

export const configPath = (name: string): string => join(base("XDG_CONFIG_HOME", [".config"]), "bustle", name);
export const statePath = (name: string): string => join(base("XDG_STATE_HOME", [".local", "state"]), "bustle", name);

/** The file's text, or undefined when it does not exist. */
export function readUserFile(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw fsError("read", path, err);
  }
}

/** Replaces the file's content atomically (a half-written mute list never shows), creating its folder. */
export function writeUserFile(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    throw fsError("write", path, err);
  }
}

/** Removes the file; false when it was not there. */
export function removeUserFile(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw fsError("remove", path, err);
  }
}
