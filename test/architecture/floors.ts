/**
 * The floors of the tree, in one place: which top-level folder may import which. Imports point
 * down only; folders on the same floor (relay/ and bots/) do not import each other. The import
 * check (imports.test.ts) reads this table, and every folder's README.md says the same in words.
 *
 *   federation/   bustle-cluster: init, up, status, members, servers       (top)
 *   control/      bustle-control: the supervisor, leases, the admin API
 *   relay/ bots/  one node's relay (bustled, bustle) | what carries bustle out and back
 *   cluster/      the bus: envelope, names, connection, stream, nats-server, config machinery
 *
 * bench/ stands beside the programs: it may import every production floor (and the launcher in
 * it), never test/. test/ may import anything, including its own support/.
 */

export type Floor = "cluster" | "relay" | "bots" | "control" | "federation" | "bench" | "test" | "types";

const PRODUCTION: Floor[] = ["cluster", "relay", "bots", "control", "federation"];

/** What a file in each top-level folder may import besides its own folder. */
export const MAY_IMPORT: Record<Floor, readonly Floor[]> = {
  types: [],
  cluster: ["types"],
  relay: ["types", "cluster"],
  bots: ["types", "cluster"],
  control: ["types", "cluster", "bots"],
  federation: ["types", "cluster", "relay", "bots", "control"],
  bench: ["types", ...PRODUCTION],
  test: ["types", ...PRODUCTION, "bench"],
};

/**
 * Modules a floor publishes to a floor it does not stand under. Each entry is a deliberate
 * interface, with the reason it is not on a lower floor.
 */
export const PUBLISHED: { module: string; to: Floor; why: string }[] = [
  {
    module: "relay/config.ts",
    to: "control",
    why:
      "node.yaml is the relay's file and its schema is composed from the relay's own sections (spool, ambient with its globs); " +
      "a control server with `nats: {config: node.yaml}` borrows the node's id, connection and state dir and must refuse the " +
      "node.yaml the relay would refuse, so it loads it with the relay's one published loader (relay/README.md)",
  },
];

/**
 * Known violations being fixed by a colleague's work in progress: each names the file, the
 * module it imports and why it is tolerated for now. The list should be empty.
 */
export const ALLOWED: { file: string; imports: string; why: string }[] = [];

export const FLOORS = Object.keys(MAY_IMPORT) as Floor[];
