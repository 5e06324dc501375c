/**
 * The server's "Permissions Violation" notices, turned into what a user can act on. nats.js
 * reports a refused publish only on the connection's status stream (the request that caused
 * it just times out), so a program that wants a clear answer listens there.
 */
import { PermissionViolationError, type NatsConnection } from "@nats-io/transport-node";
import { BustleError } from "./errors.js";

/** NATS refused this credential an operation on a subject. */
export class PermissionDenied extends BustleError {
  constructor(
    readonly user: string | undefined,
    readonly operation: string,
    readonly subject: string,
    hint = "",
  ) {
    super(
      `NATS refused ${user === undefined ? "this connection (no user)" : `user ${JSON.stringify(user)}`} permission to ${operation === "subscription" ? "subscribe to" : "publish to"} ${JSON.stringify(subject)}${hint ? `: ${hint}` : ""}`,
    );
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

/**
 * `work`, or PermissionDenied (with `hint`) as soon as the server refuses `user` anything on
 * `nc` meanwhile: a refused request otherwise only times out.
 */
export async function refusedOr<T>(
  nc: NatsConnection,
  user: string | undefined,
  hint: (subject: string) => string,
  work: Promise<T>,
): Promise<T> {
  let fail: ((err: PermissionDenied) => void) | undefined;
  const refused = new Promise<never>((_, reject) => (fail = reject));
  onRefusal(nc, (e) => fail?.(new PermissionDenied(user, e.operation, e.subject, hint(e.subject))));
  try {
    return await Promise.race([work, refused]);
  } catch (err) {
    // nats.js may also fail the request itself with the refusal.
    const pv = [err, (err as Error)?.cause].find((e) => e instanceof PermissionViolationError) as
      | PermissionViolationError
      | undefined;
    throw pv ? new PermissionDenied(user, pv.operation, pv.subject, hint(pv.subject)) : err;
  } finally {
    fail = undefined;
  }
}
