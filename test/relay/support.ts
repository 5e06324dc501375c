/** Helpers shared by the relay's end-to-end tests: homes, spools and reading bustle.log. */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { makeEvent, type BustleEvent } from "../../cluster/envelope.js";

export function makeHome(homes: string, user: string): string {
  const home = join(homes, user);
  mkdirSync(home, { recursive: true });
  return home;
}

export function spoolPath(homes: string, user: string): string {
  return join(homes, user, ".bustle.spool");
}

export function appendSpool(homes: string, user: string, lines: string[]): void {
  appendFileSync(spoolPath(homes, user), lines.map((l) => l + "\n").join(""));
}

export function logLines(path: string): string[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, "utf8");
  return text.split("\n").slice(0, -1);
}

/** The text part of a log line (after "<ts> <node> "). */
export function textOf(line: string): string {
  return line.split(" ").slice(2).join(" ");
}

/** Alice's spool event number `n` (id `event-id-<n>`), for tests of the outbox. */
export const numberedEvent = (n: number): BustleEvent =>
  makeEvent({
    node: "town",
    source: "spool",
    kind: "update",
    actor: "alice",
    text: `~alice line ${n}`,
    id: `event-id-${n}`,
  });
