/**
 * The animated feed for a terminal: a dim local time, each node in its own colour, ~names in
 * bold, new lines typed out quickly, and a gentle "listening" indicator while it is quiet.
 * Each kind of line has its own manner (mood.ts): shouts burst in bold, the ambient hum drifts
 * in dim, relayed chat and game lines arrive a word at a time behind their origin tag.
 * It only ever appends text and clears its own indicator line, so a line is never garbled;
 * when lines come faster than they can be typed it prints them at once to keep up.
 */
import { ARRIVALS, moodOf, type Mood } from "./mood.js";
import { splitLine, terminalSafe, type Output, type Renderer } from "./render.js";
import { sleep } from "../../cluster/wait-for.js";

export interface LiveTerminal extends Output {
  columns?: number;
  getColorDepth?(): number;
}

const ESC = "\u001b[";
const RESET = `${ESC}0m`;
const DIM = `${ESC}2m`;
const BOLD = `${ESC}1m`;
const ITALIC = `${ESC}3m`;
const CLEAR_LINE = `\r${ESC}2K`;
const PASTELS = [212, 117, 156, 222, 183, 216, 159, 229, 147, 210, 121, 225];
const BASIC = [35, 36, 32, 33, 34, 31];
const SPINNER = ["·    ", "··   ", "···  ", " ··· ", "  ···", "   ··", "    ·", "     "];
const FRAME_MS = 16;
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

/** The styled pieces of one line: prefix (time, node) and body (text), and the line's mood. */
export function styleLine(
  line: Buffer,
  color: (node: string) => string,
): { prefix: Segment[]; body: Segment[]; mood: Mood } {
  const safe = terminalSafe(line);
  const parts = splitLine(safe);
  if (!parts) return { prefix: [], body: [{ style: "", text: safe }], mood: "update" };
  const nodeStyle = color(parts.node);
  const mood = moodOf(parts.text);
  const base = mood === "hum" ? DIM : "";
  const body: Segment[] = [];
  let text = parts.text;
  if (mood === "relayed") {
    const tag = text.slice(0, text.indexOf("] ") + 2);
    body.push({ style: ITALIC + DIM, text: tag });
    text = text.slice(tag.length);
  }
  // ~names stand out in their node's colour; a shout's words are bold (and the whole shout, loud).
  for (const piece of text.split(/(~[A-Za-z0-9_.-]+|'[^']*'$)/)) {
    if (!piece) continue;
    if (piece.startsWith("~")) body.push({ style: base + BOLD + nodeStyle, text: piece });
    else if (piece.startsWith("'") && piece.length > 1)
      body.push({ style: mood === "shout" ? BOLD + nodeStyle : BOLD, text: piece });
    else body.push({ style: mood === "shout" ? BOLD : base, text: piece });
  }
  return {
    prefix: [
      { style: DIM, text: localTime(parts.ts) + " " },
      { style: nodeStyle, text: parts.node.padEnd(8) + " " },
    ],
    body,
    mood,
  };
}

/** The frames a line is typed in: a few characters at a time, or a word at a time. */
export function typingFrames(body: Segment[], mood: Mood): Array<Array<{ style: string; ch: string }>> {
  const cells = body.flatMap((s) => Array.from(s.text, (ch) => ({ style: s.style, ch })));
  const arrival = ARRIVALS[mood];
  if (arrival.byWord) {
    const frames: Array<Array<{ style: string; ch: string }>> = [];
    let word: Array<{ style: string; ch: string }> = [];
    for (const c of cells) {
      word.push(c);
      if (c.ch === " ") {
        frames.push(word);
        word = [];
      }
    }
    if (word.length) frames.push(word);
    return frames;
  }
  const count = Math.max(1, Math.round(Math.min(arrival.maxMs, cells.length * arrival.msPerChar) / FRAME_MS));
  const per = Math.max(1, Math.ceil(cells.length / count));
  const frames = [];
  for (let i = 0; i < cells.length; i += per) frames.push(cells.slice(i, i + per));
  return frames;
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

  async function type(line: Buffer): Promise<void> {
    const { prefix, body, mood } = styleLine(line, color);
    out.write(paint(prefix));
    const frames = typingFrames(body, mood);
    const pause = ARRIVALS[mood].byWord
      ? Math.max(FRAME_MS, Math.round(ARRIVALS[mood].maxMs / Math.max(1, frames.length)))
      : FRAME_MS;
    const cell = (c: { style: string; ch: string }) => (c.style ? c.style + c.ch + RESET : c.ch);
    for (let i = 0; i < frames.length && !closed; i++) {
      // Catch up at once when more lines are waiting: alive, but never behind.
      if (queue.length > 1) {
        out.write(frames.slice(i).flat().map(cell).join(""));
        break;
      }
      out.write(frames[i]!.map(cell).join(""));
      if (i + 1 < frames.length) await sleep(pause);
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
