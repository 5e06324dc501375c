/** `bustle-control apply FILE`: validate FILE's bots: list and store it as the federation's bots config. */
import { resolve } from "node:path";
import { Command } from "commander";
import { registry } from "../../bots/registry.js";
import { appliedBy, diffBots, DOCUMENT_VERSION, summary } from "../bots-config/document.js";
import { latest, openConfigForWrite, store } from "../bots-config/store.js";
import { loadBotsFile } from "../config/bots-file.js";
import { asAdmin } from "./bots-config.js";
import { loadConfig, withConfig, type ConfigOpts } from "./common.js";

/** `; +a ~b -c` for an answer line. */
export function describeDiff(d: { added: string[]; removed: string[]; changed: string[] }): string {
  const parts = [
    ...d.added.map((id) => `+${id}`),
    ...d.changed.map((id) => `~${id}`),
    ...d.removed.map((id) => `-${id}`),
  ];
  return parts.length ? ` (${parts.join(" ")})` : "";
}

export const applyCommand = withConfig(new Command("apply"))
  .description(
    "validate FILE's bots: list and store it as the federation's bots config, a new revision: every control server that follows it starts added bots, restarts changed ones and stops removed ones. Only the federation's admin may (--config DIR/admin/admin.yaml); a bad file stores nothing (exit 1, every problem as FILE:line key: message)",
  )
  .argument(
    "<file>",
    "a control.yaml, or a file with only bots:, whose bots: list to apply (its other keys are not applied)",
  )
  .action(async (file: string, opts: ConfigOpts) => {
    const bots = loadBotsFile(file, registry);
    const config = loadConfig(opts.config, false);
    const line = await asAdmin(config, async (nc) => {
      const kv = await openConfigForWrite(nc);
      const prev = await latest(kv);
      if (prev?.doc && JSON.stringify(prev.doc.bots) === JSON.stringify(bots.raw)) {
        return `unchanged: revision ${prev.revision} already has this list (${summary(bots.raw)}); nothing stored`;
      }
      const rev = await store(
        kv,
        { v: DOCUMENT_VERSION, bots: bots.raw, applied: appliedBy(config.bus.user, resolve(file)) },
        prev,
      );
      return `applied revision ${rev}: ${summary(bots.raw)}${describeDiff(diffBots(prev?.doc?.bots ?? [], bots.raw))}`;
    });
    process.stdout.write(`${line}\n`);
  });
