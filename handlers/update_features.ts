/**
 * UpdateFeatures (key 57), versions 0-2 (KIP-584; upgrade types and
 * validate-only KIP-778): asks to change finalized feature levels. Levels here
 * come with the broker's release (broker/features.ts) and brokers keep no
 * state that could hold others, so an update to the level a feature already
 * has succeeds (with or without validate-only) and any other level fails the
 * whole request with INVALID_UPDATE_VERSION, naming the feature and the levels
 * we support, as Kafka fails levels it cannot run at. Kafka's checks and their
 * order are kept: an unknown upgrade type, a level below 0, an unknown
 * feature. v0's allow-downgrade flag means a safe downgrade. v0-1 answer one
 * result per update when all succeed and none when one fails; v2 has only the
 * top-level error.
 */

import {
  UPDATE_FEATURES_API,
  type UpdateFeaturesRequestFeature,
  type UpdateFeaturesResponse,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { feature } from "../broker/features.ts";
import { AclOperation, allowedCluster } from "./_authorize.ts";
import { defineHandler } from "./types.ts";

/** Upgrade types (KIP-778): 1 upgrade, 2 safe downgrade, 3 unsafe downgrade. */
const UPGRADE = 1;
const SAFE_DOWNGRADE = 2;
const UNSAFE_DOWNGRADE = 3;

/** Why an update cannot be made, or null when it asks for the level we have. */
function refusal(u: UpdateFeaturesRequestFeature, upgradeType: number): string | null {
  const f = feature(u.feature);
  const level = u.maxVersionLevel;
  const invalid = `Invalid update version ${level} for feature ${u.feature}.`;
  if (upgradeType < UPGRADE || upgradeType > UNSAFE_DOWNGRADE) {
    return `${invalid} The broker does not support upgrade type ${upgradeType}; use 1 (upgrade), 2 (safe downgrade) or 3 (unsafe downgrade).`;
  }
  if (level < 0) return `${invalid} A feature version cannot be less than 0.`;
  if (!f) return `${invalid} This broker does not support this feature.`;
  if (level === f.level) return null;
  const range = f.minVersion === f.maxVersion
    ? `only version ${f.minVersion}`
    : `versions ${f.minVersion}-${f.maxVersion}`;
  return `${invalid} This broker supports ${range} and keeps ${u.feature} finalized at ${f.level}: levels come with the broker's release, since brokers here keep no state to change them.`;
}

export const updateFeatures = defineHandler({
  api: UPDATE_FEATURES_API,
  minVersion: 0,
  maxVersion: 2,
  handle(req, ctx): Promise<UpdateFeaturesResponse> {
    if (!allowedCluster(ctx, AclOperation.ALTER)) {
      return Promise.resolve({
        throttleTimeMs: 0,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: "Cluster authorization failed.",
        results: [],
      });
    }
    for (const u of req.featureUpdates) {
      // v0 has no upgrade type: allowDowngrade asks for a (safe) downgrade.
      const upgradeType = ctx.apiVersion === 0
        ? (u.allowDowngrade ? SAFE_DOWNGRADE : UPGRADE)
        : u.upgradeType;
      const why = refusal(u, upgradeType);
      if (why !== null) {
        return Promise.resolve({
          throttleTimeMs: 0,
          errorCode: ErrorCode.INVALID_UPDATE_VERSION,
          errorMessage:
            `The update failed for all features since the following feature had an error: ${why}`,
          results: [],
        });
      }
    }
    // Nothing changes, so validate-only and a real update answer alike.
    return Promise.resolve({
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      // Kafka names each success by its error's name.
      results: req.featureUpdates.map((u) => ({
        feature: u.feature,
        errorCode: ErrorCode.NONE,
        errorMessage: "NONE",
      })),
    });
  },
});
