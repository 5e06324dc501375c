/**
 * Which bots a control server supervises: its control.yaml's `bots:`, or — when the federation
 * has a stored list and the file's `federation.bots` is `follow` (the default) — the stored list,
 * with this file's `federation.pin` entries in place of (or beside) the stored ones and the
 * `federation.disable` ids left out. A stored bot this node may run but whose type's own checks
 * fail here (a secret not set, a program not on PATH) is skipped on this node only: another
 * control server may run it.
 */
import type { Registry } from "../../bots/registry.js";
import type { BotSpec } from "../config/bots.js";
import type { ControlConfig } from "../config/control-config.js";

/** A stored list, validated. */
export interface StoredBots {
  revision: number;
  specs: readonly BotSpec[];
}

export interface EffectiveBots {
  bots: BotSpec[];
  /** "local" (this file's list) or the stored revision followed. */
  source: "local" | number;
  /** Stored bots this node does not run, and why. */
  skipped: Array<{ id: string; why: string }>;
}

const runsHere = (spec: BotSpec, node: string) => spec.common.enabled && (spec.common.placement?.node ?? node) === node;

/** `registry` undefined: no type checks (the CLI lists and steers bots; it does not run them). */
export function effectiveBots(
  local: ControlConfig,
  stored: StoredBots | undefined,
  registry: Registry | undefined,
): EffectiveBots {
  const { pin, disable } = local.federation;
  const keep = (b: BotSpec) => !disable.includes(b.common.id);
  if (!stored || local.federation.bots === "ignore")
    return { bots: local.bots.filter(keep), source: "local", skipped: [] };
  const skipped: EffectiveBots["skipped"] = [];
  const fromStore = stored.specs
    .filter((b) => keep(b) && !pin.includes(b.common.id))
    .filter((b) => {
      if (!registry || !runsHere(b, local.node)) return true;
      const problems = registry[b.common.type]?.check?.(b.section, b.common.id) ?? [];
      if (problems.length) skipped.push({ id: b.common.id, why: problems.join("; ") });
      return problems.length === 0;
    });
  const pinned = local.bots.filter((b) => keep(b) && pin.includes(b.common.id));
  return { bots: [...fromStore, ...pinned], source: stored.revision, skipped };
}

/** `config` with the bots it should supervise (see effectiveBots). */
export const withBots = (config: ControlConfig, bots: readonly BotSpec[]): ControlConfig => ({ ...config, bots });
