/** `bustle status` for people: a short aligned report. Everything printed is made terminal-safe. */
import { hasError } from "../../cluster/health.js";
import type { Health } from "../health.js";
import type { DiskFaultRecord } from "../disk-fault.js";
import { sanitizeText } from "../../cluster/text.js";

const safe = (s: string | undefined) => (s === undefined ? "" : sanitizeText(s, 300).text);

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

const row = (label: string, text: string) => `${label.padEnd(10)}${text}\n`;
const more = (text: string) => `${" ".repeat(12)}${text}\n`;

/** The human report for `health` of node `node`. */
export function formatHealth(h: Health, node: { id: string; name?: string | undefined; logPath: string }): string {
  let out = `bustle status: node ${safe(node.id)}${node.name ? ` (${safe(node.name)})` : ""}\n`;
  const c = h.connection;
  const rtt = c.rttMs === undefined ? "" : `, rtt ${c.rttMs} ms`;
  out += row(
    "nats",
    `connected to ${safe(c.server)} (server ${safe(c.serverName)}, nats-server ${safe(c.version)}${rtt})${c.jetstream ? "" : " — JetStream is OFF"}`,
  );
  if (c.cluster) {
    // Federations made by `bustle-cluster init` do not advertise server addresses
    // (no_advertise); then the servers this node was configured with are what it can fail over to.
    const urls = c.connectUrls.length ? c.connectUrls : c.knownServers;
    const how = c.connectUrls.length ? "advertised to clients" : "in this node's server list";
    out += row("cluster", `${safe(c.cluster)}: ${urls.length} server${urls.length === 1 ? "" : "s"} ${how}`);
    for (const u of urls) out += more(safe(u));
  } else {
    out += row("cluster", "none (a single server)");
  }

  const s = h.stream;
  if (hasError(s)) {
    out += row("stream", safe(s.error));
  } else {
    const span = s.messages ? `, seq ${s.firstSeq}..${s.lastSeq}` : "";
    const last = s.lastTs ? `, newest ${safe(s.lastTs)}` : "";
    out += row(
      "stream",
      `${s.name}: ${s.messages} event${s.messages === 1 ? "" : "s"} (${bytes(s.bytes)})${span}${last}`,
    );
    out += row("replicas", `${s.replicas} configured, leader ${safe(s.leader) || "none"}`);
    for (const p of s.peers) {
      const state = p.leader ? "leader" : p.offline ? "OFFLINE" : p.current ? "current" : "catching up";
      const detail = p.leader ? "" : `  lag ${p.lag}, seen ${(p.activeMs / 1000).toFixed(1)} s ago`;
      out += more(`${safe(p.name).padEnd(16)} ${state}${detail}`);
    }
  }

  const pos = h.logPosition;
  if (pos) {
    if (hasError(pos)) out += row("log", `${safe(node.logPath)}: ${safe(pos.error)}`);
    else {
      const lag =
        pos.lag === undefined
          ? "stream head unknown"
          : pos.lag === 0
            ? "up to date"
            : `${pos.lag} event${pos.lag === 1 ? "" : "s"} behind the stream`;
      out += row("log", `${safe(node.logPath)} at seq ${pos.seq} (${bytes(pos.size)}): ${lag}`);
    }
  }
  const ev = h.lastEvent;
  if (ev) out += row("last", hasError(ev) ? safe(ev.error) : ev.line === undefined ? "(no events yet)" : safe(ev.line));
  return out;
}

/** The `disk` row: fine, or the fault bustled is waiting out (written by relay/disk-fault.ts). */
export function formatDiskFault(f: DiskFaultRecord | undefined): string {
  if (!f) return row("disk", "ok");
  const more = f.more ? ` (and ${f.more} more path${f.more === 1 ? "" : "s"})` : "";
  return row(
    "disk",
    `FAULT since ${safe(f.since)}: cannot write ${safe(f.path)}${more}: ${safe(f.code)} — new events wait until it takes writes again`,
  );
}
