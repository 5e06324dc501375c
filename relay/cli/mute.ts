/**
 * `bustle mute NAME…` / `bustle unmute NAME…` / `bustle mute` (the list): your feed hides what
 * you mute (on a terminal and piped alike; `bustle --all` shows it). Only your own view changes:
 * the log itself is never touched by a user.
 */
import { Command } from "commander";
import { loadMuteList, normaliseMuteName, saveMuteList } from "./mute-list.js";

const describe = (n: string): string =>
  n.startsWith("@") ? `the tilde ${n}` : n.startsWith("~") ? `the user ${n}` : `${n} (a user or a bot)`;

export function muteCommand(): Command {
  return new Command("mute")
    .description("hide a user (alice, ~alice), a tilde (@club) or a bot (irc-town) from your feed; no NAME lists them")
    .argument("[NAME...]", "who to mute")
    .action((names: string[]) => {
      const list = loadMuteList();
      if (names.length === 0) {
        process.stdout.write(
          list.length ? `muted: ${list.join(" ")}\n` : "nothing is muted (bustle mute NAME to hide someone)\n",
        );
        return;
      }
      const asked = [...new Set(names.map(normaliseMuteName))];
      const added = asked.filter((n) => !list.includes(n));
      if (added.length) saveMuteList([...list, ...added]);
      for (const n of asked)
        process.stdout.write(added.includes(n) ? `muted ${describe(n)}\n` : `${n} was already muted\n`);
    });
}

export function unmuteCommand(): Command {
  return new Command("unmute")
    .description("show a muted user, tilde or bot in your feed again")
    .argument("<NAME...>", "who to unmute (as you muted them)")
    .action((names: string[]) => {
      const list = loadMuteList();
      const gone = new Set(names.map(normaliseMuteName));
      const kept = list.filter((n) => !gone.has(n));
      if (kept.length !== list.length) saveMuteList(kept);
      for (const n of gone)
        process.stdout.write(list.includes(n) ? `unmuted ${n}\n` : `${n} was not muted (bustle mute lists who is)\n`);
    });
}
