/**
 * ApiVersions (key 18), versions 0-5. Lists every API in the handler table
 * with the versions its handler serves, so what we advertise is exactly what
 * we serve. A client asking in a version newer than ours gets
 * UNSUPPORTED_VERSION in a v0 body with our list, and retries (KIP-511).
 * From v3 the tagged fields carry the feature levels (KIP-584) of
 * broker/features.ts: every feature's supported range, and, as Kafka does,
 * only the finalized features whose level is above 0.
 *
 * v5 (KIP-1242) may name the cluster and node the client means to reach; a
 * client that names one without the other is INVALID_REQUEST, and one whose
 * names are not ours REBOOTSTRAP_REQUIRED, both with an empty list, as Kafka
 * 4.4 answers. Behind a load balancer every broker has the shared node id
 * (config.nodeId) and the cluster id of the stores, so a client that reaches
 * another broker at the same address matches it too.
 */

import {
  API_VERSIONS_API,
  type ApiVersionsRequest,
  type ApiVersionsResponse,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { FEATURES, FINALIZED_FEATURES_EPOCH } from "../broker/features.ts";
import type { Writer } from "../protocol/writer.ts";
import { defineHandler, type Handler, type RequestContext } from "./types.ts";

/** API key of ApiVersions, whose responses always use header v0. */
export const API_VERSIONS_KEY = API_VERSIONS_API.apiKey;

function listing(handlers: ReadonlyMap<number, Handler>, errorCode: number): ApiVersionsResponse {
  const apiKeys = [...handlers.values()]
    .map((h) => ({ apiKey: h.api.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion }))
    .sort((a, b) => a.apiKey - b.apiKey);
  return {
    errorCode,
    apiKeys,
    throttleTimeMs: 0,
    supportedFeatures: FEATURES.map((f) => ({
      name: f.name,
      minVersion: f.minVersion,
      maxVersion: f.maxVersion,
    })),
    finalizedFeaturesEpoch: FINALIZED_FEATURES_EPOCH,
    finalizedFeatures: FEATURES.filter((f) => f.level > 0)
      .map((f) => ({ name: f.name, maxVersionLevel: f.level, minVersionLevel: f.level })),
    zkMigrationReady: false,
  };
}

/** An error answer: no APIs, no features. */
function refusal(errorCode: number): ApiVersionsResponse {
  return {
    errorCode,
    apiKeys: [],
    throttleTimeMs: 0,
    supportedFeatures: [],
    finalizedFeaturesEpoch: -1,
    finalizedFeatures: [],
    zkMigrationReady: false,
  };
}

/** v5 (KIP-1242): why the client should not talk to this broker, or NONE. */
function expectedNodeError(req: ApiVersionsRequest, ctx: RequestContext): number {
  const named = req.clusterId !== null;
  if (named !== (req.nodeId !== -1)) return ErrorCode.INVALID_REQUEST;
  if (!named) return ErrorCode.NONE;
  const ours = req.clusterId === ctx.broker.clusterId && req.nodeId === ctx.broker.config.nodeId;
  return ours ? ErrorCode.NONE : ErrorCode.REBOOTSTRAP_REQUIRED;
}

/** Writes the v0 body sent when the client's ApiVersions version is too new for us. */
export function apiVersionsFallback(w: Writer, handlers: ReadonlyMap<number, Handler>): void {
  API_VERSIONS_API.encodeResponse(w, listing(handlers, ErrorCode.UNSUPPORTED_VERSION), 0);
}

export const apiVersions = defineHandler({
  api: API_VERSIONS_API,
  minVersion: 0,
  maxVersion: 5,
  handle(req, ctx) {
    const refused = ctx.apiVersion >= 5 ? expectedNodeError(req, ctx) : ErrorCode.NONE;
    if (refused !== ErrorCode.NONE) return Promise.resolve(refusal(refused));
    return Promise.resolve(listing(ctx.handlers, ErrorCode.NONE));
  },
});
