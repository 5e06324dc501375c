/** `bustle-cluster status`: routes, meta leader, stream replicas and lag, and nodes' log positions. */
import { Command } from "commander";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { ConfigError } from "../../errors.js";
import { defaultNodeId, locateNode } from "../../config/node-location.js";

export function statusCommand(): Command {
  return new Command("status")
    .description("report the federation: routes up, JetStream meta leader, stream replicas and lag, each node's log against the stream head")
    .option("-c, --config <file>", "a node.yaml to connect with (its folder's cluster.json names the servers; default $BUSTLE_CONFIG, else /etc/bustle/node.yaml, else the node running on this machine)")
    .option("--dir <dir>", "a folder made by `bustle-cluster up` or `init`: report every node in it")
    .option("--state <dir>", "this node's state dir (for its log position), when node.yaml does not set state.dir")
    .option("--json", "print the report as JSON")
    .action(async (opts: { config?: string; dir?: string; state?: string; json?: boolean }) => {
      const { readMap, readNodeFile, gatherFederationStatus } = await import("../status.js");
      let node;
      let map;
      let positions: { id: string; file: string }[] = [];
      if (opts.dir) {
        const dir = resolve(opts.dir);
        const first = existsSync(dir) ? readdirSync(dir).find((d) => existsSync(join(dir, d, "cluster.json")) && existsSync(join(dir, d, "node.yaml"))) : undefined;
        if (!first) throw new ConfigError(`${dir}: no node folders (with cluster.json and node.yaml) — is it a folder made by bustle-cluster init or up?`);
        map = readMap(join(dir, first));
        const ids = [...(map?.servers.map((s) => s.id) ?? []), ...(map?.members ?? [])];
        const local = ids.find((id) => existsSync(join(dir, id, "node.yaml"))) ?? first;
        node = readNodeFile(join(dir, local, "node.yaml"));
        positions = ids.filter((id) => existsSync(join(dir, id, "state"))).map((id) => ({ id, file: join(dir, id, "state", "log-position.json") }));
      } else {
        const where = locateNode(opts.config);
        if (where.file !== undefined) {
          const file = resolve(where.file);
          if (!existsSync(file)) throw new ConfigError(`${file} does not exist: give --config FILE (a node.yaml) or --dir DIR`);
          node = readNodeFile(file);
          map = readMap(dirname(file));
        } else {
          // No node.yaml: the node running on this machine with the embedded default.
          node = { file: join(where.dataDir, "node.yaml"), id: defaultNodeId(), nats: { port: 4222 }, stateDir: join(where.dataDir, "state") };
        }
        const state = opts.state ? resolve(opts.state) : node.stateDir;
        if (state) positions = [{ id: node.id, file: join(state, "log-position.json") }];
      }
      const st = await gatherFederationStatus({ node, map, positions });
      if (opts.json) process.stdout.write(JSON.stringify(st, null, 2) + "\n");
      else process.stdout.write((await import("../status-format.js")).formatFederationStatus(st));
    });
}
