/**
 * The event envelope: the one JSON message every part of bustle exchanges.
 * Building, validating and (de)serialising envelopes happens here and nowhere else.
 */
import { createHmac, randomBytes } from "node:crypto";
import { EnvelopeError, SubjectMismatch } from "./errors.js";
import {
  EVENT_SUBJECT_PREFIX,
  eventSubject,
  isKind,
  isLocalSource,
  isNodeId,
  isSource,
  parseEventSubject,
} from "./names.js";
import { isSafeText, safeText, MAX_TEXT_CHARS } from "./text.js";

export interface BustleEvent {
  v: 1;
  /** Unique and stable across retries; also the `Nats-Msg-Id` used for de-duplication. */
  id: string;
  /** ISO 8601 UTC with milliseconds. */
  ts: string;
  node: string;
  source: string;
  kind: string;
  /** The user or bot; `null` for anonymous events. */
  actor: string | null;
  /** The rendered sentence: one safe line, at most 400 characters. */
  text: string;
  data?: Record<string, unknown>;
}

export const EVENT_ID_RE = /^[A-Za-z0-9_-]{8,64}$/;
const ACTOR_RE = /^[A-Za-z0-9_.@-][A-Za-z0-9_.@ -]{0,63}$/;

/** A fresh random id, for events that are not derived from a durable position. */
export function newEventId(): string {
  return randomBytes(16).toString("base64url");
}

/**
 * An id derived from what makes an event unique at its origin (for a spool line: node, user,
 * file generation and byte offset), keyed with the node's secret id key. Re-reading the same
 * line after a crash yields the same id, so JetStream drops the copy; without the key nobody
 * can compute a line's id before it is published (and so take it first: JetStream would then
 * drop the real event as a duplicate).
 */
export function stableEventId(key: Uint8Array, ...parts: Array<string | number>): string {
  if (key.length < 16) throw new RangeError("an event id key needs at least 16 bytes");
  return createHmac("sha256", key).update(parts.join("\u0000")).digest("base64url").slice(0, 27);
}

export interface EventInit {
  node: string;
  source: string;
  kind: string;
  actor: string | null;
  text: string;
  id?: string;
  ts?: Date | string;
  data?: Record<string, unknown>;
}

/** Builds a valid envelope, sanitising `text`; throws EnvelopeError on bad names. */
export function makeEvent(init: EventInit): BustleEvent {
  const ts = init.ts instanceof Date ? init.ts.toISOString() : (init.ts ?? new Date().toISOString());
  const event: BustleEvent = {
    v: 1,
    id: init.id ?? newEventId(),
    ts,
    node: init.node,
    source: init.source,
    kind: init.kind,
    actor: init.actor,
    // Most texts arrive clean (a rendered spool line, a rule's sentence): the quick check spares
    // sanitizeText's four passes; isSafeText is true only where sanitizeText would change nothing.
    text: isSafeText(init.text, MAX_TEXT_CHARS) ? init.text : safeText(init.text),
  };
  if (init.data !== undefined) event.data = init.data;
  return validateEvent(event);
}

function fail(what: string): never {
  throw new EnvelopeError(`invalid event: ${what}`);
}

/**
 * Checks an untrusted value against the contract and returns it as an envelope (unknown
 * fields dropped). Throws EnvelopeError naming the first broken field.
 */
export function validateEvent(value: unknown): BustleEvent {
  return checkEvent(value, false);
}

/**
 * validateEvent's checks; `namesChecked`: node, source and kind are strings already known to
 * be valid tokens (they are those of a valid event subject), so their rules are not run again.
 */
function checkEvent(value: unknown, namesChecked: boolean): BustleEvent {
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail("not a JSON object");
  const o = value as Record<string, unknown>;
  if (o.v !== 1) fail(`unsupported version ${JSON.stringify(o.v)}`);
  if (typeof o.id !== "string" || !isEventId(o.id)) fail("id must be 8–64 characters of [A-Za-z0-9_-]");
  if (typeof o.ts !== "string" || !isIsoTimestamp(o.ts)) fail("ts must be an ISO 8601 UTC timestamp");
  if (!namesChecked) {
    if (!isNodeId(o.node)) fail("node is not a valid node id");
    if (!isSource(o.source)) fail("source is not a valid source");
    if (!isKind(o.kind)) fail("kind is not a valid kind");
  }
  if (o.actor !== null && (typeof o.actor !== "string" || !ACTOR_RE.test(o.actor)))
    fail("actor must be null or a plain name");
  if (typeof o.text !== "string" || o.text.length === 0) fail("text must be a non-empty string");
  if (!isSafeText(o.text, MAX_TEXT_CHARS))
    fail("text must be one line of at most 400 characters without control characters");
  if (o.data !== undefined && (typeof o.data !== "object" || o.data === null || Array.isArray(o.data)))
    fail("data must be an object");
  const event: BustleEvent = {
    v: 1,
    id: o.id,
    ts: o.ts,
    node: o.node as string,
    source: o.source as string,
    kind: o.kind as string,
    actor: o.actor as string | null,
    text: o.text,
  };
  if (o.data !== undefined) event.data = o.data as Record<string, unknown>;
  return event;
}

/** EVENT_ID_RE as a loop over a table (quicker than the expression; it runs on every event a consumer reads). */
const ID_UNITS = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") ID_UNITS[c.charCodeAt(0)] = 1;
function isEventId(s: string): boolean {
  const n = s.length;
  if (n < 8 || n > 64) return false;
  for (let i = 0; i < n; i++) if (ID_UNITS[s.charCodeAt(i)] !== 1) return false; // past 127: undefined
  return true;
}

const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;
/**
 * The date and hour (`YYYY-MM-DDTHH:`, hour 00–23) of the last timestamp Date.parse accepted.
 * Date.parse judges minutes and seconds (00–59) apart from the date and an hour below 24, so a
 * timestamp of the same hour needs only those two digits checked, not a parse: the events a
 * consumer reads in a row mostly share their hour.
 */
let acceptedHour = "";
const DIGIT_5 = 0x35;
function isIsoTimestamp(s: string): boolean {
  if (!ISO_UTC.test(s)) return false;
  if (acceptedHour !== "" && s.startsWith(acceptedHour))
    return s.charCodeAt(14) <= DIGIT_5 && s.charCodeAt(17) <= DIGIT_5;
  if (Number.isNaN(Date.parse(s))) return false;
  if (s.slice(11, 13) < "24") acceptedHour = s.slice(0, 14);
  return true;
}

/** The subject an event is published on. */
export const subjectOf = (e: BustleEvent): string => eventSubject(e);

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Each envelope's JSON text, made once: the relay journals an event and then publishes it, and
 * both use the same text. Envelopes are never changed once built (a changed event is a new
 * object: `{ ...e, id }`), so the text stays true; entries go with their envelope.
 */
const jsonTexts = new WeakMap<BustleEvent, string>();

/** The envelope as JSON text (the same characters every time for the same envelope object). */
export function eventJson(e: BustleEvent): string {
  let json = jsonTexts.get(e);
  if (json === undefined) {
    json = JSON.stringify(e);
    jsonTexts.set(e, json);
  }
  return json;
}

export function encodeEvent(e: BustleEvent): Uint8Array {
  // Buffer.from, not a TextEncoder: a third of the time on these short texts (one per event published).
  return Buffer.from(eventJson(e), "utf8");
}

/** Parses and validates a message payload; throws EnvelopeError on anything else. */
export function decodeEvent(data: Uint8Array): BustleEvent {
  return validateEvent(parsePayload(data));
}

function parsePayload(data: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(data));
  } catch {
    fail("payload is not UTF-8 JSON");
  }
}

/** Subjects parseEventSubject accepted (bounded: subjects are few, but a hostile stream may hold many). */
const validSubjects = new Set<string>();
const MAX_VALID_SUBJECTS = 4096;
function isValidSubject(subject: string): boolean {
  if (validSubjects.has(subject)) return true;
  if (!parseEventSubject(subject)) return false;
  if (validSubjects.size >= MAX_VALID_SUBJECTS) validSubjects.clear();
  validSubjects.add(subject);
  return true;
}

/**
 * What every consumer of the stream decodes a message with. The subject is the truth: the
 * server's permissions vouch for it (a node may publish only under `bustle.ev.<its id>.>`),
 * while the payload says whatever its publisher wrote. Throws SubjectMismatch when the payload's
 * node, source or kind differ from the subject's tokens, EnvelopeError when it is no envelope.
 */
export function decodeEventOn(subject: string, data: Uint8Array): BustleEvent {
  const o = parsePayload(data) as Partial<Record<"node" | "source" | "kind", unknown>> | null;
  // The usual case: the payload names the subject's own tokens, and the subject is a valid event
  // subject (so are its tokens); validation need not check them again. A token with a dot
  // cannot pass: a valid subject has exactly five tokens.
  if (
    typeof o?.node === "string" &&
    typeof o.source === "string" &&
    typeof o.kind === "string" &&
    subject === `${EVENT_SUBJECT_PREFIX}.${o.node}.${o.source}.${o.kind}` &&
    isValidSubject(subject)
  )
    return checkEvent(o, true);
  const e = validateEvent(o);
  // Validated tokens cannot contain dots, so one comparison checks all three.
  if (subject === `${EVENT_SUBJECT_PREFIX}.${e.node}.${e.source}.${e.kind}`) return e;
  const on = parseEventSubject(subject);
  if (!on) throw new SubjectMismatch(`event on ${JSON.stringify(subject)}, which is not an event subject`);
  const wrong = (["node", "source", "kind"] as const)
    .filter((k) => e[k] !== on[k])
    .map((k) => `${k} ${JSON.stringify(e[k])}`);
  throw new SubjectMismatch(`event on ${subject} claims ${wrong.join(", ")}`);
}

/**
 * The event's text as every reader sees it — in bustle.log, the feed, the portal and every
 * bot's `{text}`. An event from the node's own spool or file watcher reads as written (those
 * texts always start with `~user`, `someone` or an admin's ambient rule); anything else (a bot,
 * a portal token, relayed IRC or game chat, a program) starts with its origin, `[<source>] `,
 * so it can never pass for a local user's line. Applied by consumers, so a producer cannot skip
 * it; the same on every node, so logs stay byte-identical. At most 400 characters, like `text`.
 */
export function shownText(e: BustleEvent): string {
  if (isLocalSource(e.source)) return e.text;
  const shown = `[${e.source}] ${e.text}`;
  return shown.length <= MAX_TEXT_CHARS ? shown : safeText(shown, MAX_TEXT_CHARS);
}

/** The envelope as handed to readers outside bustle (the portal, programs): `text` as shown. */
export const shownEvent = (e: BustleEvent): BustleEvent => (isLocalSource(e.source) ? e : { ...e, text: shownText(e) });

/** The bustle.log line for an event: `<ts> <node id> <text as shown>\n`. */
export function logLine(e: BustleEvent): string {
  return `${e.ts} ${e.node} ${shownText(e)}\n`;
}
