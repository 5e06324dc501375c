#!/usr/bin/env node
/**
 * The bot host program: one child process per bot, started by `bustle-control serve` with an
 * IPC channel (control/host/host.ts does the work). It never outlives its control server: when
 * the channel goes away it stops the bot, and on exit it takes its whole process group (the
 * bot's own programs) down with it.
 */
import { createLogger } from "../../cluster/logger.js";
import { createHost } from "../host/host.js";

if (!process.send) {
  process.stderr.write("bustle bot host: this program is started by `bustle-control serve`, not by hand\n");
  process.exit(2);
}
const host = createHost({
  send: (m) => {
    if (process.connected) process.send!(m, undefined, {}, () => {});
  },
  exit: (code) => process.exit(code),
  log: createLogger({ component: "bot-host" }),
});
// Never outlive the control server: its lease on this bot ends with it.
process.on("disconnect", () => void host.stop(0, 2_000));
process.on("SIGTERM", () => void host.stop(0, 5_000));
process.on("exit", () => {
  // The host leads its own process group: take any program the bot started down with it.
  try {
    process.kill(-process.pid, "SIGKILL");
  } catch {
    /* not a group leader, or nothing left */
  }
});
process.on("message", (m: unknown) => host.receive(m));
