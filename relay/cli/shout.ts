/** `bustle shout [--anon] <text...>`: "~alice shouts, 'TEXT'" (or "someone shouts, …"). */
import { Command } from "commander";
import { tellIfSilenced } from "./silence-note.js";
import { appendSpool, lengthWarning, textFromArgs } from "./spool-append.js";

export function shoutCommand(): Command {
  return new Command("shout")
    .description("shout to every tilde in the federation; works even while the relay is down")
    .option("--anon", 'shout anonymously ("someone shouts, …"; the admins\' audit log still knows)', false)
    .argument("<text...>", "what to shout")
    .action((words: string[], opts: { anon: boolean }) => {
      const text = textFromArgs(words);
      const warning = lengthWarning(text);
      if (warning) process.stderr.write(warning + "\n");
      tellIfSilenced();
      appendSpool({ kind: "shout", text, anon: opts.anon === true });
    });
}
