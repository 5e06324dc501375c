/**
 * Retiring a core server: its replicas of every stream (BUSTLE, the KV buckets) move to the
 * other servers first — a JetStream peer-remove per stream with the admin credential, which
 * makes the stream place a new replica on a spare server — and only then does the node stop
 * being a server. The tilde stays in the federation as a member (its relay connects to the
 * others). With only three servers there is no spare: add one first (add-server).
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";
import { closeBus } from "../cluster/connection.js";
import { BustleError } from "../cluster/errors.js";
import { connectAdmin } from "../cluster/admin-file.js";
import { ADMIN_ID } from "../cluster/names.js";
import { UsageError, type FederationPlan } from "./plan.js";

/** The plan with core server `id` turned into a member (refused below four servers: the stream needs three). */
export function withServerRetired(plan: FederationPlan, id: string): FederationPlan {
  if (!plan.servers.some((s) => s.id === id))
    throw new UsageError(
      `${id} is not a core server of this federation (servers: ${plan.servers.map((s) => s.id).join(", ")})`,
    );
  if (plan.servers.length <= 3)
    throw new UsageError(
      `retiring ${id} would leave ${plan.servers.length - 1} servers for an R3 stream: add a server first (bustle-cluster add-server)`,
    );
  // Its control server (default: every core server) stays where it was.
  const control = plan.control ?? plan.servers.map((s) => s.id);
  return { ...plan, servers: plan.servers.filter((s) => s.id !== id), members: [...plan.members, id], control };
}

/**
 * Moves every stream replica off server `id` and waits until each stream has its full set of
 * current replicas elsewhere. Returns the streams moved.
 */
export async function moveReplicasOff(dir: string, id: string, timeoutMs = 120_000): Promise<string[]> {
  const nc = await connectAdmin(join(dir, ADMIN_ID, "admin.yaml"), "bustle-cluster retire-server");
  try {
    const jsm = await jetstreamManager(nc, { timeout: 10_000 });
    const on = async () => {
      const out: { name: string; peers: string[]; current: boolean; replicas: number }[] = [];
      for await (const si of jsm.streams.list()) {
        const peers = [si.cluster?.leader, ...(si.cluster?.replicas ?? []).map((r) => r.name)].filter(
          (p): p is string => !!p,
        );
        const current = (si.cluster?.replicas ?? []).every((r) => r.current && !r.offline) && !!si.cluster?.leader;
        out.push({ name: si.config.name, peers, current, replicas: si.config.num_replicas });
      }
      return out;
    };
    const moved: string[] = [];
    for (const s of await on()) {
      if (!s.peers.includes(id)) continue;
      const r = await nc.request(`$JS.API.STREAM.PEER.REMOVE.${s.name}`, JSON.stringify({ peer: id }), {
        timeout: 10_000,
      });
      const answer = r.json<{ success?: boolean; error?: { description?: string } }>();
      if (!answer.success)
        throw new BustleError(
          `stream ${s.name}: the servers refused to move its replica off ${id}: ${answer.error?.description ?? "no reason given"}`,
        );
      moved.push(s.name);
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = (await on()).filter(
        (s) => moved.includes(s.name) && (s.peers.includes(id) || s.peers.length < s.replicas || !s.current),
      );
      if (left.length === 0) return moved;
      if (Date.now() > deadline)
        throw new BustleError(
          `after ${timeoutMs / 1000} s the replicas of ${left.map((s) => s.name).join(", ")} are still not all current elsewhere; ${id} is still a server`,
        );
      await sleep(500);
    }
  } finally {
    await closeBus(nc);
  }
}
