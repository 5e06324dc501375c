/**
 * Named errors for the failures users meet. Expected errors reach the user as one line
 * (`err.message`); anything else is a bug and gets its stack trace.
 */
export class BustleError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A configuration file or flag is wrong. The message names the file, line and key path. */
export class ConfigError extends BustleError {
  constructor(
    message: string,
    readonly problems: readonly string[] = [message],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An event envelope, subject or name broke the contract's rules. */
export class EnvelopeError extends BustleError {}

/** A stream message whose payload claims another node, source or kind than its subject says. */
export class SubjectMismatch extends EnvelopeError {}

/** The NATS servers could not be reached (or refused us). */
export class NatsUnavailable extends BustleError {}

/** A local nats-server process could not be started or did not become ready. */
export class ServerStartError extends BustleError {}

/** True for errors whose message is meant for the user as it is. */
export function isExpectedError(err: unknown): err is BustleError {
  return err instanceof BustleError;
}
