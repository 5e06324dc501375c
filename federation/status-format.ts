/** `bustle-cluster status` for people: one aligned block per part; every string is made terminal-safe. */
import { hasError } from "../cluster/health.js";
import { sanitizeText } from "../cluster/text.js";
import type { FederationStatus } from "./status.js";

const safe = (s: string | undefined) => (s === undefined ? "" : sanitizeText(s, 300).text);
const row = (label: string, text: string) => `${label.padEnd(10)}${text}\n`;
const more = (text: string) => `${" ".repeat(12)}${text}\n`;

export function formatFederationStatus(st: FederationStatus): string {
  const expected = Math.max(0, st.servers.length - 1);
  let out = `bustle-cluster status: cluster ${safe(st.cluster) || "?"}${st.connectedTo ? `, asked via ${safe(st.connectedTo)}` : ""}\n`;
  const asked = st.servers.filter((s) => s.asked !== false);
  out += row(
    "servers",
    st.servers.length
      ? `${asked.filter((s) => s.reachable).length} of ${asked.length} asked answer on their monitoring port`
      : "no monitoring ports known (no cluster.json beside node.yaml)",
  );
  for (const s of st.servers) {
    if (s.asked === false) {
      out += more(`${safe(s.id).padEnd(12)} ${safe(s.error)}`);
      continue;
    }
    if (!s.reachable) {
      out += more(`${safe(s.id).padEnd(12)} UNREACHABLE at ${safe(s.monitor)}: ${safe(s.error)}`);
      continue;
    }
    const routes = `${s.routes.length}/${expected} route${expected === 1 ? "" : "s"}${s.routes.length ? ` (${s.routes.map(safe).join(", ")})` : ""}`;
    const flag = s.routes.length < expected ? "  ROUTES MISSING" : "";
    out += more(
      `${safe(s.id).padEnd(12)} up, nats-server ${safe(s.version)}, ${routes}, ${s.connections ?? 0} client${s.connections === 1 ? "" : "s"}${flag}`,
    );
  }
  const leaders = new Set(st.servers.filter((s) => s.reachable).map((s) => s.metaLeader ?? "none"));
  out += row(
    "meta",
    st.metaLeader
      ? `JetStream meta leader ${safe(st.metaLeader)}${leaders.size > 1 ? `  (servers disagree: ${[...leaders].map(safe).join(", ")})` : ""}`
      : "NO JetStream meta leader (no quorum?)",
  );

  const s = st.stream;
  if (hasError(s)) out += row("stream", safe(s.error));
  else {
    out += row(
      "stream",
      `${s.name}: ${s.messages} events, seq ${s.firstSeq}..${s.lastSeq}, R${s.replicas}, leader ${safe(s.leader) || "none"}`,
    );
    for (const p of s.peers) {
      const state = p.leader ? "leader" : p.offline ? "OFFLINE" : p.current ? "current" : "CATCHING UP";
      out += more(
        `${safe(p.name).padEnd(12)} ${state}${p.leader ? "" : `, lag ${p.lag}, seen ${(p.activeMs / 1000).toFixed(1)} s ago`}`,
      );
    }
  }
  if (st.logs.length) out += row("logs", "each node's bustle.log against the stream head");
  for (const l of st.logs) {
    if (l.error !== undefined) out += more(`${safe(l.id).padEnd(12)} ${safe(l.error)}`);
    else
      out += more(
        `${safe(l.id).padEnd(12)} seq ${l.seq}, ${l.lag === undefined ? "head unknown" : l.lag === 0 ? "up to date" : `${l.lag} behind`}`,
      );
  }
  return out;
}
