/**
 * CPU time of another process, read from /proc/<pid>/stat (user + system of all its threads,
 * in clock ticks of 10 ms): what the benchmarks divide by events to report CPU per event.
 */
import { readFileSync, readdirSync } from "node:fs";

/** Clock ticks per second of /proc's utime/stime (USER_HZ; 100 on every Linux we run on). */
const TICKS_PER_SECOND = 100;

/** The pid of the process whose command line contains `needle` (e.g. a node.yaml path). */
export function findPid(needle: string): number | undefined {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (cmdline.includes(needle)) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** user + system CPU milliseconds used so far by `pid` (all threads). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(rest[11]) + Number(rest[12])) * 1000) / TICKS_PER_SECOND;
}

/** Measures the CPU `pid` spends while `run` runs. */
export async function cpuDuring<T>(pid: number, run: () => Promise<T>): Promise<{ result: T; cpuMs: number }> {
  const before = cpuMs(pid);
  const result = await run();
  return { result, cpuMs: cpuMs(pid) - before };
}
