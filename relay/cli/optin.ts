/** `bustle optin`: removes `~/.bustle.optout`, so ambient events about you resume. */
import { Command } from "commander";
import { unlinkSync } from "node:fs";
import { join } from "node:path";
import { exists, OPTOUT_NAME } from "./optout.js";
import { fsError, homeDir } from "./run.js";

export function optinCommand(): Command {
  return new Command("optin").description("resume ambient file-activity events about you").action(() => {
    const path = join(homeDir(), OPTOUT_NAME);
    if (!exists(path)) {
      process.stdout.write("you are already opted in: your file activity shows up in the feed\n");
      return;
    }
    try {
      unlinkSync(path);
    } catch (err) {
      throw fsError("remove", path, err);
    }
    process.stdout.write("opted in: welcome back! your file activity will bustle again\n");
  });
}
