/**
 * ApiVersions (key 18), versions 0-4. Lists every API in the handler table
 * with the versions its handler serves, so what we advertise is exactly what
 * we serve. A client asking in a version newer than ours gets
 * UNSUPPORTED_VERSION in a v0 body with our list, and retries (KIP-511).
 * From v3 the tagged fields carry the feature levels (KIP-584) of
 * broker/features.ts: every feature's supported range, and, as Kafka does,
 * only the finalized features whose level is above 0.
 */

import { API_VERSIONS_API, type ApiVersionsResponse } from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { FEATURES, FINALIZED_FEATURES_EPOCH } from "../broker/features.ts";
import type { Writer } from "../protocol/writer.ts";
import { defineHandler, type Handler } from "./types.ts";

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

/** Writes the v0 body sent when the client's ApiVersions version is too new for us. */
export function apiVersionsFallback(w: Writer, handlers: ReadonlyMap<number, Handler>): void {
  API_VERSIONS_API.encodeResponse(w, listing(handlers, ErrorCode.UNSUPPORTED_VERSION), 0);
}

export const apiVersions = defineHandler({
  api: API_VERSIONS_API,
  minVersion: 0,
  maxVersion: 4,
  handle(_req, ctx) {
    return Promise.resolve(listing(ctx.handlers, ErrorCode.NONE));
  },
});
