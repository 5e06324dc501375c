/** `bustle-control check`: validate control.yaml, secrets and programs included; every problem with its place. */
import { Command } from "commander";
import { loadConfig, withConfig, type ConfigOpts } from "./common.js";

export const checkCommand = withConfig(new Command("check"))
  .description("validate control.yaml and exit (0: valid; 1: every problem listed as file:line key: message)")
  .action((opts: ConfigOpts) => {
    const config = loadConfig(opts.config, true);
    const bots = config.bots.map((b) => `${b.common.id} (${b.common.type}${b.common.enabled ? "" : ", disabled"})`);
    process.stdout.write(
      `${opts.config}: ok — node ${config.node}, ${bots.length} bot(s)${bots.length ? `: ${bots.join(", ")}` : ""}\n`,
    );
  });
