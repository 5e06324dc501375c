/**
 * Telling a silenced user, once: `bustle update` and `bustle shout` read `~/.bustle.silenced`
 * (left by the admin's `bustled silence`) and, while it holds and it was not shown before, print
 * it. What was shown is remembered in ~/.local/state/bustle/silence-told (the silence's `at`).
 */
import { join } from "node:path";
import { homeDir } from "./run.js";
import { readUserFile, statePath, writeUserFile } from "./user-files.js";

export function tellIfSilenced(): void {
  try {
    tell();
  } catch {
    // Telling is a courtesy: it never stops a post.
  }
}

function tell(): void {
  const note = readUserFile(join(homeDir(), ".bustle.silenced"));
  if (!note) return;
  const m = /^until=(\S+) at=(\S+)$/m.exec(note);
  if (!m) return;
  const [, until, at] = m as unknown as [string, string, string];
  if (until !== "never" && !(Date.parse(until) > Date.now())) return;
  const told = statePath("silence-told");
  if ((readUserFile(told) ?? "").trim() === at) return;
  process.stderr.write(`bustle: ${note.split("\n")[0]}\n`);
  writeUserFile(told, `${at}\n`);
}
