/**
 * The mute list: names whose lines a user's feed hides. A name is
 *   `~alice`  a user (lines whose actor is alice),
 *   `@club`   a whole tilde (lines from node club),
 *   `alice`   a user or a bot/source of that name (`irc-town`: everything that bot brought in).
 * Kept one per line in ~/.config/bustle/mute. Actors and sources come from the log index; a line
 * the index does not cover is matched by its text (`~alice …`) for users.
 */
import { isNodeId, SOURCE_RE } from "../../cluster/names.js";
import type { IndexEntry } from "../log-index.js";
import { CliError } from "./run.js";
import { configPath, readUserFile, writeUserFile } from "./user-files.js";

export const MUTE_FILE = "mute";
const USER_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/** The canonical spelling of NAME (`~alice`, `@club`, `irc-town`); throws CliError for a name that cannot match anything. */
export function normaliseMuteName(raw: string): string {
  const name = raw.trim();
  if (name.startsWith("@")) {
    const node = name.slice(1).toLowerCase();
    if (!isNodeId(node))
      throw new CliError(`cannot mute ${JSON.stringify(raw)}: a tilde is @ and its node id (like @town)`);
    return `@${node}`;
  }
  if (name.startsWith("~")) {
    if (!USER_RE.test(name.slice(1))) throw new CliError(`cannot mute ${JSON.stringify(raw)}: not a user name`);
    return name;
  }
  if (!USER_RE.test(name))
    throw new CliError(
      `cannot mute ${JSON.stringify(raw)}: give a user (alice or ~alice), a tilde (@club) or a bot (irc-town)`,
    );
  return name;
}

export function loadMuteList(): string[] {
  const text = readUserFile(configPath(MUTE_FILE)) ?? "";
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
}

export function saveMuteList(names: readonly string[]): void {
  writeUserFile(configPath(MUTE_FILE), names.length ? `${names.join("\n")}\n` : "");
}

/** The text part of `<ts> <node> <text>`. */
function textOf(line: string): string {
  const a = line.indexOf(" ");
  const b = a < 0 ? -1 : line.indexOf(" ", a + 1);
  return b < 0 ? "" : line.slice(b + 1);
}

/** True when a name needs the index (actors, sources) rather than the line alone. */
export const needsIndex = (names: readonly string[]): boolean => names.some((n) => !n.startsWith("@"));

/** A predicate: true when the line (with its index record, if any) is muted. */
export function muteMatcher(
  names: readonly string[],
): (line: string, node: string | undefined, meta: IndexEntry | undefined) => boolean {
  const nodes = new Set<string>();
  const users = new Set<string>();
  const either = new Set<string>();
  for (const n of names) {
    if (n.startsWith("@")) nodes.add(n.slice(1));
    else if (n.startsWith("~")) users.add(n.slice(1));
    else either.add(n);
  }
  return (line, node, meta) => {
    if (node !== undefined && nodes.has(node)) return true;
    if (meta) {
      if (meta.actor !== null && (users.has(meta.actor) || either.has(meta.actor))) return true;
      return SOURCE_RE.test(meta.source) && either.has(meta.source);
    }
    const m = /^~([A-Za-z0-9_.-]{1,64})[ ']/.exec(textOf(line));
    return m !== null && (users.has(m[1]!) || either.has(m[1]!));
  };
}
