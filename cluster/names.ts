/**
 * The naming rules of the contract: node ids, kinds, sources and the subjects built from them.
 * This is the only place these rules are written down.
 */
import { EnvelopeError } from "./errors.js";

export const NODE_ID_RE = /^[a-z0-9][a-z0-9-]{0,31}$/;
export const KIND_RE = /^[a-z][a-z0-9-]{0,31}$/;
/** A source is `spool`, `fs` or a bot id; bot ids follow the node-id rule (they are subject tokens). */
export const SOURCE_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** The id the federation's admin credential uses (user and inbox); no node may take it. */
export const ADMIN_ID = "admin";

export const STREAM_NAME = "BUSTLE";
export const EVENT_SUBJECT_PREFIX = "bustle.ev";
export const ALL_EVENTS = `${EVENT_SUBJECT_PREFIX}.>`;
/** Subjects the control servers use to steer bots (request/reply). */
export const CONTROL_SUBJECT_PREFIX = "bustle.ctl";
/** Every control server answers this request with the bots it holds. */
export const CONTROL_STATUS_SUBJECT = `${CONTROL_SUBJECT_PREFIX}.status`;
/** Only a bot's holder answers here; only the admin and the nodes that may run the bot may ask. */
export const botControlSubject = (bot: string): string => `${CONTROL_SUBJECT_PREFIX}.bot.${bot}`;

/**
 * The control servers' KV buckets and keys. Every key a bot's holder writes has the bot id as
 * its last token, so the federation's permissions can give each node exactly its bots' keys.
 */
export const LEASE_BUCKET = "bustle-leases";
export const BOTS_BUCKET = "bustle-bots";
export const leaseKey = (bot: string): string => bot;
export const positionKey = (bot: string): string => `pos.${bot}`;
export const adminKey = (bot: string): string => `admin.${bot}`;
/**
 * The federation's bots config (`bustle-control apply`): one key with history, written only by
 * the admin, read (watched) by every control server.
 */
export const CONFIG_BUCKET = "bustle-config";
export const BOTS_CONFIG_KEY = "bots";

/**
 * The sources that are a node's own users: its spools and its file watcher. Events from any
 * other source (bots) show their origin; no bot may take one of these as its id.
 */
export const LOCAL_SOURCES: readonly string[] = ["spool", "fs"];
export const isLocalSource = (s: string): boolean => LOCAL_SOURCES.includes(s);

export const isNodeId = (s: unknown): s is string => typeof s === "string" && NODE_ID_RE.test(s);
export const isKind = (s: unknown): s is string => typeof s === "string" && KIND_RE.test(s);
export const isSource = (s: unknown): s is string => typeof s === "string" && SOURCE_RE.test(s);

export interface EventSubject {
  node: string;
  source: string;
  kind: string;
}

/** `bustle.ev.<node>.<source>.<kind>`, refusing any token that breaks the rules. */
export function eventSubject({ node, source, kind }: EventSubject): string {
  if (!isNodeId(node)) throw new EnvelopeError(`bad node id ${JSON.stringify(node)}: must match ${NODE_ID_RE}`);
  if (!isSource(source)) throw new EnvelopeError(`bad source ${JSON.stringify(source)}: must match ${SOURCE_RE}`);
  if (!isKind(kind)) throw new EnvelopeError(`bad kind ${JSON.stringify(kind)}: must match ${KIND_RE}`);
  return `${EVENT_SUBJECT_PREFIX}.${node}.${source}.${kind}`;
}

/** The subject filter for everything one node may publish: `bustle.ev.<node>.>`. */
export function nodeSubjects(node: string): string {
  if (!isNodeId(node)) throw new EnvelopeError(`bad node id ${JSON.stringify(node)}: must match ${NODE_ID_RE}`);
  return `${EVENT_SUBJECT_PREFIX}.${node}.>`;
}

/** Splits an event subject into its tokens, or returns undefined when it is not one. */
export function parseEventSubject(subject: string): EventSubject | undefined {
  const parts = subject.split(".");
  if (parts.length !== 5 || `${parts[0]}.${parts[1]}` !== EVENT_SUBJECT_PREFIX) return undefined;
  const [, , node, source, kind] = parts as [string, string, string, string, string];
  if (!isNodeId(node) || !isSource(source) || !isKind(kind)) return undefined;
  return { node, source, kind };
}
