/**
 * Paths of the compiled project, found from this file's own location so tests and benchmarks
 * work from any build folder (dist/ or a private build/<name>/).
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The compiled tree's root (the folder holding cluster/, relay/, bots/, control/). */
export const buildRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** A compiled program, e.g. bin("relay/bin/bustled.js"). */
export const bin = (rel: string): string => join(buildRoot, rel);
