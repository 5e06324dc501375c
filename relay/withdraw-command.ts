/**
 * `bustled withdraw EVENT-ID [--reason TEXT]` and `bustled withdraw --match TEXT --since 1h`:
 * publishes a withdrawal (cluster/withdraw.ts) with this node's credentials. Every node's log
 * writer then blanks the line in place, portals drop it, and audit logs record it.
 */
import { Command, InvalidArgumentError } from "commander";
import { userInfo } from "node:os";
import { parseDuration } from "../cluster/duration.js";
import { EVENT_ID_RE, encodeEvent, subjectOf } from "../cluster/envelope.js";
import { BustleError } from "../cluster/errors.js";
import { FEDERATION_ADMIN_NODE, makeWithdrawal } from "../cluster/withdraw.js";
import { loadNodeConfig } from "./config.js";
import { findById, findByText, type Found } from "./withdraw-find.js";

class WithdrawError extends BustleError {}

function span(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) throw new InvalidArgumentError("must be a duration like 30m, 2h or 1d");
  return ms;
}

const admin = (): string | null => {
  const name =
    process.env.SUDO_USER ||
    (() => {
      try {
        return userInfo().username;
      } catch {
        return "";
      }
    })();
  return /^[A-Za-z0-9_.-]{1,64}$/.test(name) ? name : null;
};

interface Options {
  config?: string;
  reason?: string;
  match?: string;
  since?: number;
  admin?: string;
}

/** The event meant; `undefined` only for the federation admin naming an id this log does not hold. */
function pick(config: ReturnType<typeof loadNodeConfig>, id: string | undefined, o: Options): Found | undefined {
  const node = config.node.id;
  if (id !== undefined) {
    if (!EVENT_ID_RE.test(id))
      throw new WithdrawError(`${JSON.stringify(id)} is not an event id (8–64 characters of A-Z a-z 0-9 _ -)`);
    const f = findById(config.log.path, id);
    if (!f && o.admin) return undefined;
    if (!f) throw new WithdrawError(`no event ${id} in ${config.log.path} (its index has no such id)`);
    if (f.node !== node && !o.admin)
      throw new WithdrawError(
        `event ${id} is from ${f.node}: only ${f.node}'s admin or the federation's admin may withdraw it`,
      );
    return f;
  }
  const since = new Date(Date.now() - (o.since ?? 3_600_000)).toISOString();
  const found = findByText(config.log.path, node, o.match!, since);
  if (found.length === 0)
    throw new WithdrawError(`no event of ${node} since ${since} contains ${JSON.stringify(o.match)}`);
  if (found.length > 1) {
    throw new WithdrawError(
      `${found.length} events of ${node} contain ${JSON.stringify(o.match)}; withdraw one by its id:\n` +
        found
          .slice(0, 20)
          .map((f) => `  ${f.id}  ${f.line}`)
          .join("\n"),
    );
  }
  return found[0]!;
}

export function withdrawCommand(): Command {
  return new Command("withdraw")
    .description("withdraw one of this node's events everywhere: its line is blanked in every log, portals drop it")
    .argument("[EVENT-ID]", "the event's id (from the audit log, /api/events or the feed's index)")
    .option("-c, --config <file>", "node.yaml (default: $BUSTLE_CONFIG)", process.env.BUSTLE_CONFIG)
    .option("--reason <TEXT>", "why (recorded in every node's audit log and shown in the feed)")
    .option("--match <TEXT>", "find the event by a piece of its text instead of its id")
    .option("--since <DURATION>", "with --match: how far back to look (default 1h)", span)
    .option("--admin <FILE>", "as the federation's admin (DIR/admin/admin.yaml): any node's event")
    .action(async (id: string | undefined, o: Options, cmd: Command) => {
      if ((id === undefined) === (o.match === undefined))
        cmd.error("give an EVENT-ID or --match TEXT (one of them)", { exitCode: 2 });
      const config = loadNodeConfig(o.config);
      const target = pick(config, id, o);
      const ev = makeWithdrawal({
        node: o.admin ? FEDERATION_ADMIN_NODE : config.node.id,
        targetNode: target?.node,
        target: target?.id ?? id!,
        reason: o.reason,
        by: admin(),
      });
      const { nodeBusSettings, publishOnce } = await import("./withdraw-publish.js");
      const settings = o.admin
        ? (await import("../cluster/admin-file.js")).loadAdminBus(o.admin)
        : nodeBusSettings(config, o.config);
      await publishOnce(
        settings,
        `bustled withdraw (${o.admin ? "admin" : config.node.id})`,
        subjectOf(ev),
        encodeEvent(ev),
        ev.id,
      );
      process.stdout.write(
        `withdrew ${ev.data!.target as string}${target ? ` (${target.line})` : ""}; every node blanks it as the withdrawal arrives\n`,
      );
    });
}
