/**
 * How feed lines reach the terminal. Plain output is the log's bytes exactly (a pipe, `--plain`,
 * `NO_COLOR`); on a terminal anything that could steer it is stripped first, even though the log
 * is meant to be safe already. The animated renderer lives in live.ts.
 */
import { displaySafe } from "../../cluster/text.js";

/** What the feed hands its output to. `close()` leaves the terminal as it found it. */
export interface Renderer {
  /** The tail shown at start-up: printed at once, never animated. */
  backlog(lines: Buffer[]): void;
  /** A new line from the follower. */
  line(line: Buffer): void;
  /** A one-line message about the log itself (missing, truncated, …), for stderr. */
  notice(text: string): void;
  close(): void;
}

export interface Output {
  write(data: string | Uint8Array): unknown;
}

/** A line as safe terminal text: no control, invisible or line-breaking characters (tabs kept), no escape sequences. */
export const terminalSafe = (line: Buffer): string => displaySafe(line.toString("utf8"));

const NL = Buffer.from("\n");

/** Lines as they are; `stripControls` when the output is a terminal. */
export function plainRenderer(out: Output, err: Output, stripControls: boolean): Renderer {
  const one = (line: Buffer) =>
    stripControls ? out.write(terminalSafe(line) + "\n") : out.write(Buffer.concat([line, NL]));
  return {
    backlog(lines) {
      if (lines.length === 0) return;
      if (stripControls) out.write(lines.map((l) => terminalSafe(l) + "\n").join(""));
      else out.write(Buffer.concat(lines.flatMap((l) => [l, NL])));
    },
    line: one,
    notice: (text) => err.write(`bustle: ${text}\n`),
    close() {},
  };
}

/** `<ts> <node> <text>` split up; undefined for a line of another shape. */
export function splitLine(text: string): { ts: string; node: string; text: string } | undefined {
  const m = /^(\S+) (\S+) (.*)$/.exec(text);
  return m ? { ts: m[1]!, node: m[2]!, text: m[3]! } : undefined;
}
