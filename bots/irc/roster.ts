/**
 * Who is in each of our channels, so relayed text can avoid pinging them. Fed from the client's
 * events (NAMES, JOIN, PART, KICK, QUIT, NICK); names are compared in lower case, which is close
 * enough for highlight avoidance.
 */
import type { EventEmitter } from "node:events";

/** Call `attach` once per client; no listeners are added later, so nothing needs removing. */
export class Roster {
  private readonly channels = new Map<string, Set<string>>();

  /** Listens on an irc-framework client (or any emitter with the same event shapes). */
  attach(client: EventEmitter): void {
    client.on("userlist", (e: { channel: string; users: Array<{ nick: string }> }) => {
      this.channels.set(e.channel.toLowerCase(), new Set(e.users.map((u) => u.nick)));
    });
    client.on("join", (e: { channel: string; nick: string }) => this.set(e.channel).add(e.nick));
    client.on("part", (e: { channel: string; nick: string }) => this.remove(e.channel, e.nick));
    client.on("kick", (e: { channel: string; kicked: string }) => this.remove(e.channel, e.kicked));
    client.on("quit", (e: { nick: string }) => {
      for (const ch of this.channels.keys()) this.remove(ch, e.nick);
    });
    client.on("nick", (e: { nick: string; new_nick: string }) => {
      for (const set of this.channels.values()) {
        if (this.drop(set, e.nick)) set.add(e.new_nick);
      }
    });
  }

  /** Nicks currently known in `channel`. */
  nicks(channel: string): string[] {
    return [...(this.channels.get(channel.toLowerCase()) ?? [])];
  }

  /** Forgets everything (after a disconnect; NAMES refills it on rejoin). */
  clear(): void {
    this.channels.clear();
  }

  private set(channel: string): Set<string> {
    const k = channel.toLowerCase();
    let s = this.channels.get(k);
    if (!s) this.channels.set(k, (s = new Set()));
    return s;
  }

  private remove(channel: string, nick: string): void {
    const s = this.channels.get(channel.toLowerCase());
    if (s) this.drop(s, nick);
  }

  private drop(set: Set<string>, nick: string): boolean {
    const lower = nick.toLowerCase();
    for (const n of set) {
      if (n.toLowerCase() === lower) {
        set.delete(n);
        return true;
      }
    }
    return false;
  }
}
