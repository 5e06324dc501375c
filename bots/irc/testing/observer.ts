/**
 * An independent witness in a channel: Debian's `ii`, a minimal client that writes what it sees
 * to `<dir>/<server>/<#channel>/out` as `<epoch> <nick> text` lines. Tests read that file to see
 * exactly what other people in the channel would see.
 */
import { isRunning, stopChild } from "../../../cluster/child.js";
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, constants, existsSync, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "../../../cluster/wait-for.js";

/** One line of ii's channel log. */
export interface SeenLine {
  /** The sender's nick, or "-!-" for server notices (joins, quits, kicks). */
  nick: string;
  text: string;
  raw: string;
}

/** `connect()` then `join()`; the test calls `stop()` (ii also exits when the server goes away). */
export class Observer {
  private child: ChildProcess | undefined;

  private constructor(readonly dir: string, readonly nick: string) {}

  /** Connects `ii` to 127.0.0.1:port as `nick`; resolves once it can take commands. */
  static async connect(dir: string, port: number, nick = "observer"): Promise<Observer> {
    const o = new Observer(dir, nick);
    o.child = spawn("ii", ["-s", "127.0.0.1", "-p", String(port), "-n", nick, "-i", dir], { stdio: "ignore" });
    const serverIn = join(dir, "127.0.0.1", "in");
    await waitFor(() => existsSync(serverIn) && /\b001\b|Welcome/i.test(o.serverOut()), 15_000, `ii (${nick}) registered`);
    return o;
  }

  get running(): boolean {
    return isRunning(this.child);
  }

  serverOut(): string {
    try {
      return readFileSync(join(this.dir, "127.0.0.1", "out"), "utf8");
    } catch {
      return "";
    }
  }

  /** Writes a line to a FIFO ii reads (the server's, or a channel's to speak there). */
  async write(line: string, channel?: string): Promise<void> {
    const fifo = channel ? join(this.dir, "127.0.0.1", channel.toLowerCase(), "in") : join(this.dir, "127.0.0.1", "in");
    // Non-blocking open: fails (ENXIO) while ii has no reader on it; retry until it does.
    const fd = await waitFor(() => {
      try {
        return openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK) + 1;
      } catch {
        return 0;
      }
    }, 10_000, `ii's input ${fifo}`);
    try {
      writeSync(fd - 1, line + "\n");
    } finally {
      closeSync(fd - 1);
    }
  }

  /** Joins `channel` and waits until ii has seen its own join. */
  async join(channel: string): Promise<void> {
    await this.write(`/j ${channel}`);
    await waitFor(() => this.seen(channel).some((l) => l.nick === "-!-" && l.text.includes(`${this.nick}(`) && /joined/.test(l.text)), 10_000, `${this.nick} joined ${channel}`);
  }

  /** Says `text` in `channel` (which ii must have joined). */
  say(channel: string, text: string): Promise<void> {
    return this.write(text, channel);
  }

  /** Everything ii has written for `channel` so far. */
  seen(channel: string): SeenLine[] {
    let text = "";
    try {
      text = readFileSync(join(this.dir, "127.0.0.1", channel.toLowerCase(), "out"), "utf8");
    } catch {
      return [];
    }
    return text.split("\n").filter(Boolean).map((raw) => {
      const m = /^\d+ (\S+) ?(.*)$/.exec(raw);
      const nick = m?.[1] ?? "";
      return { nick: nick.replace(/^<|>$/g, ""), text: m?.[2] ?? raw, raw };
    });
  }

  /** Lines `nick` said in `channel`. */
  said(channel: string, nick: string): string[] {
    return this.seen(channel).filter((l) => l.nick === nick).map((l) => l.text);
  }

  /** True when the server told ii that `nick` quit with a reason matching `reason`. */
  sawQuit(nick: string, reason: RegExp = /.*/): boolean {
    return this.serverOut().split("\n").some((l) => l.includes(` -!- ${nick}(`) && / has quit/.test(l) && reason.test(l));
  }

  async stop(): Promise<void> {
    await stopChild(this.child, 3_000);
  }
}
