/**
 * The bots one control server supervises, from its two sources: its control.yaml and the
 * federation's stored list (when there is a valid one), combined by effectiveBots. accept()
 * takes in each stored revision the follower hands over; config() says what to supervise now.
 */
import { ConfigError } from "../../cluster/errors.js";
import type { Logger } from "../../cluster/logger.js";
import type { Registry } from "../../bots/registry.js";
import type { ControlConfig } from "../config/control-config.js";
import { parseStoredBots, type Revision } from "./document.js";
import { effectiveBots, withBots, type StoredBots } from "./effective.js";

export class BotsSource {
  private stored: StoredBots | undefined;
  private readonly toldSkipped = new Set<string>();

  constructor(
    private file: ControlConfig,
    private readonly registry: Registry,
    private readonly log: Logger,
  ) {}

  /** A re-read control.yaml (SIGHUP). */
  setFile(file: ControlConfig): void {
    this.file = file;
  }

  /** Takes a stored revision in; false when it changes nothing (unreadable or invalid: logged, the bots running keep running). */
  accept(r: Revision): boolean {
    if (r.deleted) {
      this.stored = undefined;
      this.log.warn("the federation's bots config was deleted; back to control.yaml's bots", { revision: r.revision });
      return true;
    }
    if (!r.doc) {
      this.log.error(
        `the federation's bots config revision ${r.revision} is not a bots document this server reads; keeping the bots it runs`,
      );
      return false;
    }
    try {
      this.stored = {
        revision: r.revision,
        specs: parseStoredBots(r.doc.bots, this.registry, `federation bots config revision ${r.revision}`),
      };
    } catch (err) {
      this.log.error(
        `the federation's bots config revision ${r.revision} is not used, the bots running keep running: ${err instanceof ConfigError ? err.problems.join("; ") : String(err)}`,
      );
      return false;
    }
    const a = r.doc.applied;
    this.log.info("following the federation's bots config", {
      revision: r.revision,
      applied: `${a.user} (${a.unix}@${a.host}) at ${a.at}`,
      follow: this.file.federation.bots,
    });
    return true;
  }

  /** `file` (default this server's control.yaml) with the bots to supervise; a stored bot that cannot run here is said once. */
  config(file: ControlConfig = this.file): ControlConfig {
    const e = effectiveBots(file, this.stored, this.registry);
    for (const s of e.skipped) {
      const key = `${e.source} ${s.id}`;
      if (this.toldSkipped.has(key)) continue;
      this.toldSkipped.add(key);
      this.log.error(
        `bot ${s.id} of the federation's bots config (revision ${e.source}) cannot run on this node, not campaigning for it here: ${s.why}`,
      );
    }
    return withBots(file, e.bots);
  }
}
