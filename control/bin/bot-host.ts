#!/usr/bin/env node
/**
 * The bot host program: one child process per bot, started by `bustle-control serve` with an
 * IPC channel (control/host/host.ts does the work). It never outlives its control server: when
 * the channel goes away it stops the bot, and on exit it takes its whole process group (the
 * bot's own programs) down with it.
 */
import { readdirSync, readFileSync } from "node:fs";
import { createLogger } from "../../cluster/logger.js";
import { runDaemon } from "../../cluster/program.js";
import { createHost } from "../host/host.js";

if (!process.send) {
  process.stderr.write("bustle bot host: this program is started by `bustle-control serve`, not by hand\n");
  process.exit(2);
}
const log = createLogger({ component: "bot-host" });
// The host picks its own exit codes (0 stopped, 1 failed, 3 lease lost) and leaves at once when
// it must, so its exit is the process's exit, not runDaemon's.
const host = createHost({
  send: (m) => {
    if (process.connected) process.send!(m, undefined, {}, () => {});
  },
  exit: (code) => process.exit(code),
  log,
});
// The host leads its own process group: take any program the bot started down with it.
process.on("exit", killGroupButSelf);
await runDaemon(
  {
    start: async () => {
      process.on("message", (m: unknown) => host.receive(m));
      // Never outlive the control server: its lease on this bot ends with it.
      process.on("disconnect", () => void host.stop(0, 2_000));
    },
    stop: () => host.stop(0, 5_000),
  },
  log,
);

/**
 * SIGKILL to every other process of this host's group. Not `kill(-pid)`: that would kill the
 * host too, and its exit code (what the supervisor reports) would always read as SIGKILL.
 */
function killGroupButSelf(): void {
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // After "(comm)": state, ppid, pgrp, …
      const pgrp = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
      if (pgrp === process.pid) process.kill(pid, "SIGKILL");
    } catch {
      /* gone meanwhile */
    }
  }
}
