/** `bustle-control history [--json]`: the federation bots config's revisions, who applied each and what it holds. */
import { Command } from "commander";
import { refusedOr } from "../../cluster/refusals.js";
import { botLabels, summary, type Revision } from "../bots-config/document.js";
import { openConfig, revisions } from "../bots-config/store.js";
import { loadConfig, withBus, withConfig, type ConfigOpts } from "./common.js";
import { formatTable } from "./table.js";

/** One revision as `--json` prints it (every string already sanitised by readDocument). */
export function revisionJson(r: Revision, current: boolean) {
  return {
    revision: r.revision,
    stored: r.created.toISOString(),
    current,
    ...(r.deleted ? { deleted: true } : {}),
    ...(r.doc
      ? {
          applied: r.doc.applied,
          bots: botLabels(r.doc.bots),
          ...(r.doc.rollback_of !== undefined ? { rollback_of: r.doc.rollback_of } : {}),
        }
      : r.deleted
        ? {}
        : { unreadable: true }),
  };
}

export function renderHistory(list: Revision[]): string {
  const rows = [["REV", "STORED (UTC)", "APPLIED BY", "BOTS"]];
  list.forEach((r, i) => {
    const by = r.doc ? `${r.doc.applied.user} (${r.doc.applied.unix}@${r.doc.applied.host})` : "-";
    const what = r.deleted
      ? "(deleted: control servers use their control.yaml's bots)"
      : r.doc
        ? summary(r.doc.bots) + (r.doc.rollback_of !== undefined ? ` [rollback to ${r.doc.rollback_of}]` : "")
        : "(unreadable)";
    rows.push([
      `${r.revision}${i === list.length - 1 ? "*" : ""}`,
      r.created
        .toISOString()
        .replace("T", " ")
        .replace(/\.\d+Z$/, ""),
      by,
      what,
    ]);
  });
  return formatTable(rows);
}

export const historyCommand = withConfig(new Command("history"))
  .description(
    "list the federation bots config's revisions (the last 64 are kept), oldest first: revision (* the current one), when it was stored, who applied it, its bots",
  )
  .option("--json", "print JSON (a list of revisions)")
  .action(async (opts: ConfigOpts & { json?: boolean }) => {
    const config = loadConfig(opts.config, false);
    const list = await withBus(config, (nc) =>
      refusedOr(
        nc,
        config.bus.user,
        () => "this credential may not read the federation's bots config",
        (async () => {
          const kv = await openConfig(nc);
          return kv ? revisions(kv) : [];
        })(),
      ),
    );
    if (opts.json)
      return void process.stdout.write(
        JSON.stringify(
          list.map((r, i) => revisionJson(r, i === list.length - 1)),
          null,
          2,
        ) + "\n",
      );
    process.stdout.write(
      list.length
        ? renderHistory(list)
        : "no bots config applied yet: every control server runs its own control.yaml's bots\n",
    );
  });
