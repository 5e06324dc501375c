/** `bustle update <text...>`: "~alice <text>" in everyone's feed. */
import { Command } from "commander";
import { tellIfSilenced } from "./silence-note.js";
import { appendSpool, lengthWarning, textFromArgs } from "./spool-append.js";

export function updateCommand(): Command {
  return new Command("update")
    .description('post an update to the feed ("~you <text>"); works even while the relay is down')
    .argument("<text...>", "what you are up to")
    .action((words: string[]) => {
      const text = textFromArgs(words);
      const warning = lengthWarning(text);
      if (warning) process.stderr.write(warning + "\n");
      tellIfSilenced();
      appendSpool({ kind: "update", text, anon: false });
    });
}
