/**
 * Parsing what a QuakeWorld server sends a client (protocol 28, no extensions asked for). A
 * packet holds messages back to back with no lengths, so every message type that can reach a
 * spectator is walked; the few the bot needs come back as values. An unknown type or a short
 * message ends the packet (the rest cannot be framed) and is reported, never thrown further.
 */
import { MsgReader, ShortMessage } from "./msg.js";

export type ServerMessage =
  | {
      type: "serverdata";
      protocol: number;
      servercount: number;
      gamedir: string;
      playernum: number;
      spectator: boolean;
      levelname: Buffer;
    }
  | { type: "print"; level: number; text: Buffer }
  | { type: "stufftext"; text: string }
  | { type: "soundlist"; next: number }
  /** `first` is the list's first name when the list starts at 0 (for models: the map, "maps/dm4.bsp"). */
  | { type: "modellist"; next: number; first?: string }
  | { type: "userinfo"; slot: number; userid: number; info: string }
  | { type: "setinfo"; slot: number; key: string; value: string }
  | { type: "disconnect" }
  /** Entities of one frame: the server only sends these to fully spawned clients. */
  | { type: "frame" };

export interface ParseResult {
  messages: ServerMessage[];
  /** Why parsing stopped early, if it did. */
  error?: string;
}

const PRINT_CHAT = 3;
export { PRINT_CHAT };

const TE = { gunshot: 2, blood: 12, lightning1: 5, lightning2: 6, lightning3: 9, lightningBlood: 13 } as const;

export function parseServerMessages(payload: Buffer): ParseResult {
  const r = new MsgReader(payload);
  const messages: ServerMessage[] = [];
  try {
    while (r.remaining > 0) {
      const cmd = r.byte();
      const m = parseOne(cmd, r);
      if (m === "unknown") return { messages, error: `unknown message type ${cmd}` };
      if (m) messages.push(m);
    }
  } catch (err) {
    if (err instanceof ShortMessage) return { messages, error: "message ended early" };
    throw err;
  }
  return { messages };
}

function parseOne(cmd: number, r: MsgReader): ServerMessage | undefined | "unknown" {
  switch (cmd) {
    case 1:
      return undefined; // nop
    case 2:
      return { type: "disconnect" };
    case 3:
      r.skip(2);
      return undefined; // updatestat
    case 6: {
      // sound
      const channel = r.ushort();
      if (channel & 0x8000) r.skip(1);
      if (channel & 0x4000) r.skip(1);
      r.skip(1 + 6);
      return undefined;
    }
    case 8:
      return { type: "print", level: r.byte(), text: r.bytes0() };
    case 9:
      return { type: "stufftext", text: r.string() };
    case 10:
      r.skip(3);
      return undefined; // setangle
    case 11: {
      const protocol = r.long();
      const servercount = r.long();
      const gamedir = r.string();
      const pn = r.byte();
      const levelname = r.bytes0();
      r.skip(40); // movevars
      return {
        type: "serverdata",
        protocol,
        servercount,
        gamedir,
        playernum: pn & 0x7f,
        spectator: (pn & 0x80) !== 0,
        levelname,
      };
    }
    case 12:
      r.skip(1);
      r.bytes0();
      return undefined; // lightstyle
    case 14:
      r.skip(3);
      return undefined; // updatefrags
    case 16:
      r.skip(2);
      return undefined; // stopsound
    case 19:
      r.skip(2 + 6);
      return undefined; // damage
    case 20:
      r.skip(4 + 9);
      return undefined; // spawnstatic
    case 22:
      r.skip(2 + 4 + 9);
      return undefined; // spawnbaseline
    case 23:
      tempEntity(r);
      return undefined;
    case 24:
      r.skip(1);
      return undefined; // setpause
    case 26:
      r.bytes0();
      return undefined; // centerprint
    case 27:
    case 28:
    case 33:
    case 34:
    case 35:
      return undefined; // killedmonster, foundsecret, sellscreen, kicks
    case 29:
      r.skip(6 + 3);
      return undefined; // spawnstaticsound
    case 30:
      r.skip(6 + 3);
      return undefined; // intermission
    case 31:
      r.bytes0();
      return undefined; // finale
    case 32:
      r.skip(1);
      return undefined; // cdtrack
    case 36:
      r.skip(3);
      return undefined; // updateping
    case 37:
      r.skip(5);
      return undefined; // updateentertime
    case 38:
      r.skip(5);
      return undefined; // updatestatlong
    case 39:
      r.skip(2);
      return undefined; // muzzleflash
    case 40:
      return { type: "userinfo", slot: r.byte(), userid: r.long(), info: r.string() };
    case 41: {
      // download
      const size = r.short();
      r.skip(1);
      if (size > 0) r.skip(size);
      return undefined;
    }
    case 42:
      playerInfo(r);
      return undefined;
    case 43:
      r.skip(r.byte() * 6);
      return undefined; // nails
    case 44:
      r.skip(1);
      return undefined; // chokecount
    case 45:
    case 46: {
      // modellist, soundlist
      const start = r.byte();
      let first: string | undefined;
      for (let name = r.string(); name.length > 0; name = r.string()) first ??= name;
      const next = r.byte();
      if (cmd === 46) return { type: "soundlist", next };
      return start === 0 && first !== undefined ? { type: "modellist", next, first } : { type: "modellist", next };
    }
    case 47:
      packetEntities(r);
      return { type: "frame" };
    case 48:
      r.skip(1);
      packetEntities(r);
      return { type: "frame" };
    case 49:
    case 50:
      r.skip(4);
      return undefined; // maxspeed, entgravity
    case 51:
      return { type: "setinfo", slot: r.byte(), key: r.string(), value: r.string() };
    case 52:
      r.bytes0();
      r.bytes0();
      return undefined; // serverinfo
    case 53:
      r.skip(2);
      return undefined; // updatepl
    case 54:
      r.skip(r.byte() * 7);
      return undefined; // nails2
    default:
      return "unknown";
  }
}

function tempEntity(r: MsgReader): void {
  const type = r.byte();
  if (type === TE.lightning1 || type === TE.lightning2 || type === TE.lightning3) r.skip(2 + 12);
  else if (type === TE.gunshot || type === TE.blood) r.skip(1 + 6);
  else r.skip(6);
}

function playerInfo(r: MsgReader): void {
  r.skip(1);
  const flags = r.ushort();
  r.skip(6 + 1);
  if (flags & (1 << 0)) r.skip(1); // msec
  if (flags & (1 << 1)) {
    // command, delta from a null usercmd
    const bits = r.byte();
    if (bits & (1 << 0)) r.skip(2);
    if (bits & (1 << 7)) r.skip(2);
    if (bits & (1 << 1)) r.skip(2);
    if (bits & (1 << 2)) r.skip(2);
    if (bits & (1 << 3)) r.skip(2);
    if (bits & (1 << 4)) r.skip(2);
    if (bits & (1 << 5)) r.skip(1);
    if (bits & (1 << 6)) r.skip(1);
    r.skip(1); // msec
  }
  for (let i = 0; i < 3; i++) if (flags & (1 << (2 + i))) r.skip(2); // velocity
  if (flags & (1 << 5)) r.skip(1); // model
  if (flags & (1 << 6)) r.skip(1); // skin
  if (flags & (1 << 7)) r.skip(1); // effects
  if (flags & (1 << 8)) r.skip(1); // weaponframe
}

function packetEntities(r: MsgReader): void {
  for (;;) {
    const word = r.ushort();
    if (word === 0) return;
    let bits = word & ~511;
    if (bits & (1 << 15)) bits |= r.byte();
    if (bits & (1 << 14)) continue; // remove
    if (bits & (1 << 2)) r.skip(1); // model
    if (bits & (1 << 13)) r.skip(1); // frame
    if (bits & (1 << 3)) r.skip(1); // colormap
    if (bits & (1 << 4)) r.skip(1); // skin
    if (bits & (1 << 5)) r.skip(1); // effects
    if (bits & (1 << 9)) r.skip(2); // origin1
    if (bits & (1 << 0)) r.skip(1); // angle1
    if (bits & (1 << 10)) r.skip(2);
    if (bits & (1 << 12)) r.skip(1); // angle2
    if (bits & (1 << 11)) r.skip(2);
    if (bits & (1 << 1)) r.skip(1); // angle3
  }
}
