/** The feed's filters: `--node ID` (the log line's second field) and `--grep TEXT` (any case). */
import type { LineFilter } from "./tail.js";

export interface FilterOptions {
  node?: string | undefined;
  grep?: string | undefined;
}

/** The node field of `<ts> <node> <text>`, or undefined for a line of another shape. */
export function nodeOf(line: Buffer): string | undefined {
  const a = line.indexOf(0x20);
  if (a < 0) return undefined;
  const b = line.indexOf(0x20, a + 1);
  return line.subarray(a + 1, b < 0 ? line.length : b).toString("utf8");
}

/** A filter for the options, or undefined when every line is kept. */
export function makeFilter(opts: FilterOptions): LineFilter | undefined {
  const node = opts.node?.toLowerCase();
  const grep = opts.grep?.toLowerCase();
  if (!node && !grep) return undefined;
  return (line) => {
    if (node && nodeOf(line) !== node) return false;
    if (grep && !line.toString("utf8").toLowerCase().includes(grep)) return false;
    return true;
  };
}
