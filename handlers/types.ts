/** What a handler is, and what it is given. */

import type { RequestHeader } from "../protocol/header.ts";
import type { ApiCodec } from "../protocol/frame.ts";
import type { BrokerContext } from "../broker/context.ts";
import type { SecurityProtocol } from "../broker/security_config.ts";
import type { SaslSession } from "../broker/sasl/session.ts";

export type { ApiCodec } from "../protocol/frame.ts";
export type { BrokerContext } from "../broker/context.ts";

/** Per-connection facts a handler may need. */
export interface ConnectionInfo {
  /** The address the client reached us on: the default advertised address. */
  localHost: string;
  localPort: number;
  remote: string;
  /** The client's address alone (ACL host matching). */
  remoteHost: string;
  /** The listener the client came in on (its name is its security protocol). */
  listenerName: string;
  securityProtocol: SecurityProtocol;
  /**
   * Who the client is (KIP-11): `User:ANONYMOUS` on PLAINTEXT, the client
   * certificate's subject on SSL with client authentication, the SASL user
   * once authenticated.
   */
  principal: string;
  /** The SASL exchange and session on SASL_PLAINTEXT and SASL_SSL listeners; null elsewhere. */
  sasl: SaslSession | null;
  /**
   * Produce requests on one connection reach the flush buffer in arrival order
   * even when their topic lookups take different times: each waits for this.
   */
  produceOrder: Promise<void>;
}

/** Everything a handler is given besides the request. */
export interface RequestContext {
  broker: BrokerContext;
  header: RequestHeader;
  apiVersion: number;
  connection: ConnectionInfo;
  /** Every handler this broker serves, by API key (ApiVersions answers from it). */
  handlers: ReadonlyMap<number, Handler>;
}

/**
 * A handler: the API it serves, the versions it serves (declared once, here:
 * ApiVersions advertises exactly this range and the connection loop accepts
 * exactly it), and the function.
 */
export interface Handler<Req = unknown, Resp = unknown> {
  api: ApiCodec<Req, Resp>;
  minVersion: number;
  maxVersion: number;
  /** Returns the response, or null when none is sent (Produce with acks=0). */
  handle(request: Req, ctx: RequestContext): Promise<Resp | null>;
  /**
   * About how many bytes the response's frame takes, for answers that carry
   * record sets: the frame is then allocated once at that size rather than
   * grown by doubling (a 1 MiB Fetch answer would otherwise be copied into
   * a 2 MiB buffer). An estimate: the frame still grows if it is short.
   */
  responseBytes?(response: Resp): number;
}

/** Declares a handler with its types inferred from the codec. */
export function defineHandler<Req, Resp>(h: Handler<Req, Resp>): Handler {
  return h as unknown as Handler;
}
