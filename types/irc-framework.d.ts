/**
 * The small part of irc-framework 4.14 that bustle uses (the package ships no types).
 * Events are listed loosely: handlers receive plain objects, checked by the code that uses them.
 */
declare module "irc-framework" {
  import { EventEmitter } from "node:events";

  export interface ClientOptions {
    host: string;
    port: number;
    nick: string;
    username?: string;
    gecos?: string;
    tls?: boolean;
    rejectUnauthorized?: boolean;
    password?: string;
    account?: { account: string; password: string };
    sasl_disconnect_on_fail?: boolean;
    /** `null` stops the library answering CTCP VERSION on its own (outside our send queue). */
    version?: string | null;
    auto_reconnect?: boolean;
    ping_interval?: number;
    ping_timeout?: number;
    message_max_length?: number;
    encoding?: string;
    client_certificate?: { private_key: string; certificate: string };
    /** A transport class; bustle passes its own to add a CA bundle for TLS. */
    transport?: unknown;
    [extra: string]: unknown;
  }

  export interface MessageEvent {
    nick: string;
    ident?: string;
    hostname?: string;
    target: string;
    message: string;
    from_server?: boolean;
    type?: string;
  }

  export class Client extends EventEmitter {
    constructor(options?: Partial<ClientOptions>);
    options: ClientOptions;
    user: { nick: string; username: string; host?: string };
    connected: boolean;
    connection: { connected: boolean; end(data?: string | null, hadError?: boolean): void };
    network: { name?: string; options: Record<string, unknown>; supports(key: string): unknown };
    connect(options?: ClientOptions): void;
    raw(...args: Array<string | number>): void;
    quit(message?: string): void;
    changeNick(nick: string): void;
    say(target: string, message: string): void;
    join(channel: string, key?: string): void;
    caseCompare(a: string, b: string): boolean;
    caseLower(s: string): string;
  }

  /** The library's TCP/TLS transport (src/transports/net.js), which bustle subclasses. */
  export const NetTransport: unknown;
}
