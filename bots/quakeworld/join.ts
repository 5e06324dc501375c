/**
 * The client's side of joining a QuakeWorld server, once the netchan is up: answer serverdata
 * with the sound and model lists, prove the map at prespawn, follow the commands the server
 * stuffs (`cmd spawn …`, `skins` → `begin`), and notice the first entity frame after `begin`
 * (the server only sends those to spawned clients). Map changes (`changing`, `reconnect`) run
 * the sequence again. It also keeps the players' names by slot for the chat parser.
 * No sockets here: commands go out through `hooks`.
 */
import type { Logger } from "../../cluster/logger.js";
import type { ServerMessage } from "./svc.js";

/** Commands the server may ask us to send back during the join sequence; anything else is ignored. */
const JOIN_COMMANDS = new Set(["new", "soundlist", "modellist", "prespawn", "spawn", "begin"]);
const MAX_SLOTS = 64;

export interface JoinHooks {
  /** Queue a client command on the reliable channel. */
  command(text: string): void;
  /** Send a connectionless packet to the server (real-IP check). */
  oob(text: string): void;
  print?: (level: number, text: Buffer, names: ReadonlyMap<number, string>) => void;
  mapChecksum?: ((modelPath: string) => Promise<number | undefined>) | undefined;
  /** The server refused our map checksum (sv_mapcheck 1). */
  onMapRefused?: (modelPath: string | undefined) => void;
  log: Logger;
}

export type JoinStep = "joined" | "left" | "disconnect" | undefined;

export class JoinSequence {
  /** Raw (Quake-charset) names of the clients on the server, by slot. */
  readonly names = new Map<number, string>();
  private servercount = 0;
  private begun = false;
  private mapModel: string | undefined;

  constructor(private readonly hooks: JoinHooks) {}

  start(): void {
    this.hooks.command("new");
  }

  handle(m: ServerMessage): JoinStep {
    switch (m.type) {
      case "serverdata":
        this.servercount = m.servercount;
        this.begun = false;
        this.hooks.command(`soundlist ${m.servercount} 0`);
        return "left";
      case "soundlist":
        this.hooks.command(m.next ? `soundlist ${this.servercount} ${m.next}` : `modellist ${this.servercount} 0`);
        return undefined;
      case "modellist":
        if (m.first !== undefined) this.mapModel = m.first;
        if (m.next) this.hooks.command(`modellist ${this.servercount} ${m.next}`);
        else void this.prespawn(this.servercount, this.mapModel);
        return undefined;
      case "stufftext":
        return this.stuffed(m.text);
      case "print":
        if (m.text.includes("Map model file does not match")) this.hooks.onMapRefused?.(this.mapModel);
        this.hooks.print?.(m.level, m.text, this.names);
        return undefined;
      case "userinfo": {
        if (m.slot >= MAX_SLOTS) return undefined;
        const name = /\\name\\([^\\]*)/.exec(m.info)?.[1];
        if (name !== undefined && m.info) this.names.set(m.slot, name);
        else this.names.delete(m.slot);
        return undefined;
      }
      case "setinfo":
        if (m.key === "name" && m.slot < MAX_SLOTS) this.names.set(m.slot, m.value);
        return undefined;
      case "disconnect":
        return "disconnect";
      case "frame":
        if (!this.begun) return undefined;
        this.begun = false;
        return "joined";
    }
  }

  private async prespawn(servercount: number, model: string | undefined): Promise<void> {
    const sum =
      model && this.hooks.mapChecksum ? await this.hooks.mapChecksum(model).catch(() => undefined) : undefined;
    if (servercount === this.servercount) this.hooks.command(`prespawn ${servercount} 0 ${sum ?? 0}`);
  }

  /** Commands the server stuffs into a client's console: only the join sequence is acted on. */
  private stuffed(text: string): JoinStep {
    this.hooks.log.debug("server stuffed", { text: text.slice(0, 200) });
    let step: JoinStep;
    for (const line of text.split("\n")) {
      const words = line.trim().split(/\s+/);
      if (words[0] === "cmd" && words[1] === "pext")
        this.hooks.command("pext"); // no protocol extensions
      else if (words[0] === "cmd" && JOIN_COMMANDS.has(words[1] ?? "")) this.hooks.command(words.slice(1).join(" "));
      else if (words[0] === "skins") {
        this.hooks.command(`begin ${this.servercount}`);
        this.begun = true;
      } else if (words[0] === "changing") {
        this.begun = false;
        step = "left";
      } else if (words[0] === "reconnect") this.hooks.command("new");
      else if (words[0] === "packet") {
        // Real-IP check (sv_getrealip): answered to the server itself, never to a third address.
        const m = /^packet\s+\S+\s+"(ip \d+ \d+)"/.exec(line.trim());
        if (m) this.hooks.oob(m[1]!);
      }
    }
    return step;
  }
}
