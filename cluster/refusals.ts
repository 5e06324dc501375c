/**
 * The server's "Permissions Violation" notices, turned into what a user can act on. nats.js
 * reports a refused publish only on the connection's status stream (the request that caused
 * it just times out), so a program that wants a clear answer listens there.
 */
import { PermissionViolationError, type NatsConnection } from "@nats-io/transport-node";
import { BustleError } from "./errors.js";

/** NATS refused this credential an operation on a subject. */
export class PermissionDenied extends BustleError {
  constructor(readonly user: string | undefined, readonly operation: string, readonly subject: string, hint = "") {
    super(`NATS refused ${user === undefined ? "this connection (no user)" : `user ${JSON.stringify(user)}`} permission to ${operation === "subscription" ? "subscribe to" : "publish to"} ${JSON.stringify(subject)}${hint ? `: ${hint}` : ""}`);
  }
}

/** Calls `on` for every refusal the server reports on `nc`, until the connection closes. */
export function onRefusal(nc: NatsConnection, on: (err: PermissionViolationError) => void): void {
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "error" && s.error instanceof PermissionViolationError) on(s.error);
    }
  })();
}
