/**
 * The animated feed for a terminal: a dim local time, each node in its own colour, ~names in
 * bold, new lines typed out quickly, and a gentle "listening" indicator while it is quiet.
 * It only ever appends text and clears its own indicator line, so a line is never garbled;
 * when lines come faster than they can be typed it prints them at once to keep up.
 */
import { splitLine, terminalSafe, type Output, type Renderer } from "./render.js";

export interface LiveTerminal extends Output {
  columns?: number;
  getColorDepth?(): number;
}

const ESC = "\u001b[";
const RESET = `${ESC}0m`;
const DIM = `${ESC}2m`;
const BOLD = `${ESC}1m`;
const CLEAR_LINE = `\r${ESC}2K`;
const PASTELS = [212, 117, 156, 222, 183, 216, 159, 229, 147, 210, 121, 225];
const BASIC = [35, 36, 32, 33, 34, 31];
const SPINNER = ["·    ", "··   ", "···  ", " ··· ", "  ···", "   ··", "    ·", "     "];
const FRAME_MS = 16;
const MAX_TYPE_MS = 420;
const IDLE_MS = 180;

interface Segment {
  style: string;
  text: string;
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  // FNV alone clusters short ids; a final mix spreads them over the palette.
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h >>> 0;
}

function localTime(ts: string): string {
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return ts;
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function ago(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 5) return "just now";
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  return `${Math.floor(s / 3600)}h ago`;
}

/** The styled pieces of one line: prefix (time, node) and body (text). */
export function styleLine(line: Buffer, color: (node: string) => string): { prefix: Segment[]; body: Segment[] } {
  const safe = terminalSafe(line);
  const parts = splitLine(safe);
  if (!parts) return { prefix: [], body: [{ style: "", text: safe }] };
  const nodeStyle = color(parts.node);
  const body: Segment[] = [];
  // ~names stand out in their node's colour; a shout's words are bold.
  for (const piece of parts.text.split(/(~[A-Za-z0-9_.-]+|'[^']*'$)/)) {
    if (!piece) continue;
    if (piece.startsWith("~")) body.push({ style: BOLD + nodeStyle, text: piece });
    else if (piece.startsWith("'") && piece.length > 1) body.push({ style: BOLD, text: piece });
    else body.push({ style: "", text: piece });
  }
  return {
    prefix: [
      { style: DIM, text: localTime(parts.ts) + " " },
      { style: nodeStyle, text: parts.node.padEnd(8) + " " },
    ],
    body,
  };
}

const paint = (segs: Segment[]) => segs.map((s) => (s.style ? s.style + s.text + RESET : s.text)).join("");

export interface LiveOptions {
  /** Following: show the listening indicator and type new lines. Default true. */
  follow?: boolean;
}

/** The animated renderer; notices go to `err`. The caller calls close() on exit. */
export function liveRenderer(out: LiveTerminal, err: Output, opts: LiveOptions = {}): Renderer {
  const follow = opts.follow ?? true;
  const many = (out.getColorDepth?.() ?? 8) >= 8;
  const color = (node: string) => {
    const h = hash(node);
    return many ? `${ESC}38;5;${PASTELS[h % PASTELS.length]}m` : `${ESC}${BASIC[h % BASIC.length]}m`;
  };
  const queue: Buffer[] = [];
  const notices: string[] = []; // held while a line is being typed, so they never split it
  let busy = false;
  let closed = false;
  let indicatorShown = false;
  let frame = 0;
  let lastLineAt: number | undefined;
  let idle: NodeJS.Timeout | undefined;

  const whole = (line: Buffer) => {
    const s = styleLine(line, color);
    return paint([...s.prefix, ...s.body]);
  };
  const clearIndicator = () => {
    if (indicatorShown) out.write(CLEAR_LINE);
    indicatorShown = false;
  };
  const drawIndicator = () => {
    if (closed || busy || !follow) return;
    const since = lastLineAt === undefined ? "" : ` · last bustle ${ago(Date.now() - lastLineAt)}`;
    const text = `${SPINNER[frame++ % SPINNER.length]} listening${since}`;
    const width = Math.max(10, (out.columns ?? 80) - 1);
    out.write(`${CLEAR_LINE}${DIM}${text.slice(0, width)}${RESET}`);
    indicatorShown = true;
  };
  const startIdle = () => {
    if (closed || !follow) return;
    drawIndicator();
    idle ??= setInterval(drawIndicator, IDLE_MS);
    idle.unref?.();
  };
  const stopIdle = () => {
    if (idle) clearInterval(idle);
    idle = undefined;
    clearIndicator();
  };
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

  async function type(line: Buffer): Promise<void> {
    const { prefix, body } = styleLine(line, color);
    out.write(paint(prefix));
    const cells = body.flatMap((s) => Array.from(s.text, (ch) => ({ style: s.style, ch })));
    const frames = Math.max(1, Math.round(Math.min(MAX_TYPE_MS, cells.length * 8) / FRAME_MS));
    const per = Math.ceil(cells.length / frames);
    for (let i = 0; i < cells.length && !closed; i += per) {
      // Catch up at once when more lines are waiting: alive, but never behind.
      const n = queue.length > 1 ? cells.length - i : per;
      let chunk = "";
      for (const c of cells.slice(i, i + n)) chunk += c.style ? c.style + c.ch + RESET : c.ch;
      out.write(chunk);
      if (n !== per) break;
      if (i + per < cells.length) await sleep(FRAME_MS);
    }
    out.write(RESET + "\n");
  }

  async function pump(): Promise<void> {
    busy = true;
    stopIdle();
    while (queue.length && !closed) {
      const line = queue.shift()!;
      if (queue.length > 3) out.write(whole(line) + "\n");
      else await type(line);
      lastLineAt = Date.now();
      for (const n of notices.splice(0)) err.write(n);
    }
    busy = false;
    startIdle();
  }

  if (follow) out.write(`${ESC}?25l`); // hide the cursor while the indicator owns the last line
  return {
    backlog(lines) {
      clearIndicator();
      if (lines.length) out.write(lines.map(whole).join("\n") + "\n");
      if (!busy) startIdle();
    },
    line(line) {
      queue.push(line);
      if (!busy) void pump();
    },
    notice(text) {
      const line = `${DIM}bustle: ${text}${RESET}\n`;
      if (busy) {
        notices.push(line);
        return;
      }
      clearIndicator();
      err.write(line);
      startIdle();
    },
    close() {
      if (closed) return;
      closed = true;
      stopIdle();
      for (const n of notices.splice(0)) err.write(n);
      if (follow) out.write(`${RESET}${ESC}?25h`);
    },
  };
}
