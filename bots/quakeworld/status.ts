/**
 * A server's answer to `status 23`: the serverinfo line (`\key\value…`) and one line per client,
 * `userid frags minutes ping "name" "skin" top bottom "team"`. Spectators show frags -9999 and
 * a `\s\` before the name. Names become readable text here; anything malformed is skipped.
 */
import { quakeStringToText } from "./charset.js";

export const STATUS_QUERY = "status 23\n";

export interface QwClientInfo {
  userid: number;
  frags: number;
  minutes: number;
  /** Readable, sanitised. */
  name: string;
  team: string;
  spectator: boolean;
}

export interface QwStatus {
  /** Serverinfo, keys and values readable and sanitised. */
  info: Record<string, string>;
  map: string;
  hostname: string;
  maxclients: number;
  players: QwClientInfo[];
  spectators: QwClientInfo[];
}

const LINE = /^(-?\d+) (-?\d+|S) (-?\d+) (-?\d+) "(.*)" "([^"]*)" (-?\d+) (-?\d+)(?: "([^"]*)")?/;
const MAX_CLIENT_LINES = 64;

/** Parses a status reply (the payload after the 0xff prefix, starting with `n`). */
export function parseStatus(payload: Buffer): QwStatus | undefined {
  if (payload[0] !== 0x6e /* n */) return undefined;
  const text = payload
    .subarray(1)
    .toString("latin1")
    .replace(/\0[\s\S]*$/, "");
  const lines = text.split("\n");
  const first = lines.shift() ?? "";
  if (!first.startsWith("\\")) return undefined;
  const info: Record<string, string> = {};
  const parts = first.split("\\").slice(1);
  for (let i = 0; i + 1 < parts.length && i < 256; i += 2) {
    const key = quakeStringToText(parts[i]!, 64);
    if (key) info[key] = quakeStringToText(parts[i + 1]!, 128);
  }
  const players: QwClientInfo[] = [];
  const spectators: QwClientInfo[] = [];
  for (const line of lines.slice(0, MAX_CLIENT_LINES)) {
    const m = LINE.exec(line);
    if (!m) continue;
    let rawName = m[5]!;
    const spectator = m[2] === "S" || m[2] === "-9999" || rawName.startsWith("\\s\\");
    if (rawName.startsWith("\\s\\")) rawName = rawName.slice(3);
    const client: QwClientInfo = {
      userid: Number(m[1]),
      frags: m[2] === "S" ? 0 : Number(m[2]),
      minutes: Number(m[3]),
      name: quakeStringToText(rawName, 32) || "unnamed",
      team: quakeStringToText(m[9] ?? "", 16),
      spectator,
    };
    (spectator ? spectators : players).push(client);
  }
  const maxclients = Number.parseInt(info.maxclients ?? "", 10);
  return {
    info,
    map: info.map ?? "",
    hostname: info.hostname ?? "",
    maxclients: Number.isFinite(maxclients) && maxclients > 0 ? maxclients : 0,
    players,
    spectators,
  };
}
