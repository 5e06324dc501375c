/**
 * Who may do what on the bus. Every node gets two users in the BUSTLE account: `<id>` for its
 * relay and `<id>.control` for its control server and bot hosts. Both may publish events only
 * under `bustle.ev.<id>.>` and receive replies only on `_INBOX.<id>.>` (the relay's inbox prefix),
 * so one node's credentials can neither forge another node's events nor read its replies.
 * The JetStream API subjects are the ones nats.js v3 uses for what each program does (checked
 * against nats-server 2.9.10 by test/federation/permissions.test.ts).
 */
import { CONTROL_SUBJECT_PREFIX, STREAM_NAME, nodeSubjects } from "../names.js";

export interface Permissions {
  publish: string[];
  subscribe: string[];
  /** May answer a request it received (publish once to its reply subject, whoever's inbox). */
  allowResponses?: boolean;
}

/** The account every bustle user lives in (JetStream enabled for it). */
export const ACCOUNT = "BUSTLE";

/** KV buckets the control servers use (leases, bot state). Their streams are `KV_<bucket>`. */
export const CONTROL_BUCKETS = ["bustle-leases", "bustle-bots"] as const;

export const relayUser = (id: string): string => id;
export const controlUser = (id: string): string => `${id}.control`;
/** The inbox prefix a node's programs must use (`connectBus({ inboxPrefix })`). */
export const inboxPrefix = (id: string): string => `_INBOX.${id}`;

/** Read, create and follow one stream: what an ensureStream + ordered consumer needs. */
function streamApi(stream: string, manage: boolean): string[] {
  return [
    `$JS.API.STREAM.INFO.${stream}`,
    ...(manage ? [`$JS.API.STREAM.CREATE.${stream}`, `$JS.API.STREAM.UPDATE.${stream}`] : []),
    `$JS.API.STREAM.MSG.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}.>`,
    // Ordered consumers: created (2.9 filtered form has two more tokens), fetched from, deleted.
    `$JS.API.CONSUMER.CREATE.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.INFO.${stream}.>`,
    `$JS.API.CONSUMER.DELETE.${stream}.>`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.>`,
  ];
}

/** The relay: publish its own events, keep the BUSTLE stream, follow it. */
export function relayPermissions(id: string): Permissions {
  return {
    publish: [nodeSubjects(id), "$JS.API.INFO", ...streamApi(STREAM_NAME, true)],
    subscribe: [`${inboxPrefix(id)}.>`, "bustle.ev.>"],
  };
}

/**
 * The control server and its bot hosts: everything the relay may do, plus the control
 * request subjects, and the KV buckets used for leases (create, read, write, watch).
 */
export function controlPermissions(id: string, buckets: readonly string[] = CONTROL_BUCKETS): Permissions {
  const relay = relayPermissions(id);
  const kv = buckets.flatMap((b) => [
    ...streamApi(`KV_${b}`, true),
    `$KV.${b}.>`,
    `$JS.API.STREAM.PURGE.KV_${b}`,
    `$JS.ACK.KV_${b}.>`,
  ]);
  return {
    publish: [...relay.publish, `${CONTROL_SUBJECT_PREFIX}.>`, ...kv],
    subscribe: [...relay.subscribe, `${CONTROL_SUBJECT_PREFIX}.>`, ...buckets.map((b) => `$KV.${b}.>`)],
    // A control server answers `bustle.ctl.*` requests from other nodes' control commands.
    allowResponses: true,
  };
}

const q = (s: string) => JSON.stringify(s);

/** The permissions block of a user in nats-server.conf syntax. */
export function renderPermissions(p: Permissions, indent: string): string {
  const list = (xs: string[]) => xs.map((x) => `${indent}    ${q(x)}`).join("\n");
  return [
    `${indent}permissions: {`,
    `${indent}  publish: { allow: [`,
    list(p.publish),
    `${indent}  ] }`,
    `${indent}  subscribe: { allow: [`,
    list(p.subscribe),
    `${indent}  ] }`,
    ...(p.allowResponses ? [`${indent}  allow_responses: true`] : []),
    `${indent}}`,
  ].join("\n");
}
