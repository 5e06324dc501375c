/**
 * `bustle-cluster add-member` / `remove-member`: a tilde joins or leaves a running federation.
 * Both change DIR/federation.json's plan and re-run init over the folder (plan-file.ts); the core
 * servers take the change on a config reload, without a restart.
 */
import { Command } from "commander";
import { join, resolve } from "node:path";
import { parseNodeSpec, UsageError } from "../plan.js";
import type { FederationMap } from "../init.js";

/** What the core operators do next: install the new confs and reload (no restart). */
const reloadSteps = (dir: string, map: FederationMap) => [
  `Then on each core host (${map.servers.map((s) => s.id).join(", ")}): install ${dir}/<ID>/nats-server.conf and reload it,`,
  `  systemctl reload bustle-nats   (or: nats-server --signal reload=<pid>); the server keeps running.`,
];

async function change(
  dir: string,
  what: (plan: import("../plan.js").FederationPlan) => import("../plan.js").FederationPlan,
  cmd: Command,
): Promise<FederationMap> {
  const { changeFederation } = await import("../plan-file.js");
  try {
    return changeFederation(dir, what);
  } catch (err) {
    if (err instanceof UsageError) cmd.error(`error: ${err.message}`);
    throw err;
  }
}

export function addMemberCommand(): Command {
  return new Command("add-member")
    .description("a new tilde joins: write DIR/<ID>/ (node.yaml, secrets/, tls/) and every core server's updated conf")
    .argument("<id>", "the new node's id")
    .requiredOption("--dir <dir>", "the federation's folder, written by bustle-cluster init")
    .option("--control", "it runs a control server too (a control credential and control.yaml)")
    .action(async function (this: Command, id: string, opts: { dir: string; control?: boolean }) {
      const dir = resolve(opts.dir);
      const { withMember } = await import("../plan-file.js");
      const map = await change(dir, (plan) => withMember(plan, id, opts.control), this);
      process.stdout.write(
        [
          `bustle-cluster: ${id} joins federation "${map.cluster}"`,
          `  ${join(dir, id)}/  node.yaml, secrets/${map.tls ? ", tls/" : ""}${map.control.includes(id) ? ", control.yaml" : " (relay only)"}`,
          `  ${map.servers.map((s) => `${s.id}/nats-server.conf`).join(", ")}: now know ${id}'s user`,
          ...reloadSteps(dir, map),
          `Copy ${join(dir, id)}/ to the new tilde (as /etc/bustle) and start it there: systemctl enable --now bustled`,
          `Its bustle.log starts with the retained history. Check with: bustle-cluster status --config /etc/bustle/node.yaml`,
        ].join("\n") + "\n",
      );
    });
}

export function removeMemberCommand(): Command {
  return new Command("remove-member")
    .description(
      "a tilde leaves: drop its users (and bot grants) from every core server's conf and its passwords from DIR/<ID>/secrets",
    )
    .argument("<id>", "the member's id")
    .requiredOption("--dir <dir>", "the federation's folder, written by bustle-cluster init")
    .action(async function (this: Command, id: string, opts: { dir: string }) {
      const dir = resolve(opts.dir);
      const { withoutMember, forgetSecrets } = await import("../plan-file.js");
      const map = await change(dir, (plan) => withoutMember(plan, id), this);
      forgetSecrets(dir, id);
      process.stdout.write(
        [
          `bustle-cluster: ${id} leaves federation "${map.cluster}"`,
          `  ${map.servers.map((s) => `${s.id}/nats-server.conf`).join(", ")}: ${id}'s users removed; ${join(dir, id)}/secrets/ deleted`,
          ...reloadSteps(dir, map),
          `On reload the servers close ${id}'s connections and refuse its credentials; its past events stay in the stream and every log.`,
        ].join("\n") + "\n",
      );
    });
}

export function addServerCommand(): Command {
  return new Command("add-server")
    .description(
      "grow the core: write DIR/<ID>/ for a new routed JetStream server and every core server's conf with a route to it",
    )
    .argument("<spec>", "ID=HOST:CLIENT_PORT:CLUSTER_PORT[:MONITOR_PORT], as init's --node")
    .requiredOption("--dir <dir>", "the federation's folder, written by bustle-cluster init")
    .action(async function (this: Command, spec: string, opts: { dir: string }) {
      const dir = resolve(opts.dir);
      const { withServer } = await import("../plan-file.js");
      let server;
      try {
        server = parseNodeSpec(spec);
      } catch (err) {
        if (err instanceof UsageError) this.error(`error: ${err.message}`);
        throw err;
      }
      const map = await change(dir, (plan) => withServer(plan, server), this);
      const others = map.servers.filter((s) => s.id !== server.id);
      process.stdout.write(
        [
          `bustle-cluster: core server ${server.id} joins federation "${map.cluster}" (${map.servers.length} servers; the stream stays R3)`,
          `  ${join(dir, server.id)}/  nats-server.conf, node.yaml, secrets/${map.tls ? ", tls/" : ""}${map.control.includes(server.id) ? ", control.yaml" : ""}`,
          `  ${others.map((s) => `${s.id}/nats-server.conf`).join(", ")}: now route to ${server.id}`,
          ...reloadSteps(dir, { ...map, servers: others }),
          `Install ${join(dir, server.id)}/ on its host and start it: systemctl enable --now bustle-nats bustled`,
          `Wait for it: bustle-cluster status --config /etc/bustle/node.yaml --wait-healthy. Every node.yaml now lists it too (used on the relays' next restart).`,
        ].join("\n") + "\n",
      );
    });
}

export function retireServerCommand(): Command {
  return new Command("retire-server")
    .description(
      "shrink the core: move every stream replica off server ID (admin credential), then make ID a member (relay only) and drop its routes",
    )
    .argument("<id>", "the core server to retire (the federation needs four to retire one)")
    .requiredOption(
      "--dir <dir>",
      "the federation's folder, written by bustle-cluster init (its admin/ credential is used)",
    )
    .action(async function (this: Command, id: string, opts: { dir: string }) {
      const dir = resolve(opts.dir);
      const { withServerRetired, moveReplicasOff } = await import("../retire.js");
      const { changeFederation, storedPlan } = await import("../plan-file.js");
      // Refuse before touching the streams if the plan change would be refused.
      try {
        withServerRetired(storedPlan(dir), id);
      } catch (err) {
        if (err instanceof UsageError) this.error(`error: ${err.message}`);
        throw err;
      }
      const moved = await moveReplicasOff(dir, id);
      const map = changeFederation(dir, (plan) => withServerRetired(plan, id));
      process.stdout.write(
        [
          `bustle-cluster: ${id} is retired from the core of federation "${map.cluster}" (${map.servers.length} servers); it stays a member`,
          `  replicas moved off ${id}: ${moved.join(", ") || "none (it held none)"}`,
          `On ${id}: systemctl disable --now bustle-nats, install ${join(dir, id)}/node.yaml, systemctl restart bustled (its relay now uses the others).`,
          ...reloadSteps(dir, map),
          `The JetStream meta group still lists ${id} (offline) until a system-account user removes it ($JS.API.SERVER.REMOVE); see docs/federation.md.`,
        ].join("\n") + "\n",
      );
    });
}
