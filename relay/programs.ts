/**
 * Where the relay's compiled programs are, for whoever starts one from a floor above
 * (`bustle-cluster up`, tests, benchmarks): the path is the relay's to know, not theirs.
 */
import { fileURLToPath } from "node:url";

/** The node daemon, `bustled`. */
export const BUSTLED_PATH = fileURLToPath(new URL("./bin/bustled.js", import.meta.url));
/** The user command, `bustle`. */
export const BUSTLE_PATH = fileURLToPath(new URL("./bin/bustle.js", import.meta.url));
