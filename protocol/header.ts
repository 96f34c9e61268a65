/**
 * Request and response headers. Requests use header v1 (classic) or v2
 * (flexible, KIP-482); responses use v0 or v1. The client id stays a classic
 * nullable string even in header v2.
 */

import type { Reader } from "./reader.ts";
import type { Writer } from "./writer.ts";

/** The fields every request starts with. */
export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

/** Reads a request header; `flexible` says whether tagged fields follow (header v2). */
export function decodeRequestHeaderPrefix(r: Reader): RequestHeader {
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  const clientId = r.nullableString();
  return { apiKey, apiVersion, correlationId, clientId };
}

/** Writes a request header (for tests and the benchmark's tools). */
export function encodeRequestHeader(w: Writer, h: RequestHeader, flexible: boolean): void {
  w.int16(h.apiKey);
  w.int16(h.apiVersion);
  w.int32(h.correlationId);
  w.nullableString(h.clientId);
  if (flexible) w.uvarint(0);
}

/** Writes a response header: the correlation id, then (v1) an empty tagged-field section. */
export function encodeResponseHeader(w: Writer, correlationId: number, flexible: boolean): void {
  w.int32(correlationId);
  if (flexible) w.uvarint(0);
}
