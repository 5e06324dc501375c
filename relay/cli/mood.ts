/**
 * What kind of line the animated feed is showing, read from its text alone (the feed needs no
 * index for this, and a wrong guess only changes how a line looks, never what it says):
 * a shout, the ambient hum of file activity, something relayed from elsewhere (a bot's origin tag:
 * chat, game, portal), or a plain update.
 */
export type Mood = "shout" | "hum" | "relayed" | "update";

/** The default ambient sentences (relay/ambient rules); custom rules simply read as updates. */
const HUM = /(?: just added to their | just created a new file$| is moving around in their | rattling sound in )/;
const SHOUT = / shouts, '.*'$/;
const ORIGIN = /^\[[a-z0-9][a-z0-9-]*\] /;

export function moodOf(text: string): Mood {
  if (ORIGIN.test(text)) return "relayed";
  if (SHOUT.test(text)) return "shout";
  if (HUM.test(text)) return "hum";
  return "update";
}

/** How a line of each mood arrives: typing time per character and its cap, and whether it is typed word by word. */
export interface Arrival {
  msPerChar: number;
  maxMs: number;
  byWord: boolean;
}

export const ARRIVALS: Readonly<Record<Mood, Arrival>> = {
  shout: { msPerChar: 3, maxMs: 160, byWord: false }, // bursts in
  hum: { msPerChar: 14, maxMs: 700, byWord: false }, // drifts in, dim
  relayed: { msPerChar: 10, maxMs: 520, byWord: true }, // arrives like chat, a word at a time
  update: { msPerChar: 8, maxMs: 420, byWord: false },
};
