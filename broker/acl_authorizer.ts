/**
 * Builds the broker's authorizer from `--authorizer` (KIP-11): none allows
 * everything; acl checks the ACLs kept in the meta store.
 */

import type { MetaStore } from "../stores/types.ts";
import type { SecurityConfig } from "./security_config.ts";
import { ALLOW_ALL, type Authorizer } from "./authorizer.ts";

export function createAuthorizer(
  _meta: MetaStore,
  security: SecurityConfig,
  _closing: AbortSignal,
): Authorizer {
  if (security.authorizer === "none") return ALLOW_ALL;
  throw new Error("--authorizer acl is not available yet");
}
