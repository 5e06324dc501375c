/** Real home directories in a temp folder and a watcher over them, recording what it produces. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BustleEvent } from "../../../cluster/envelope.js";
import { createLogger } from "../../../cluster/logger.js";
import { tempDir, type TempDir } from "../../../cluster/temp.js";
import { memoryAudit } from "../../../relay/audit.js";
import { ambientSectionSchema, type AmbientConfig } from "../../../relay/ambient/config.js";
import { createAmbientWatcher, type AmbientWatcher } from "../../../relay/ambient/watcher.js";

/** Makes `root/<user>` with a few ordinary files and folders, like a real home. */
export function makeHome(root: string, user: string): string {
  const home = join(root, user);
  for (const d of ["public_html", "projects", ".ttbp/entries", ".cache"]) mkdirSync(join(home, d), { recursive: true });
  writeFileSync(join(home, "todo.txt"), "buy milk\n");
  writeFileSync(join(home, "public_html", "index.html"), "<p>hi</p>\n");
  return home;
}

export function ambientConfig(extra: Record<string, unknown> = {}): AmbientConfig {
  const c = ambientSectionSchema.check(extra, ["ambient"], {
    report: (p, m) => {
      throw new Error(`${p.join(".")}: ${m}`);
    },
  });
  if (typeof c === "symbol") throw new Error("bad ambient config");
  return c;
}

export interface Harness {
  tmp: TempDir;
  root: string;
  events: BustleEvent[];
  spools: string[];
  /** Users whose coverage changed, in order, with `watches(user)` right then. */
  coverage: Array<[string, boolean]>;
  logs: Array<Record<string, unknown>>;
  audit: ReturnType<typeof memoryAudit>;
  /** The watcher's clock: real time plus `advance`d milliseconds. */
  advance(ms: number): void;
  watcher: AmbientWatcher;
  close(): Promise<void>;
}

export async function startHarness(
  users: string[],
  config: Record<string, unknown> = {},
  extra: { rescanMs?: number } = {},
): Promise<Harness> {
  const tmp = tempDir("bustle-ambient-");
  const root = join(tmp.path, "home");
  mkdirSync(root);
  for (const u of users) makeHome(root, u);
  const events: BustleEvent[] = [];
  const spools: string[] = [];
  const coverage: Array<[string, boolean]> = [];
  const logs: Array<Record<string, unknown>> = [];
  const audit = memoryAudit();
  let offset = 0;
  const watcher = createAmbientWatcher({
    node: "town",
    homesRoot: root,
    config: ambientConfig(config),
    audit,
    sink: { submit: async (evs) => void events.push(...evs) },
    log: createLogger({ level: "debug", write: (line) => void logs.push(JSON.parse(line)) }),
    clock: () => Date.now() + offset,
    onSpoolChange: (user) => void spools.push(user),
    onCoverageChange: (user) => void coverage.push([user, watcher.watches(user)]),
    ...extra,
  });
  await watcher.start();
  return {
    tmp,
    root,
    events,
    spools,
    coverage,
    logs,
    audit,
    watcher,
    advance: (ms) => void (offset += ms),
    close: async () => {
      await watcher.stop();
      tmp.remove();
    },
  };
}
