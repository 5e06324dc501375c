/**
 * Who may do what on the bus. Three roles, each a user in the BUSTLE account:
 *
 * - `<id>` (a node's relay): publish its own events under `bustle.ev.<id>.>`, create the BUSTLE
 *   stream when it is absent, follow it. It cannot update, purge or delete it.
 * - `<id>.control` (a node's control server and its bot hosts; only nodes declared with a
 *   control server get one): publish its bots' events, read both KV buckets, and write only the
 *   keys of the bots the federation lets it run (`$KV.bustle-leases.<bot>`,
 *   `$KV.bustle-bots.pos.<bot>`, `$KV.bustle-bots.admin.<bot>`); steer and answer only those
 *   bots on `bustle.ctl.bot.<bot>`. A bot it may not run is one it can neither take nor halt.
 *   It may only read and watch the federation's bots config (`bustle-config`), never write it.
 * - `admin` (the core servers' operators; its password lives in DIR/admin/, never in a node's
 *   folder): stream and KV administration (create, update, purge, delete) and steering any bot;
 *   it may publish under `bustle.ev.admin.>` (withdrawals of any node's event). It alone
 *   creates and writes the bots config bucket (`bustle-control apply`, `rollback`).
 *
 * Everyone receives replies only on their own `_INBOX.<id>.>`, so nobody reads another's replies.
 * The JetStream API subjects are the ones nats.js v3 uses for what each program does (checked
 * against nats-server 2.9.10 by test/federation/permissions.test.ts and roles.test.ts).
 */
import {
  BOTS_BUCKET,
  CONFIG_BUCKET,
  CONTROL_STATUS_SUBJECT,
  CONTROL_SUBJECT_PREFIX,
  EVENT_SUBJECT_PREFIX,
  LEASE_BUCKET,
  STREAM_NAME,
  ADMIN_ID,
  adminKey,
  botControlSubject,
  leaseKey,
  nodeSubjects,
  positionKey,
} from "./names.js";

export interface Permissions {
  publish: string[];
  subscribe: string[];
  /** May answer a request it received (publish once to its reply subject, whoever's inbox). */
  allowResponses?: boolean;
}

/** The account every bustle user lives in (JetStream enabled for it). */
export const ACCOUNT = "BUSTLE";

/** KV buckets the control servers write (their own bots' keys). Their streams are `KV_<bucket>`. */
export const CONTROL_BUCKETS = [LEASE_BUCKET, BOTS_BUCKET] as const;

/**
 * The bots config bucket, as every control server sees it: read and watch (an ordered consumer),
 * no CREATE (a member must not make it with settings of its own) and no `$KV.bustle-config.>`.
 */
const configReadApi = (): string[] => streamApi(`KV_${CONFIG_BUCKET}`, false);

export const relayUser = (id: string): string => id;
export const controlUser = (id: string): string => `${id}.control`;
export const adminUser = (): string => ADMIN_ID;
/** The inbox prefix a node's programs must use (`connectBus({ inboxPrefix })`). */
export const inboxPrefix = (id: string): string => `_INBOX.${id}`;

/** The KV keys one bot's holder writes: its lease, its stream position, its admin flags. */
export const botKeySubjects = (bot: string): string[] => [
  `$KV.${LEASE_BUCKET}.${leaseKey(bot)}`,
  `$KV.${BOTS_BUCKET}.${positionKey(bot)}`,
  `$KV.${BOTS_BUCKET}.${adminKey(bot)}`,
];

/**
 * Read, follow and (when absent) create one stream: what ensureStream, a KV open and an ordered
 * consumer need. `STREAM.CREATE` of an existing stream with another config is refused by the
 * server, so it cannot change anything; UPDATE, PURGE and DELETE are the admin's.
 */
function streamApi(stream: string, create: boolean, update = false): string[] {
  return [
    `$JS.API.STREAM.INFO.${stream}`,
    ...(create ? [`$JS.API.STREAM.CREATE.${stream}`] : []),
    ...(update ? [`$JS.API.STREAM.UPDATE.${stream}`] : []),
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

/**
 * The relay: publish its own events, create the BUSTLE stream if it is absent, follow it.
 * `updateStream` only for a single node's embedded server, where the relay applies node.yaml's
 * stream limits itself (no other node shares the stream).
 */
export function relayPermissions(id: string, o: { updateStream?: boolean } = {}): Permissions {
  return {
    publish: [nodeSubjects(id), "$JS.API.INFO", ...streamApi(STREAM_NAME, true, o.updateStream)],
    subscribe: [`${inboxPrefix(id)}.>`, "bustle.ev.>"],
  };
}

/**
 * A control server and its bot hosts on node `id`, allowed to run `bots`: their events, the
 * buckets (read; create when absent), those bots' keys, the status request, and those bots'
 * command subjects (to answer as holder, and to steer them from this node's CLI). `"any"`:
 * every bot, for a single node's embedded server, where no other node's bots exist.
 */
export function controlPermissions(id: string, bots: readonly string[] | "any"): Permissions {
  if (bots === "any") {
    return {
      publish: [
        nodeSubjects(id),
        "$JS.API.INFO",
        ...streamApi(STREAM_NAME, false),
        ...CONTROL_BUCKETS.flatMap((b) => [...streamApi(`KV_${b}`, true), `$KV.${b}.>`]),
        ...configReadApi(),
        `${CONTROL_SUBJECT_PREFIX}.>`,
      ],
      subscribe: [`${inboxPrefix(id)}.>`, `${CONTROL_SUBJECT_PREFIX}.>`],
      allowResponses: true,
    };
  }
  const kv = CONTROL_BUCKETS.flatMap((b) => streamApi(`KV_${b}`, true));
  return {
    publish: [
      ...bots.map((b) => `${EVENT_SUBJECT_PREFIX}.${id}.${b}.>`),
      "$JS.API.INFO",
      ...streamApi(STREAM_NAME, false),
      ...kv,
      ...configReadApi(),
      ...bots.flatMap(botKeySubjects),
      CONTROL_STATUS_SUBJECT,
      ...bots.map(botControlSubject),
    ],
    subscribe: [`${inboxPrefix(id)}.>`, CONTROL_STATUS_SUBJECT, ...bots.map(botControlSubject)],
    // A control server answers `bustle.ctl.*` requests from other nodes' control commands.
    allowResponses: true,
  };
}

/** The federation's admin: every JetStream and KV operation, and steering any bot. */
export function adminPermissions(): Permissions {
  return {
    // bustle.ev.admin.>: the federation admin's withdrawals (cluster/withdraw.ts), honoured for any node's event.
    publish: [
      "$JS.API.>",
      "$KV.>",
      "$JS.ACK.>",
      `${CONTROL_SUBJECT_PREFIX}.>`,
      `${EVENT_SUBJECT_PREFIX}.${ADMIN_ID}.>`,
    ],
    subscribe: [`${inboxPrefix(ADMIN_ID)}.>`, "bustle.ev.>"],
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

/** The bot whose key or command subject `subject` is (a refusal there means this node may not run it). */
export function botOfSubject(subject: string): string | undefined {
  const m = new RegExp(
    `^(?:\\$KV\\.${LEASE_BUCKET}\\.|\\$KV\\.${BOTS_BUCKET}\\.(?:pos|admin)\\.|${CONTROL_SUBJECT_PREFIX.replace(".", "\\.")}\\.bot\\.)([^.]+)$`,
  ).exec(subject);
  return m?.[1];
}
