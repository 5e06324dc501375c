/** `bustle-control rollback REV`: store an older revision's bots again, as a new revision (history stays linear). */
import { Command, InvalidArgumentError } from "commander";
import { registry } from "../../bots/registry.js";
import { appliedBy, diffBots, DOCUMENT_VERSION, parseStoredBots, summary } from "../bots-config/document.js";
import { BotsConfigError, openConfig, revisions, store } from "../bots-config/store.js";
import { describeDiff } from "./apply.js";
import { asAdmin } from "./bots-config.js";
import { loadConfig, withConfig, type ConfigOpts } from "./common.js";

const revisionArg = (v: string) => {
  if (!/^[1-9]\d{0,15}$/.test(v)) throw new InvalidArgumentError("a revision number (see bustle-control history)");
  return Number(v);
};

export const rollbackCommand = withConfig(new Command("rollback"))
  .description(
    "store the bots of an older revision of the federation's bots config again, as a new revision (only the federation's admin may: --config DIR/admin/admin.yaml)",
  )
  .argument("<rev>", "the revision to go back to (bustle-control history lists them)", revisionArg)
  .action(async (rev: number, opts: ConfigOpts) => {
    const config = loadConfig(opts.config, false);
    const line = await asAdmin(config, async (nc) => {
      const kv = await openConfig(nc);
      const list = kv ? await revisions(kv) : [];
      const current = list[list.length - 1];
      const target = list.find((r) => r.revision === rev);
      if (!kv || !current) throw new BotsConfigError("no bots config has been applied yet: nothing to roll back to");
      if (!target)
        throw new BotsConfigError(`revision ${rev} is not kept (kept: ${list.map((r) => r.revision).join(", ")})`);
      if (!target.doc)
        throw new BotsConfigError(
          `revision ${rev} ${target.deleted ? "is a deletion" : "is unreadable"}: choose another (bustle-control history)`,
        );
      if (target === current) return `revision ${rev} is the current one; nothing stored`;
      parseStoredBots(target.doc.bots, registry, `revision ${rev}`);
      const stored = await store(
        kv,
        {
          v: DOCUMENT_VERSION,
          bots: target.doc.bots,
          applied: appliedBy(config.bus.user, `rollback to revision ${rev}`),
          rollback_of: rev,
        },
        current,
      );
      return `rolled back to revision ${rev} as revision ${stored}: ${summary(target.doc.bots)}${describeDiff(diffBots(current.doc?.bots ?? [], target.doc.bots))}`;
    });
    process.stdout.write(`${line}\n`);
  });
