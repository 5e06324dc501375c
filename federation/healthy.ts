/**
 * `bustle-cluster status --wait-healthy`: what "healthy" means for a federation, and the wait
 * for it. Healthy is: every asked server answers with a route to every other server, the
 * servers agree on one JetStream meta leader, the BUSTLE stream has a leader and all its
 * replicas current, and every node's log has caught up. Under a steady stream of events a log
 * is never exactly at the head, so a log counts as current once it has reached the head seen
 * by the previous sample (it is keeping up, not stuck).
 */
import { hasError } from "../cluster/health.js";
import { setTimeout as sleep } from "node:timers/promises";
import type { FederationStatus } from "./status.js";

/** What is still unhealthy, one short phrase each; empty when healthy. `headBefore`: the stream head of the previous sample. */
export function unhealthyParts(st: FederationStatus, headBefore?: number): string[] {
  const parts: string[] = [];
  const asked = st.servers.filter((s) => s.asked !== false);
  const expected = Math.max(0, st.servers.length - 1);
  for (const s of asked) {
    if (!s.reachable) parts.push(`server ${s.id} does not answer`);
    else if (s.routes.length < expected) parts.push(`server ${s.id} has ${s.routes.length}/${expected} routes`);
  }
  if (!st.metaLeader) parts.push("no JetStream meta leader");
  else if (new Set(asked.filter((s) => s.reachable).map((s) => s.metaLeader ?? "none")).size > 1)
    parts.push("servers disagree on the meta leader");
  const stream = st.stream;
  if (hasError(stream)) parts.push(stream.error);
  else {
    if (!stream.leader) parts.push(`stream ${stream.name} has no leader`);
    if (stream.peers.length < stream.replicas)
      parts.push(`stream ${stream.name} has ${stream.peers.length}/${stream.replicas} replicas`);
    for (const p of stream.peers)
      if (!p.leader && (p.offline || !p.current))
        parts.push(`replica ${p.name} is ${p.offline ? "offline" : `catching up (lag ${p.lag})`}`);
  }
  for (const l of st.logs) {
    if (l.error !== undefined) parts.push(`log ${l.id}: ${l.error}`);
    else if (l.lag !== 0 && !(headBefore !== undefined && l.seq !== undefined && l.seq >= headBefore))
      parts.push(`log ${l.id} is ${l.lag ?? "?"} behind`);
  }
  return parts;
}

const headOf = (st: FederationStatus) => (hasError(st.stream) ? undefined : st.stream.lastSeq);

/**
 * Samples the federation every `everyMs` until healthy (resolves with the last report and no
 * parts) or `timeoutMs` has passed (resolves with what was still unhealthy). A sample that
 * cannot be taken at all (nothing answers) counts as unhealthy, with its reason.
 */
export async function waitHealthy(
  sample: () => Promise<FederationStatus>,
  timeoutMs: number,
  everyMs = 500,
): Promise<{ status: FederationStatus | undefined; unhealthy: string[] }> {
  const deadline = Date.now() + timeoutMs;
  let headBefore: number | undefined;
  let last: { status: FederationStatus | undefined; unhealthy: string[] } = {
    status: undefined,
    unhealthy: ["not sampled"],
  };
  for (;;) {
    try {
      const st = await sample();
      last = { status: st, unhealthy: unhealthyParts(st, headBefore) };
      headBefore = headOf(st);
    } catch (err) {
      last = { status: undefined, unhealthy: [(err as Error).message] };
    }
    if (last.unhealthy.length === 0 || Date.now() >= deadline) return last;
    await sleep(Math.min(everyMs, Math.max(0, deadline - Date.now())));
  }
}
