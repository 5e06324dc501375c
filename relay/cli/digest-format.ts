/** The digest in a few friendly lines, and the spans it speaks of ("1 hour 30 minutes"). */
import type { DigestSummary } from "./digest-summary.js";

const UNITS: Array<[string, number]> = [
  ["day", 86_400_000],
  ["hour", 3_600_000],
  ["minute", 60_000],
];

/** The largest unit and the next one, rounded down: "2 days 3 hours", "45 minutes", "less than a minute". */
export function humanSpan(ms: number): string {
  const counts = UNITS.map(([name, size], i) => {
    const above = i === 0 ? Infinity : UNITS[i - 1]![1];
    return { name, n: Math.floor((Math.max(0, ms) % above) / size) };
  });
  const first = counts.findIndex((c) => c.n > 0);
  if (first < 0) return "less than a minute";
  return counts
    .slice(first, first + 2)
    .filter((c) => c.n > 0)
    .map((c) => `${c.n} ${c.name}${c.n === 1 ? "" : "s"}`)
    .join(" ");
}

const UNCOUNTABLE = new Set(["activity", "chat", "ttbp", "other"]);
const plural = (kind: string, n: number) =>
  n === 1 || UNCOUNTABLE.has(kind) ? kind : /(s|sh|ch|x)$/.test(kind) ? `${kind}es` : `${kind}s`;

function list(items: string[]): string {
  return items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

const MAX_NAMES = 8;

/** `span` says what was looked at: "since you last looked 2 hours ago", "in the last 3 hours". */
export function formatDigest(s: DigestSummary, span: string, now: number): string {
  if (s.events === 0) return `all quiet ${span}\n`;
  const kinds = [...s.kinds]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, n]) => `${n} ${plural(k, n)}`);
  const out = [`while you were away (${span}): ${s.events} event${s.events === 1 ? "" : "s"} — ${kinds.join(", ")}`];
  const users = [...s.users].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([u]) => `~${u}`);
  const shown = users.length > MAX_NAMES ? [...users.slice(0, MAX_NAMES), `${users.length - MAX_NAMES} more`] : users;
  const tildes = [...s.nodes].sort();
  out.push(users.length ? `around: ${list(shown)}, on ${list(tildes)}` : `from ${list(tildes)}`);
  if (s.shouts.length) {
    out.push(s.shouts.length === 1 ? "the last shout:" : `the last ${s.shouts.length} shouts:`);
    for (const sh of s.shouts) out.push(`  ${sh.text} (${sh.node}, ${humanSpan(now - Date.parse(sh.ts))} ago)`);
  }
  return `${out.join("\n")}\n`;
}
